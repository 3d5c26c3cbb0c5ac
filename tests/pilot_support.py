"""Pilot steps the studio tests share: typing text and waiting for the late-built screens."""

from __future__ import annotations


async def views_ready(pilot) -> None:
    """The non-initial screens are mounted just after the first paint; wait for them."""
    for _ in range(100):
        if len(pilot.app.query("#datasets-view, #models-view, #train-view")) == 3:
            return
        await pilot.pause(0.05)
    raise AssertionError("the screens were never built")


async def type_text(pilot, text: str) -> None:
    """Press each character's key, as a person types (newlines as Enter)."""
    for char in text:
        await pilot.press("enter" if char == "\n" else "space" if char == " " else char)


async def write_song(pilot, title: str, lyrics: str) -> None:
    """Type a title into the Write screen's title field, then lyrics into the editor."""
    await pilot.click("#song-title")
    await type_text(pilot, title)
    await pilot.click("#editor")
    await type_text(pilot, lyrics)


async def press_resume(app, pilot):
    """On the Train screen, ask to resume the selected run; the dialog's answer field."""
    from textual.widgets import DataTable, Input

    from smartlap.tui.dialogs import PromptScreen

    await views_ready(pilot)
    await pilot.press("f4")
    app.query_one("#runs-table", DataTable).focus()
    await pilot.press("u")
    await pilot.pause()
    assert isinstance(app.screen, PromptScreen)
    return app.screen.query_one("#answer", Input)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text lines (the top screen, dialogs included)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
