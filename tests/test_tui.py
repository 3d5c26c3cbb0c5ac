"""The studio, driven through Textual's Pilot on real files and tiny models."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pilot_support import press_resume, type_text, views_ready, write_song
from textual.widgets import DataTable, Input, TextArea

from smartlap import events
from smartlap.errors import ModelError
from smartlap.fsutil import append_jsonl, atomic_write_json
from smartlap.store import songbook
from smartlap.store.run_summary import RunSummary
from smartlap.tui.app import make_app
from smartlap.tui.dialogs import MarkdownScreen
from smartlap.tui.messages import GenerationEnded, TokensArrived
from smartlap.tui.widgets.loss_chart import draw
from smartlap.tui.widgets.memory_meter import meter
from smartlap.tui.widgets.worker_pane import WorkerPane
from smartlap.tui.write import GenerationBackend, WriteView

SIZE = (100, 30)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _write_run(home: Path, run_id: str, lines: list[events.Event], pid: int | None = None) -> Path:
    run = home / "runs" / run_id
    run.mkdir(parents=True)
    atomic_write_json(run / "run.json", {"id": run_id, "created": "2026-11-21T22:00:00+00:00",
                                         "config": {"epochs": 2}, "pid": pid,
                                         "status": "running"})
    for event in lines:
        append_jsonl(run / "events.jsonl", event.to_dict())
    return run / "events.jsonl"


def _started(run_id: str = "r1") -> events.RunStarted:
    return events.RunStarted(run_id=run_id, config={"epochs": 2}, model="tiny",
                             dataset="demo", device="cpu", params=1000, pid=os.getpid())


def _epoch(n: int, train: float, val: float) -> events.EpochEnd:
    return events.EpochEnd(epoch=n, train_loss=train, val_loss=val, perplexity=2.0,
                           seconds=1.0, memory={"device": "cpu", "rss_mb": 512.0},
                           epochs=2, tokens_per_s=321.0, eta_seconds=65)


# -- pure parts -------------------------------------------------------------------------------

def test_run_state_folds_a_run_and_a_resume() -> None:
    state = RunSummary("r1")
    for event in (_started(), events.Step(epoch=1, step=5, loss=3.0, lr=1e-4,
                                          tokens_per_s=100.0, total_steps=10)):
        state.apply(event)
    assert state.active and state.progress() == (0.5, 2.0)
    state.apply(_epoch(1, 3.0, 3.2))
    state.apply(events.RunCancelled(epoch=1))
    assert state.status == "cancelled" and not state.active
    resumed = events.RunStarted(run_id="r1", config={"epochs": 2}, model="tiny",
                                dataset="demo", device="cpu", params=1, resumed_from_epoch=1)
    state.apply(resumed)
    state.apply(_epoch(2, 2.5, 2.9))
    assert state.train_losses == [3.0, 2.5] and state.val_losses == [3.2, 2.9]
    assert state.progress() == (2.0, 2.0)


def test_loss_chart_draws_both_curves_and_memory_meter_both_kinds() -> None:
    text = draw([3.0, 2.0, 1.5], [3.2, 2.6, 2.4], width=40, height=6).plain
    both = text.count("◉")
    assert text.count("●") + both == 3 + 1 and text.count("◆") + both == 3 + 1  # + legend
    assert " 3.20│" in text and " 1.50│" in text
    gpu = meter({"allocated_mb": 3072, "reserved_mb": 4096, "total_mb": 12288}, 40).plain
    assert gpu.startswith("GPU 3.0/4.0/12.0 GB") and "█" in gpu and "▒" in gpu
    assert meter({"device": "cpu", "rss_mb": 812.4}, 40).plain.startswith("RAM 812 MB")


# -- worker pane ------------------------------------------------------------------------------

async def test_worker_pane_follows_a_hand_written_log_and_a_failure(smartlap_home: Path) -> None:
    log = _write_run(smartlap_home, "20261121-220000-abcd",
                     [_started(), _epoch(1, 3.1, 3.4),
                      events.Sample(epoch=1, prompt="x", text="de kroeg\nhet licht")])
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        pane = app.query_one(WorkerPane)
        state = pane.current
        assert state is not None and state.run_id == "20261121-220000-abcd"
        assert state.train_losses == [3.1] and state.memory.rss_mb == 512.0
        assert "RAM 512 MB" in pane.query_one("#wp-memory").render().plain
        assert "de kroeg / het licht" in str(pane.query_one("#wp-sample").render())
        append_jsonl(log, _epoch(2, 2.7, 3.0).to_dict())
        append_jsonl(log, events.RunFailed(message="CUDA out of memory",
                                           hint="Use a smaller batch size.").to_dict())
        await pilot.pause(0.3)
        assert state.train_losses == [3.1, 2.7] and state.status == "failed"
        assert "failed: CUDA out of memory" in str(pane.query_one("#wp-sample").render())
        assert any("Use a smaller batch size." in n.message for n in app._notifications)
        await pilot.press("f5")
        assert pane.collapsed and pane.has_class("-collapsed")
        assert app.is_running


async def test_f7_pages_through_the_runs_samples_and_a_resume_replaces_redone_ones(
        smartlap_home: Path) -> None:
    resumed = events.RunStarted(run_id="r", config={"epochs": 3}, model="m", dataset="d",
                                device="cpu", params=1, resumed_from_epoch=1)
    _write_run(smartlap_home, "20261121-220000-abcd", [
        _started(), _epoch(1, 3.1, 3.4), events.Sample(epoch=1, prompt="In de ", text="kroeg"),
        _epoch(2, 2.9, 3.2), events.Sample(epoch=2, prompt="In de ", text="eerste poging"),
        events.RunCancelled(epoch=2), resumed,
        _epoch(2, 2.7, 3.0), events.Sample(epoch=2, prompt="In de ", text="haven"),
        _epoch(3, 2.5, 2.9), events.Sample(epoch=3, prompt="In de ", text="nacht")])
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        pane = app.query_one(WorkerPane)

        def shown() -> str:
            return str(pane.query_one("#wp-sample").render())

        assert "epoch 3 sample; F7 older" in shown() and "→ nacht" in shown()
        await pilot.press("f7")
        assert "epoch 2 sample (2/3, val 3.000; F7 older)" in shown() and "→ haven" in shown()
        await pilot.press("f7")
        assert "epoch 1 sample (1/3, val 3.400" in shown() and "→ kroeg" in shown()
        await pilot.press("f7")  # past the oldest: the latest again
        assert "epoch 3 sample" in shown() and "→ nacht" in shown()
        assert "eerste poging" not in str(pane.current.samples)


async def test_worker_pane_marks_a_dead_process_as_interrupted(smartlap_home: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    started = events.RunStarted(run_id="r2", config={"epochs": 3}, model="m", dataset="d",
                                device="cpu", params=1, pid=dead.pid)
    _write_run(smartlap_home, "r2", [started], pid=dead.pid)
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(WorkerPane)
        for _ in range(50):  # the pane checks pids every two seconds
            await pilot.pause(0.1)
            if "r2" in pane.runs and pane.runs["r2"].status == "interrupted":
                break
        assert pane.runs["r2"].status == "interrupted"


# -- Write ------------------------------------------------------------------------------------

class SlowBackend(GenerationBackend):
    """The real loader and generator, with a pause per token so a test can act mid-stream."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.stops: list[threading.Event] = []

    def stream(self, loaded, prompt, controls, stop, style):
        self.stops.append(stop)
        for event in super().stream(loaded, prompt, controls, stop, style):
            if event.kind == "token":
                time.sleep(self.delay)
            yield event


