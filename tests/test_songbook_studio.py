"""The songbook through the studio: no song is ever overwritten by another, and history restores."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, TextArea

from smartlap.store import songbook
from smartlap.tui.app import make_app
from smartlap.tui.write import WriteView

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _type(pilot, text: str) -> None:
    for char in text:
        await pilot.press("enter" if char == "\n" else "space" if char == " " else char)


async def _write_song(app, pilot, title: str, lyrics: str) -> None:
    await pilot.click("#song-title")
    await _type(pilot, title)
    await pilot.click("#editor")
    await _type(pilot, lyrics)


async def test_ctrl_n_after_a_save_starts_a_new_file(smartlap_home: Path) -> None:
    """The reported loss: Lied A saved, Ctrl+N, Lied B typed -> lied-a.md held B."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _write_song(app, pilot, "Lied A", "eerste lied")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await _write_song(app, pilot, "Lied B", "tweede lied")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
    songs = {s.slug: (s.title, s.lyrics) for s in songbook.list_songs()}
    assert songs == {"lied-a": ("Lied A", "eerste lied"), "lied-b": ("Lied B", "tweede lied")}


async def test_ctrl_n_within_the_autosave_pause_keeps_both_songs(smartlap_home: Path) -> None:
    """Ctrl+N before the autosave fired (and before its save came back) loses nothing."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _write_song(app, pilot, "Lied A", "eerste")
        await pilot.press("ctrl+n")
        await _write_song(app, pilot, "Lied B", "tweede")
        await pilot.press("ctrl+n")
        await _write_song(app, pilot, "Lied C", "derde")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
    songs = {s.title: s.lyrics for s in songbook.list_songs()}
    assert songs == {"Lied A": "eerste", "Lied B": "tweede", "Lied C": "derde"}


async def test_retitling_a_song_never_writes_into_another_songs_file(
        smartlap_home: Path) -> None:
    """Giving song B the title of song A keeps A's file as it was."""
    first = songbook.new_song("Lied A", "van A")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await _write_song(app, pilot, "Lied B", "van B")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        title = app.query_one("#song-title", Input)
        title.value = "Lied A"
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert songbook.open_song(first.slug).lyrics == "van A"
    assert sorted(s.lyrics for s in songbook.list_songs()) == ["van A", "van B"]


async def test_an_earlier_version_is_restored_from_the_songbook_dialog(
        smartlap_home: Path) -> None:
    song = songbook.new_song("Haven", "eerste versie")
    songbook.save_song(songbook.BookSong(**{**song.__dict__, "lyrics": "kapot"}),
                       force_version=True)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        view = app.query_one(WriteView)
        assert app.query_one("#editor", TextArea).text == "kapot"
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("h")  # the highlighted song's history
        await pilot.pause()
        versions = app.screen.query_one("#versions", OptionList)
        assert versions.option_count >= 1
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.query_one("#editor", TextArea).text == "eerste versie"
        assert view.song is not None and view.song.slug == song.slug
        await app.workers.wait_for_complete()
    assert songbook.open_song(song.slug).lyrics == "eerste versie"
