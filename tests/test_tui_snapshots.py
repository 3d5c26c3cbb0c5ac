"""Snapshots of every studio screen at 100x30 on fixed data (no clocks, no varying paths).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``;
docs/img/ holds copies of these SVGs for the user guide.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_support import views_ready
from textual.widgets import TextArea

from smartlap import events
from smartlap.fsutil import append_jsonl, atomic_write_json
from smartlap.store import songbook
from smartlap.tui.app import make_app

SIZE = (100, 30)
T0 = 1795300000.0


@pytest.fixture
def fixed_home(smartlap_home: Path) -> Path:
    """A song, and a finished two-epoch run with losses, memory and a sample."""
    song = songbook.new_song("Het kleine café", "In de kroeg op de hoek brandt nog licht,\n"
                             "moeder wacht met de deur niet dicht.\n\nDe haven is stil en de "
                             "boten zijn weg,\nik sta aan de kade en weet wat ik zeg.")
    text = song.path.read_text(encoding="utf-8")
    text = text.replace(song.created, "2026-11-21T22:00:00+00:00").replace(
        song.updated, "2026-11-21T22:00:00+00:00")
    song.path.write_text(text, encoding="utf-8")
    run = smartlap_home / "runs" / "20261121-220000-abcd"
    run.mkdir(parents=True)
    atomic_write_json(run / "run.json", {"id": run.name, "created": "2026-11-21T22:00:00+00:00",
                                         "config": {"model": "tiny", "dataset": "liedjes",
                                                    "epochs": 3},
                                         "pid": None, "status": "running"})
    lines = [
        events.RunStarted(time=T0, run_id=run.name, config={"epochs": 3}, model="tiny",
                          dataset="liedjes", device="cpu", params=100_000),
        events.EpochEnd(time=T0 + 10, epoch=1, train_loss=4.2, val_loss=4.4, perplexity=81.5,
                        seconds=10, memory={"device": "cpu", "rss_mb": 612.0}, epochs=3,
                        tokens_per_s=950.0, eta_seconds=20),
        events.Sample(time=T0 + 11, epoch=1, prompt="p", text="de kroeg is leeg\nhet licht"),
        events.EpochEnd(time=T0 + 20, epoch=2, train_loss=3.1, val_loss=3.6, perplexity=36.6,
                        seconds=10, memory={"device": "cpu", "rss_mb": 640.0}, epochs=3,
                        tokens_per_s=990.0, eta_seconds=10),
        events.Sample(time=T0 + 21, epoch=2, prompt="p", text="mijn moeder zong\nin de Jordaan"),
        events.RunCancelled(time=T0 + 25, epoch=2),
    ]
    for event in lines:
        append_jsonl(run / "events.jsonl", event.to_dict())
    return smartlap_home


async def _hide_cursor(pilot) -> None:
    """No text cursor in the picture: whether it shows depends on when focus lands and where
    its blink is, a race on a loaded machine. Wait for the editor's focus (a late focus
    restarts the blink), then stop the blink with the cursor hidden."""
    editor = pilot.app.screen.query("#editor")
    for _ in range(40):
        if not editor or editor.first().has_focus or pilot.app.focused is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = True  # drawn then only while _cursor_visible, which stays False:
        area._pause_blink(visible=False)
        area._watch_has_focus = lambda focus: None  # a focus landing later cannot show it
    await pilot.pause()


async def _settle(pilot) -> None:
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("key", ["f1", "f2", "f3", "f4"])
def test_screen_snapshot(snap_compare, fixed_home: Path, key: str) -> None:
    async def before(pilot) -> None:
        for _ in range(100):  # the other screens are built just after the first paint
            if len(pilot.app.query("#datasets-view, #models-view, #train-view")) == 3:
                break
            await pilot.pause(0.05)
        await pilot.press(key)
        await _settle(pilot)
        await _hide_cursor(pilot)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)



def test_songbook_versions_snapshot(snap_compare, fixed_home: Path) -> None:
    """The songbook's version list (h on a song): when, title, lines, first line."""
    history = songbook.history_dir("het-kleine-cafe")
    history.mkdir(parents=True)
    (history / "20261121T215500000000Z.md").write_text(
        '---\ntitle: "Het kleine café"\n---\nIn de kroeg op de hoek brandt nog licht,\n',
        encoding="utf-8")
    (history / "20261121T215000000000Z.md").write_text(
        '---\ntitle: "Kroeglied"\n---\nEen eerste regel\nen een tweede\n', encoding="utf-8")

    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("h")
        await _settle(pilot)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_write_wraps_long_lines_snapshot(snap_compare, smartlap_home: Path) -> None:
    """A line longer than the editor wraps; its count and letter stay on its first row."""
    long_line = ("En als de avond valt en alle lichtjes in de straten van de oude stad "
                 "weer branden, denk ik aan jou")
    songbook.new_song("Lange regels", f"{long_line}\nik mis je zo, mijn lief, mijn hart\n"
                      "en zoek je nu in elke straat\n")

    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("f1")  # the Write screen, its editor focused
        await _settle(pilot)
        await _hide_cursor(pilot)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_write_dims_chordpro_snapshot(snap_compare, smartlap_home: Path) -> None:
    """ChordPro chords and directives drawn quietly; the gutter counts only sung words."""
    songbook.new_song("Kroeg", "{title: Kroeg}\n{soc}\n[Am]In de [C]kroeg op de [G7]hoek\n"
                      "brandt nog [F]licht voor [C/G]ons\n{eoc}\n")

    async def before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("f1")
        await _settle(pilot)
        await _hide_cursor(pilot)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_help_snapshot(snap_compare, fixed_home: Path) -> None:
    """F6 on the Train screen: its keys first, in a songwriter's words."""
    async def before(pilot) -> None:
        await views_ready(pilot)
        await pilot.press("f4")
        await _settle(pilot)
        await pilot.press("f6")
        await _settle(pilot)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=before)


def test_models_details_at_120_columns_snapshot(snap_compare, fixed_home: Path) -> None:
    """Below 150 columns the details sit under the table: settings and tables read in full."""
    async def before(pilot) -> None:
        await views_ready(pilot)
        await pilot.press("f3")
        await pilot.press("f5")  # the runs pane folded, so more of the details show
        await _settle(pilot)
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=before)
