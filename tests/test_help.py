"""The songwriter's help: F6, ? and the palette open it, Escape closes it, it names every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pilot_support import screen_text, type_text, views_ready
from textual.widgets import HelpPanel, TextArea

from smartlap.tui.app import SmartlapApp, StudioFooter, make_app
from smartlap.tui.datasets import DatasetsView
from smartlap.tui.help import EVERYWHERE, SECTIONS, HelpScreen, help_markdown
from smartlap.tui.models import ModelsView
from smartlap.tui.train import RunsTable, TrainView
from smartlap.tui.write import WriteView

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


NAMED = {"escape": "Escape", "enter": "Enter", "delete": "Delete", "space": "Space"}


def _shown(key: str) -> str:
    """A binding's key as the help writes it: 'ctrl+g' → 'Ctrl+G', 'f9' → 'F9'."""
    if key.startswith("ctrl+"):
        return "Ctrl+" + key.removeprefix("ctrl+").upper()
    if key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return NAMED.get(key, key)


def _key_cells(markdown: str) -> set[str]:
    """Every key named in the first column of the Markdown's key tables."""
    keys: set[str] = set()
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| key "):
            keys.update(re.split(r"\s+(?:or|·|/)\s+|\s+", line.split("|")[1].strip()))
    return keys


@pytest.mark.parametrize(("tab", "bindings"), [
    ("write", WriteView.BINDINGS), ("datasets", DatasetsView.BINDINGS),
    ("models", ModelsView.BINDINGS), ("train", [*TrainView.BINDINGS, *RunsTable.BINDINGS]),
    ("everywhere", SmartlapApp.BINDINGS)])
def test_every_key_a_screen_binds_is_in_its_help_section(tab: str, bindings: list) -> None:
    section = EVERYWHERE if tab == "everywhere" else SECTIONS[tab]
    named = _key_cells(section)
    for binding in bindings:
        for key in binding.key.split(","):
            shown = "?" if key == "question_mark" else _shown(key)
            assert shown in named, (tab, key, sorted(named))


def test_the_help_starts_with_the_screen_it_was_opened_on() -> None:
    assert help_markdown("train").startswith(SECTIONS["train"])
    assert help_markdown(None).startswith(EVERYWHERE)


async def test_f6_opens_the_help_on_the_screen_shown_and_escape_closes_it(
        smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.first == "models"
        text = screen_text(app)
        assert "Models — the voices that suggest" in text and "pull a Dutch GPT-2" in text
        assert not app.screen.query(HelpPanel)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.query_one("#tabs").active == "models"


async def test_question_mark_opens_help_where_nothing_is_typed_and_types_in_the_editor(
        smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.click("#editor")
        await type_text(pilot, "waarom?")
        assert app.query_one("#editor", TextArea).text == "waarom?"
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f2")  # the datasets table has the focus: nothing takes '?'
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen.first == "datasets"
        await pilot.press("question_mark")  # the same key closes it
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_the_palette_finds_help_and_offers_no_generic_keys_panel(
        smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        assert "Keys" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("ctrl+p")
        await type_text(pilot, "help")
        await pilot.pause(0.5)
        await pilot.press("enter")
        for _ in range(20):
            await pilot.pause(0.1)
            if isinstance(app.screen, HelpScreen):
                break
        assert isinstance(app.screen, HelpScreen) and app.screen.first == "write"
        assert "Write — your song" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        app.action_show_help_panel()  # whatever asks for Textual's panel gets this help
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_the_footer_shows_help_first_on_every_screen(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        for key in ("f1", "f2", "f3", "f4"):
            await pilot.press(key)
            await pilot.pause()
            footer = app.query_one(StudioFooter)
            line = screen_text(app).splitlines()[-1]
            assert line.lstrip().startswith("f6 Help"), key
            assert line.rstrip().endswith("^p palette"), line  # nothing peeks out beside it
            assert footer.children[0].description == "Help"