@pytest.fixture
def tiny_model(tiny_gpt2_dir: Path) -> str:
    from smartlap.store.models import register_model

    return register_model(tiny_gpt2_dir, name="tiny").name


@pytest.mark.slow
async def test_generate_streams_tokens_before_the_end(tiny_model: str) -> None:
    seen: list[str] = []

    def hook(message) -> None:
        if isinstance(message, TokensArrived):
            seen.append("tokens")
        elif isinstance(message, GenerationEnded) and message.sample:
            seen.append("end")

    app = make_app(backend=SlowBackend(0.01))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        view = app.query_one(WriteView)
        view.controls = view.controls.__class__(max_new_tokens=30, seed=1, samples=2)
        await pilot.pause()
        await type_text(pilot, "de kroeg\n")
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert "tokens" in seen and seen.index("tokens") < seen.index("end")
        assert seen.count("tokens") >= 2  # batched, but more than one batch
        assert not view.generating and len(view.alternatives) == 2
        def same(a: str, b: str) -> bool:
            return a == b

        shown = app.query_one("#suggestion", TextArea).text
        assert shown.strip() and same(shown, view.alternatives[0])
        await pilot.press("ctrl+t")
        assert same(app.query_one("#suggestion", TextArea).text, view.alternatives[1])
        await pilot.press("ctrl+o")
        editor = app.query_one("#editor", TextArea).text
        assert editor.startswith("de kroeg\n") and same(editor[9:], view.alternatives[1])


