"""Promises the studio keeps while a run trains, in Models' details and in its dialogs.

Memory and ETA from a run's first steps, the sample with its prompt, the Train screen's line
that follows the run it started, details that read at 120 columns, questions that wrap, and
an import path that Tab completes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pilot_support import press_resume, screen_text, type_text, views_ready
from textual.geometry import Region
from textual.widgets import Input, Label, Select

from smartlap import events
from smartlap.store import runs
from smartlap.store.run_summary import RunSummary
from smartlap.tui.app import make_app
from smartlap.tui.datasets import ImportDialog
from smartlap.tui.models import STACK_BELOW, ModelsView
from smartlap.tui.widgets.worker_pane import WorkerPane
from smartlap.units import format_duration, format_memory

SIZE = (100, 30)
pytestmark = pytest.mark.anyio
CPU = {"device": "cpu", "rss_mb": 812.0, "peak_rss_mb": 900.0, "system_mb": 15872.0}
GPU = {"device": "cuda", "rss_mb": 2048.0, "allocated_mb": 3072.0, "reserved_mb": 4096.0,
       "peak_mb": 3500.0, "total_mb": 12288.0}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _started(run_id: str, epochs: int = 2) -> events.RunStarted:
    return events.RunStarted(run_id=run_id, config={"epochs": epochs}, model="tiny",
                             dataset="demo", device="cpu", params=1000, pid=os.getpid())


def _step(step: int, memory: dict | None, eta: float | None) -> events.Step:
    return events.Step(epoch=1, step=step, loss=3.25, lr=1e-4, tokens_per_s=950.0,
                       total_steps=10, memory=memory, eta_seconds=eta)


def _new_run(epochs: int = 2) -> str:
    run_id = runs.create_run({"model": "tiny", "dataset": "demo", "epochs": epochs},
                             pid=os.getpid()).name
    runs.append_event(run_id, _started(run_id, epochs))
    return run_id


# -- pure parts -------------------------------------------------------------------------------

def test_durations_and_memory_read_the_same_everywhere() -> None:
    assert [format_duration(s) for s in (None, -1, 0, 45, 185, 3720)] == [
        "–", "–", "0s", "45s", "3m05s", "1h02m"]
    assert format_memory({}) == "memory –"
    assert format_memory(CPU) == "RAM 812 MB of 15.5 GB"
    assert format_memory(GPU) == "GPU 3.0/4.0/12.0 GB · RAM 2.0 GB"


def test_steps_carry_memory_and_eta_into_the_run_state() -> None:
    state = RunSummary("r1")
    state.apply(_started("r1"))
    state.apply(_step(1, CPU, 185.0))
    assert state.memory == events.MemorySnapshot.from_dict(CPU) and state.eta_seconds == 185.0
    state.apply(_step(2, None, None))  # a log written before steps carried them
    assert state.memory == events.MemorySnapshot.from_dict(CPU) and state.eta_seconds == 185.0


# -- the worker pane ----------------------------------------------------------------------------

async def test_the_pane_shows_memory_and_eta_from_the_first_step_and_the_samples_prompt(
        smartlap_home: Path) -> None:
    run_id = _new_run()
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        pane = app.query_one(WorkerPane)
        assert "memory –" in pane.query_one("#wp-memory").render().plain
        runs.append_event(run_id, _step(1, GPU, 185.0))
        await pilot.pause(0.3)
        assert "GPU 3.0/4.0/12.0 GB · RAM 2.0 GB" in pane.query_one("#wp-memory").render().plain
        speed = str(pane.query_one("#wp-speed").render())
        assert "ETA 3m05s" in speed and "step loss 3.250" in speed
        runs.append_event(run_id, events.Sample(epoch=1, prompt="In de kroeg\nop de hoek",
                                                text=" brandt nog licht\nmoeder wacht"))
        await pilot.pause(0.3)
        sample = str(pane.query_one("#wp-sample").render())
        assert "prompt “In de kroeg / op de hoek”" in sample
        assert "→ brandt nog licht / moeder wacht" in sample
        runs.append_event(run_id, events.Sample(epoch=2, prompt="", text="een lied"))
        await pilot.pause(0.3)
        assert "prompt (none)" in str(pane.query_one("#wp-sample").render())


# -- the Train screen ---------------------------------------------------------------------------

async def test_the_started_line_follows_the_run_and_is_replaced_when_it_ends(
        smartlap_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    def start(argv: list[str], run_id: str | None = None) -> str:
        started.append(_new_run())
        return started[-1]

    monkeypatch.setattr(runs, "start_run_process", start)
    app = make_app(poll_interval=0.05)
    handed_on: list[str] = []
    forward = type(app).on_run_events_arrived
    monkeypatch.setattr(type(app), "on_run_events_arrived",
                        lambda self, message: (handed_on.append(message.run_id),
                                               forward(self, message)))
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f4")
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        status = app.query_one("#train-status")
        run_id = started[0]
        runs.append_event(run_id, _step(3, CPU, 65.0))
        await pilot.pause(0.3)
        line = str(status.render())
        assert line.startswith(f"{run_id}: epoch 1/2 · step 3/10 · ETA 1m05s · RAM 812 MB")
        runs.append_event(run_id, events.RunFinished(model="tiny-demo", best_epoch=2,
                                                     seconds=130.0))
        await pilot.pause(0.3)
        line = str(status.render())
        assert line == f"{run_id} finished in 2m10s: saved as tiny-demo."
        assert "Started" not in line and "follow" not in line
        seen = len(handed_on)  # the Train screen stops what the app hands on: no echo
        await pilot.pause(0.3)
        assert 3 <= seen == len(handed_on) and set(handed_on) == {run_id}


async def test_the_resume_question_wraps_instead_of_being_cut(
        smartlap_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = runs.create_run({"model": "tiny", "dataset": "demo", "epochs": 2}).name
    runs.append_event(run_id, _started(run_id))
    runs.append_event(run_id, events.RunCancelled(epoch=1, resumable=True))
    (runs.run_path(run_id) / runs.STATE_DIR).mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_resume(app, pilot)
        question = app.screen.query_one(".dialog-question", Label)
        assert question.size.height >= 2  # wrapped
        shown = " ".join("".join(segment.text for segment in strip).strip()
                         for strip in question.render_lines(Region(0, 0, *question.size)))
        assert shown == f"Resume {run_id}: epochs in total (0 of 2 trained)"


# -- Models' details ------------------------------------------------------------------------------

async def test_models_details_stack_below_the_table_when_narrow_and_read_in_full(
        smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        await pilot.pause(0.5)
        view = app.query_one(ModelsView)
        assert view.has_class("-stacked")
        text = screen_text(app)
        for heading in ("Time (min)", "Memory (MB)", "Loss (Avg)", "Perplexity", "Train loss",
                        "Tokens/s"):
            assert heading in text, heading
        assert "learning rate 0.002" in text and "batch 4 × 256 tokens" in text
        await pilot.resize_terminal(STACK_BELOW + 10, 50)
        await pilot.pause(0.5)
        assert not view.has_class("-stacked")
        text = screen_text(app)
        assert "Memory (MB)" in text and "Time (min)" in text


# -- the import dialog --------------------------------------------------------------------------

async def test_tab_completes_the_import_path_and_a_partial_name_is_no_error(
        smartlap_home: Path, tmp_path: Path) -> None:
    (tmp_path / "liedjes.csv").write_text("title,lyrics\nA,la\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f2")
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)
        field = app.screen.query_one("#import-path", Input)
        note = app.screen.query_one("#import-path-error")
        await type_text(pilot, f"{tmp_path}/lied")
        await pilot.pause()
        assert "no such file" not in str(note.render())
        assert "Tab or → completes: liedjes.csv" in str(note.render()) and note.has_class("-hint")
        await pilot.press("tab")
        assert field.value == f"{tmp_path}/liedjes.csv" and field.has_focus
        assert str(note.render()) == ""
        await pilot.press("tab")  # nothing more to complete: Tab moves on
        assert app.screen.query_one("#import-format", Select).has_focus
        field.focus()
        field.value = f"{tmp_path}/li"
        field.cursor_position = len(field.value)
        await pilot.pause(0.2)
        await pilot.press("right")
        assert field.value == f"{tmp_path}/liedjes.csv"
        field.value = f"{tmp_path}/zz"
        await pilot.pause()
        assert "no such file or folder" in str(note.render()) and not note.has_class("-hint")
