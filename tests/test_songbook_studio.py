"""The songbook through the studio: no song is ever overwritten by another, and history restores."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_support import views_ready, write_song
from textual.widgets import Input, OptionList, TextArea

from smartlap.store import songbook
from smartlap.tui.app import make_app
from smartlap.tui.write import WriteView

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_ctrl_n_after_a_save_starts_a_new_file(smartlap_home: Path) -> None:
    """The reported loss: Lied A saved, Ctrl+N, Lied B typed -> lied-a.md held B."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await write_song(pilot, "Lied A", "eerste lied")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await write_song(pilot, "Lied B", "tweede lied")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        await pilot.pause()
    songs = {s.slug: (s.title, s.lyrics) for s in songbook.list_songs()}
    assert songs == {"lied-a": ("Lied A", "eerste lied"), "lied-b": ("Lied B", "tweede lied")}


async def test_ctrl_n_within_the_autosave_pause_keeps_both_songs(smartlap_home: Path) -> None:
    """Ctrl+N before the autosave fired (and before its save came back) loses nothing."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await write_song(pilot, "Lied A", "eerste")
        await pilot.press("ctrl+n")
        await write_song(pilot, "Lied B", "tweede")
        await pilot.press("ctrl+n")
        await write_song(pilot, "Lied C", "derde")
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
        await write_song(pilot, "Lied B", "van B")
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


# -- lists that follow the data home ------------------------------------------------------------


async def _until(pilot, condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the studio never showed the change")


def _select_values(app, selector: str) -> list[str]:
    from textual.widgets import Select

    return [str(value) for _, value in app.query_one(selector, Select)._options]


def _table_keys(app, selector: str) -> list[str]:
    from textual.widgets import DataTable

    return [str(key.value) for key in app.query_one(selector, DataTable).rows]


async def test_a_dataset_imported_elsewhere_appears_in_datasets_and_train(
        smartlap_home: Path, tmp_path: Path) -> None:
    from textual.widgets import Select

    from smartlap.store.datasets import import_dataset

    app = make_app(store_poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.2)
        app.query_one("#train-dataset", Select).value = "demo"
        source = tmp_path / "liedjes.txt"
        source.write_text("Lied een\n\nIn de kroeg op de hoek brandt nog licht\nmoeder wacht "
                          "met de deur niet dicht\nde haven is stil en de boten zijn weg\n"
                          "ik sta aan de kade en weet wat ik zeg\n", encoding="utf-8")
        import_dataset(source, name="liedjes", fmt="auto")  # as `smartlap datasets import` would
        await _until(pilot, lambda: "liedjes" in _select_values(app, "#train-dataset"))
        await _until(pilot, lambda: "liedjes" in _table_keys(app, "#datasets-view DataTable"))
        assert app.query_one("#train-dataset", Select).value == "demo"  # the choice stays


async def test_a_model_added_elsewhere_appears_in_models_write_and_train(
        smartlap_home: Path, tiny_gpt2_dir: Path) -> None:
    from smartlap.store.models import register_model

    app = make_app(store_poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.2)
        register_model(tiny_gpt2_dir, name="vers")  # as a finished run or `models add` would
        await _until(pilot, lambda: "vers" in _table_keys(app, "#models-view DataTable"))
        await _until(pilot, lambda: "vers" in _select_values(app, "#song-model"))
        await _until(pilot, lambda: "vers" in _select_values(app, "#train-model"))


async def test_a_run_started_elsewhere_appears_in_the_train_screen(smartlap_home: Path) -> None:
    from smartlap.fsutil import atomic_write_json

    app = make_app(store_poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.2)
        run = smartlap_home / "runs" / "20261203-100000-beef"
        run.mkdir(parents=True)
        atomic_write_json(run / "run.json", {"id": run.name, "created": "2026-12-03T10:00:00",
                                             "config": {"model": "m", "dataset": "d",
                                                        "epochs": 2},
                                             "pid": None, "status": "running"})
        await _until(pilot, lambda: run.name in _table_keys(app, "#runs-table"))