@pytest.mark.slow
async def test_escape_stops_generation_at_once(tiny_model: str) -> None:
    backend = SlowBackend(0.05)
    app = make_app(backend=backend)
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        view.controls = view.controls.__class__(max_new_tokens=200, seed=3)
        await pilot.press("ctrl+g")
        for _ in range(100):
            await pilot.pause(0.05)
            if view.alternatives and view.alternatives[0]:
                break
        assert view.generating and view.alternatives[0]
        await pilot.press("escape")
        assert not view.generating and backend.stops[-1].is_set()
        frozen = view.alternatives[0]
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert view.alternatives[0] == frozen  # late tokens were dropped
        assert len(frozen) < 200


async def test_a_model_that_fails_to_load_leaves_write_usable(smartlap_home: Path) -> None:
    class Broken(GenerationBackend):
        def load(self, name):
            raise ModelError("The weights of broken are corrupt.", "Re-download it.")

    (smartlap_home / "models" / "broken").mkdir(parents=True)
    (smartlap_home / "models" / "broken" / "config.json").write_text("{}")
    app = make_app(backend=Broken())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+g")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        messages = [n.message for n in app._notifications]
        assert any("corrupt" in m and "hint: Re-download it." in m for m in messages)
        view = app.query_one(WriteView)
        assert not view.generating
        await type_text(pilot, "nog steeds")
        assert app.query_one("#editor", TextArea).text == "nog steeds"


