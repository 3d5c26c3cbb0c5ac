"""Fault matrix, the studio's side (issue 20): damaged entries are flagged beside the lists
that still show the rest, seeds are range-checked in the forms, a reused pid ends a run in
the worker pane, and a song's title is cleaned as it is typed, saved under any name, and a
save that fails says so and keeps the text."""

from __future__ import annotations

import subprocess
import time

import pytest
from pilot_support import type_text, views_ready, write_song
from test_faults_process import _import, _model, _run_with
from textual.widgets import DataTable, Input, Static, TextArea

from smartlap import limits
from smartlap.store import processes, runs, songbook
from smartlap.tui.app import make_app
from smartlap.tui.settings_dialog import SettingsDialog
from smartlap.tui.widgets.worker_pane import WorkerPane
from smartlap.tui.write import WriteView

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _damage_dataset() -> None:
    _import("goed")
    info = _import("kapot") / "dataset.json"
    info.write_bytes(info.read_bytes()[:30])


def _damage_model() -> None:
    _model("goed")
    _model("kapot", meta=b'{"link": 5}')


def _damage_run() -> None:
    _run_with({"pid": None}, run_id="20261204-000000-goed")
    bad = runs.runs_dir() / "20261204-010000-kapot"
    bad.mkdir()
    (bad / runs.RUN_FILE).write_text('{"id": "20261204-010000-kapot", "crea')


# tab -> (damage, table id, note id, the rows the table must still show)
TABS = {
    "datasets": (_damage_dataset, "#datasets-table", "#datasets-damaged", {"demo", "goed"}),
    "models": (_damage_model, "#models-view DataTable", "#models-damaged", {"goed"}),
    "train": (_damage_run, "#runs-table", "#runs-damaged", {"20261204-000000-goed"}),
}


@pytest.mark.parametrize("tab", list(TABS))
async def test_a_damaged_entry_is_flagged_and_the_rest_listed(tab: str) -> None:
    damage, table_id, note_id, rows = TABS[tab]
    damage()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.2)
        table = app.query_one(table_id, DataTable)
        assert rows <= {str(key.value) for key in table.rows}
        assert not any("kapot" in str(key.value) for key in table.rows)
        note = app.query_one(note_id, Static)
        assert note.has_class("-shown") and note.display
        text = str(note.render())
        assert "kapot" in text and "damaged" in text
        assert app.is_running


async def test_without_damage_the_note_stays_hidden() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.2)
        for note_id in ("#datasets-damaged", "#models-damaged", "#runs-damaged"):
            assert not app.query_one(note_id, Static).display


async def test_the_settings_dialog_range_checks_the_seed() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await pilot.press("f9")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SettingsDialog)
        seed = dialog.query_one("#seed", Input)
        seed.value = str(limits.SEED_MAX + 1)
        await pilot.pause()
        assert str(limits.SEED_MAX) in str(dialog.query_one("#seed-error", Static).render())
        await pilot.press("ctrl+s")
        assert app.screen is dialog  # refused: the dialog stays, the error is shown
        seed.value = str(limits.SEED_MAX)
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not dialog and view.controls.seed == limits.SEED_MAX


async def test_the_train_form_range_checks_the_seed() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        seed = app.query_one("#train-seed", Input)
        seed.value = str(2**70)
        await pilot.pause()
        assert str(limits.SEED_MAX) in str(app.query_one("#train-seed-error", Static).render())
        assert app.query_one("#train-view").build_argv() is None


async def test_the_worker_pane_ends_a_run_whose_pid_went_to_another_program() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.05)
        record = processes.describe(sleeper.pid).to_dict()
        record["started"] -= 3600  # the run's process started an hour before this one
        run_id = _run_with({"pid": sleeper.pid, "process": record})
        app = make_app(poll_interval=0.05)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(WorkerPane)
            for _ in range(60):  # the pane checks processes every two seconds
                await pilot.pause(0.1)
                if run_id in pane.runs and pane.runs[run_id].status == "interrupted":
                    break
            assert pane.runs[run_id].status == "interrupted"
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


async def _saved(app, pilot) -> None:
    await pilot.pause(1.2)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_lone_surrogate_in_the_title_is_cleaned_as_it_comes_in() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        title = app.query_one("#song-title", Input)
        title.value = "Moeder \udc80 lief"  # pasted from a terminal that split a character
        await pilot.pause()
        assert title.value == "Moeder \ufffd lief"
        await pilot.click("#editor")
        await type_text(pilot, "de kroeg")
        await _saved(app, pilot)
        await type_text(pilot, " is dicht")
        await _saved(app, pilot)
    [song] = songbook.list_songs()
    assert song.title == "Moeder \ufffd lief" and song.lyrics == "de kroeg is dicht"


async def test_a_reserved_name_is_a_title_like_any_other() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await write_song(pilot, "Nul", "nul komma nul")
        await _saved(app, pilot)
        assert "nul-song.md" in str(app.query_one("#write-status", Static).render())
    assert songbook.open_song("nul-song").title == "Nul"


async def test_a_save_that_fails_says_so_and_keeps_the_text(monkeypatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await write_song(pilot, "Haven", "een")
        await _saved(app, pilot)

        def broken(song, **kwargs):
            raise UnicodeEncodeError("utf-8", "\udc80", 0, 1, "surrogates not allowed")
        monkeypatch.setattr(songbook, "save_song", broken)
        await type_text(pilot, " twee")
        await _saved(app, pilot)
        status = str(app.query_one("#write-status", Static).render())
        assert "Not saved" in status and "surrogates not allowed" in status
        assert any("Could not save" in n.message for n in app._notifications)
        assert app.query_one("#editor", TextArea).text == "een twee"
        monkeypatch.undo()  # the disk is fine again: the next edit saves everything
        await type_text(pilot, " drie")
        await _saved(app, pilot)
    assert songbook.open_song("haven").lyrics == "een twee drie"