async def test_song_is_autosaved_and_reopened(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await write_song(pilot, "Moeder", "mijn hart\nis leeg")
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
    songs = songbook.list_songs()
    assert [(s.slug, s.title, s.lyrics) for s in songs] == [("moeder", "Moeder",
                                                              "mijn hart\nis leeg")]
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.query_one("#editor", TextArea).text == "mijn hart\nis leeg"
        assert again.query_one("#song-title", Input).value == "Moeder"


# -- Datasets, Train ---------------------------------------------------------------------------

async def test_import_a_dataset_and_see_its_report(tmp_path: Path) -> None:
    from helpers import SAMPLE_LYRICS

    source = tmp_path / "liedjes.csv"
    rows = ["title,artist,lyrics"]
    rows += [f'"Lied {i}","Zanger","{text}"' for i, text in enumerate(SAMPLE_LYRICS)]
    rows += ['"Leeg","Niemand",""']
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f2")
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(source)
        app.screen.query_one("#import-name", Input).value = "liedjes"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert isinstance(app.screen, MarkdownScreen)
        assert "into **liedjes**" in app.screen.markdown and "skipped" in app.screen.markdown
        await pilot.press("escape")
        table = app.query_one("#datasets-table", DataTable)
        names = [str(key.value) for key in table.rows]
        assert "liedjes" in names


async def test_train_form_marks_bad_fields_and_starts_nothing(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f4")
        app.query_one("#train-model").clear()
        app.query_one("#train-view").refresh_choices()  # a store change: still the person's
        app.query_one("#train-epochs", Input).value = "0"
        app.query_one("#train-lr", Input).value = "fast"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "at least 1" in str(app.query_one("#train-epochs-error").render())
        assert "5e-5" in str(app.query_one("#train-lr-error").render())
        assert "choose a model" in str(app.query_one("#train-model-error").render())
        assert not (smartlap_home / "runs").exists()


async def test_train_form_offers_lora_settings_only_in_lora_mode(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f4")
        await pilot.pause()
        view = app.query_one("#train-view")
        rank = app.query_one("#train-lora_rank", Input)
        assert not rank.display  # full mode: nothing about LoRA
        rank.value = "16"
        assert "--lora-rank" not in view.build_argv()
        app.query_one("#train-mode").value = "lora"
        await pilot.pause()
        assert rank.display and app.query_one("#train-lora_targets", Input).display
        app.query_one("#train-lora_targets", Input).value = "c_attn, c_fc"
        app.query_one("#train-lora_dropout", Input).value = "1.5"
        await pilot.pause()
        assert view.build_argv() is None
        assert "below 1" in str(app.query_one("#train-lora_dropout-error").render())
        app.query_one("#train-lora_dropout", Input).value = "0.1"
        await pilot.pause()
        argv = view.build_argv()
        assert argv[argv.index("--mode") + 1] == "lora"
        assert argv[argv.index("--lora-rank") + 1] == "16"
        assert argv[argv.index("--lora-dropout") + 1] == "0.1"
        assert argv[argv.index("--lora-targets") + 1] == "c_attn,c_fc"
        assert "--lora-alpha" not in argv  # left empty: twice the rank


def _run_with_state(monkeypatch: pytest.MonkeyPatch, planned: int, trained: int,
                    ending: events.Event) -> tuple[str, list[list[str]]]:
    """A run that trained ``trained`` of ``planned`` epochs, saved state and ended so;
    launching it again only records the argv."""
    from smartlap.store import runs

    run_id = runs.create_run({"model": "tiny", "dataset": "demo", "epochs": planned}).name
    runs.append_event(run_id, events.RunStarted(run_id=run_id, config={"epochs": planned},
                                                model="tiny", dataset="demo", device="cpu",
                                                params=1))
    for epoch in range(1, trained + 1):
        runs.append_event(run_id, events.EpochEnd(epoch=epoch, train_loss=3.0, val_loss=3.0,
                                                  perplexity=20.0, seconds=1.0, memory={},
                                                  epochs=planned, best=True))
    runs.append_event(run_id, ending)
    (runs.run_path(run_id) / runs.STATE_DIR).mkdir()
    launched: list[list[str]] = []
    monkeypatch.setattr(runs, "start_run_process",
                        lambda argv, run_id=None: launched.append(argv) or run_id)
    return run_id, launched


async def test_resume_key_trains_a_finished_run_further_for_the_chosen_epochs(
        smartlap_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id, launched = _run_with_state(monkeypatch, 2, 2, events.RunFinished(
        model="out", best_epoch=2, best_val_loss=3.0))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        answer = await press_resume(app, pilot)
        assert answer.value == "4"  # twice the two epochs it trained
        answer.value = "2"
        await pilot.press("enter")
        await pilot.pause()
        assert "at least 3" in str(app.screen.query_one("#answer-error").render())
        answer.value = "5"
        await pilot.press("enter")
        await pilot.pause()
    assert launched == [["--resume", run_id, "--epochs", "5"]]


async def test_resume_key_continues_a_cancelled_run_as_planned(
        smartlap_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id, launched = _run_with_state(monkeypatch, 4, 1, events.RunCancelled(
        epoch=2, resumable=True))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        answer = await press_resume(app, pilot)
        assert answer.value == "4"  # the run's own plan
        await pilot.press("enter")
        await pilot.pause()
    assert launched == [["--resume", run_id]]  # nothing changed: an exact resume


# -- import hygiene ----------------------------------------------------------------------------

def test_studio_mounts_without_importing_torch(smartlap_home: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from smartlap.tui.app import make_app\n"
        "async def main():\n"
        "    app = make_app()\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        for key in ('f2', 'f3', 'f4', 'f1'):\n"
        "            await pilot.press(key)\n"
        "    print(sorted(m for m in ('torch', 'transformers', 'tokenizers', 'peft',\n"
        "                             'accelerate') if m in sys.modules))\n"
        "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
async def test_start_a_two_epoch_run_and_follow_it_in_the_pane(tiny_model: str,
                                                               tmp_path: Path) -> None:
    from helpers import SAMPLE_LYRICS

    from smartlap.store.datasets import import_dataset

    source = tmp_path / "liedjes.csv"
    rows = ["title,artist,lyrics"]
    rows += [f'"Lied {i}","Zanger","{text}"' for i, text in enumerate(SAMPLE_LYRICS)]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_dataset(source, name="liedjes")
    app = make_app(poll_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f4")
        app.query_one("#train-model").value = tiny_model
        app.query_one("#train-dataset").value = "liedjes"
        app.query_one("#train-epochs", Input).value = "2"
        await pilot.pause()
        await pilot.press("ctrl+s")
        pane = app.query_one(WorkerPane)
        for _ in range(600):
            await pilot.pause(0.2)
            state = pane.current
            if state and not state.active and state.status != "starting":
                break
        assert state is not None and state.status == "finished", state
        assert len(state.train_losses) == 2 and all(v is not None for v in state.val_losses)
        assert state.memory.rss_mb or state.memory.allocated_mb
        assert "MB" in pane.query_one("#wp-memory").render().plain
        table = app.query_one("#runs-table", DataTable)
        assert table.row_count == 1
        await views_ready(pilot)
        await pilot.press("f4")
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MarkdownScreen)
        assert "| 2 |" in app.screen.markdown and "**Samples**" in app.screen.markdown


@pytest.mark.slow
async def test_next_line_candidates_are_listed_best_first(tiny_model: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(WriteView)
        await type_text(pilot, "in de kroeg brandt licht\n")
        await pilot.press("ctrl+l")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        listing = app.query_one("#suggestion", TextArea).text
        assert view.alternatives and listing.startswith("1. ")
        assert len(listing.splitlines()) == len(view.alternatives)
        await pilot.press("ctrl+o")
        editor = app.query_one("#editor", TextArea).text
        assert editor == "in de kroeg brandt licht\n" + view.alternatives[0]


@pytest.mark.slow
async def test_model_report_opens_as_markdown(tiny_model: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        table = app.query_one("#models-table", DataTable)
        table.move_cursor(row=table.get_row_index("tiny"))
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert isinstance(app.screen, MarkdownScreen), [n.message for n in app._notifications]
        assert "tiny" in app.screen.markdown


def test_gutter_facts_count_syllables_and_letter_rhymes() -> None:
    from smartlap.tui.widgets.gutter import LineFacts

    facts = LineFacts()
    lines = ["[Refrein]", "de maan schijnt zo licht", "", "ik doe mijn ogen dicht"]
    facts.count_lines(lines)
    facts.letter_lines(lines)
    assert facts.counts[0] is None and facts.counts[2] is None
    assert facts.counts[1] == 5 and facts.counts[3] == 6
    assert facts.letters == ["", "A", "", "A"]


async def test_pulling_offline_says_so_with_a_hint(smartlap_home: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.press("f3")
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.query_one("#catalog-table", DataTable).row_count >= 1
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and "hint:" in errors[-1], errors
        assert not app.query_one("#pull-progress").display, errors


def test_model_details_show_training_results_and_history(tiny_gpt2_dir: Path) -> None:
    from smartlap.store.models import get_model, register_model
    from smartlap.tui.models import details_markdown

    register_model(tiny_gpt2_dir, name="tuned", origin="fine-tuned", base="tiny",
                   dataset="liedjes",
                   training={"mode": "lora", "results": {"val_loss": 3.21, "epochs": 2},
                             "hyperparameters": {"epochs": 2, "lr": 2e-4, "batch_size": 8,
                                                 "block_size": 128, "grad_accum": 2,
                                                 "lora_rank": 8, "seed": 7,
                                                 "sample_prompt": "In de kroeg\nop de hoek"},
                             "history": [{"epoch": 1, "train_loss": 4.0, "val_loss": 3.5},
                                         {"epoch": 2, "train_loss": 3.0, "val_loss": 3.21,
                                          "best": True}]})
    text = details_markdown(get_model("tuned"))
    assert "mode lora · LoRA rank 8" in text and "- dataset: liedjes" in text
    settings = text.split("**Training**")[1].split("**Results**")[0]  # the settings, readable
    assert "- epochs 2 · learning rate 0.0002" in settings
    assert "batch 8 × 128 tokens · gradient accumulation 2 · seed 7" in settings
    assert "sample prompt “In de kroeg / op de hoek”" in settings
    assert "| 2 * | 3.000 | 3.210 |" in text and "3.210" in text.split("**History**")[0]


@pytest.mark.parametrize(("view_id", "box"), [("#datasets-view", "#dataset-preview-box"),
                                             ("#models-view", "#model-details")])
async def test_a_row_highlight_arriving_after_the_views_widgets_are_gone_is_ignored(
        smartlap_home: Path, view_id: str, box: str) -> None:
    # Quitting right after start: the table's first highlight can still be queued while the
    # view's widgets are removed. That must not end the studio with an error.
    from textual.widgets._data_table import RowKey

    app = make_app(poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await views_ready(pilot)
        await pilot.pause(0.1)
        view = app.query_one(view_id)
        table = view.query_one(DataTable)
        await view.query_one(box).remove()
        view.post_message(DataTable.RowHighlighted(table, 0, RowKey("gone")))
        await pilot.pause(0.1)
        assert app.return_code is None and app.is_running


async def test_a_screen_still_mounting_when_the_studio_closes_is_no_error() -> None:
    from textual.css.query import NoMatches

    app = make_app()
    async with app.run_test(size=SIZE):
        app.exit()
        app._handle_exception(NoMatches("SelectOverlay"))  # what a half-mounted Select raises
    assert app._exception is None
    app = make_app()
    with pytest.raises(NoMatches):
        async with app.run_test(size=SIZE):
            app._handle_exception(NoMatches("a real bug while running"))
