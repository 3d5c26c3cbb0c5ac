"""The worker pane: follows every training run by tailing ``runs/<id>/events.jsonl``.

Each run's ``store.run_summary.LogFold`` folds the log's new lines into its ``RunSummary``
(only the new ones, each poll; all again, into a fresh summary, if the log was replaced) and
they are posted, with the summary, as ``RunEventsArrived`` for the Train screen.

It never talks to a training process directly, only to its log, so it re-attaches to runs
started earlier, from the CLI, or before the studio restarted. Polling is a small read per
run every quarter second on the UI thread; runs whose process died without a final event are
shown as interrupted (a process check, at most every two seconds, by pid and start time:
a pid the kernel gave to another program does not keep a dead run going).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from smartlap import events
from smartlap.fsutil import is_temporary, read_json
from smartlap.store import processes
from smartlap.store.processes import ProcessRecord
from smartlap.store.run_summary import LogFold, RunSummary
from smartlap.tui.messages import RunEventsArrived
from smartlap.tui.widgets.loss_chart import LossChart
from smartlap.tui.widgets.memory_meter import MemoryMeter
from smartlap.units import format_duration, one_line

STATUS_STYLE = {"running": "bold green", "starting": "yellow", "finished": "bold #3a86ff",
                "failed": "bold red", "cancelled": "yellow", "interrupted": "bold red"}
PID_CHECK_SECONDS = 2.0


class WorkerPane(Vertical):
    """Run name, model → dataset, progress, loss chart, memory, tokens/s, ETA, sample, status."""

    collapsed: reactive[bool] = reactive(False)
    selected: reactive[str | None] = reactive(None)

    def __init__(self, runs_dir: Path, poll_interval: float = 0.25, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runs_dir = Path(runs_dir)
        self.poll_interval = poll_interval
        self.runs: dict[str, RunSummary] = {}
        self._folds: dict[str, LogFold] = {}
        self._opened = time.time()
        self._last_pid_check = 0.0
        self._pinned = False
        self.sample_back = 0  # 0: the latest epoch's sample; n: n epochs before it

    def compose(self) -> ComposeResult:
        with Horizontal(id="wp-head"):
            yield Static(id="wp-title")
            yield ProgressBar(id="wp-progress", show_eta=False, show_percentage=True)
            yield Static(id="wp-status")
        with Horizontal(id="wp-body"):
            yield LossChart(id="wp-chart")
            with Vertical(id="wp-side"):
                yield MemoryMeter(id="wp-memory")
                yield Static(id="wp-speed")
                yield Static(id="wp-sample")

    def on_mount(self) -> None:
        self.poll()
        self.call_after_refresh(self.show)
        self.set_interval(self.poll_interval, self.poll)

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")

    def watch_selected(self) -> None:
        self.show()

    # -- following runs -------------------------------------------------------------------

    def _discover(self) -> None:
        if not self.runs_dir.is_dir():
            return
        for path in self.runs_dir.iterdir():
            if path.name in self._folds or path.name.startswith(".") or is_temporary(path):
                continue
            if path.is_dir():
                fold = self._folds[path.name] = LogFold(path.name, path / "events.jsonl")
                state = self.runs[path.name] = fold.summary
                with contextlib.suppress(OSError):
                    state.updated = path.stat().st_mtime

    def poll(self) -> None:
        """Read new lines of every run's log; refresh the view when the shown run changed."""
        self._discover()
        changed: set[str] = set()
        for run_id, fold in self._folds.items():
            new = fold.poll()
            if not new:
                continue
            state = self.runs[run_id] = fold.summary  # a fresh one if the log was replaced
            changed.add(run_id)
            self.post_message(RunEventsArrived(run_id, new, state))
            self._notify_endings(run_id, new)
        now = time.time()
        if now - self._last_pid_check >= PID_CHECK_SECONDS:
            self._last_pid_check = now
            changed |= self._check_processes()
        best = self._most_relevant()
        if not self._pinned and best != self.selected:
            self.selected = best
        elif self.selected in changed:
            self.show()

    def _process(self, run_id: str, state: RunSummary) -> ProcessRecord | None:
        """The run's process as run.json records it, else the pid its run_started gave
        (trusted only for a process that started before that event)."""
        from smartlap.store.runs import run_process

        path = self.runs_dir / run_id
        try:
            record = run_process(path, read_json(path / "run.json"))
        except (OSError, ValueError, TypeError, AttributeError):
            record = None
        return record or processes.legacy(state.pid, state.started_at)

    def _check_processes(self) -> set[str]:
        gone = set()
        for run_id, state in self.runs.items():
            if not state.active:
                continue
            record = self._process(run_id, state)
            if record is not None and not processes.is_running(record):
                # One more read: the process may have written its last line as it exited.
                self._folds[run_id].poll()
                if state.active:
                    state.status = "interrupted"
                    state.message = "the training process ended without a final event"
                gone.add(run_id)
        return gone

    def _notify_endings(self, run_id: str, new: list[events.Event]) -> None:
        """Toast a run ending, but not endings replayed from before the studio opened."""
        for event in new:
            if event.time < self._opened - 1:
                continue
            if isinstance(event, events.RunFailed):
                self.app.notify(f"{event.message}\n{event.hint or ''}".strip(),
                                title=f"Run {run_id} failed", severity="error", timeout=10)
            elif isinstance(event, events.RunFinished):
                self.app.notify(f"Run {run_id} finished" +
                                (f": saved as {event.model}" if event.model else "."),
                                title="Training")

    def _most_relevant(self) -> str | None:
        """The newest active run, else the most recently updated one."""
        if not self.runs:
            return None
        ranked = sorted(self.runs.values(), key=lambda s: (s.active, s.updated, s.run_id))
        return ranked[-1].run_id

    def cycle(self, step: int) -> None:
        """Show the previous/next run (and keep showing it until the studio restarts)."""
        order = sorted(self.runs, key=lambda r: (self.runs[r].updated, r))
        if not order:
            return
        index = order.index(self.selected) if self.selected in order else 0
        self._pinned = True
        self.selected = order[(index + step) % len(order)]
        self.sample_back = 0

    def page_samples(self, step: int = 1) -> None:
        """Show an older (step 1) or newer (-1) epoch's sample; past the oldest, the latest."""
        state = self.current
        count = len(state.samples) if state is not None else 0
        self.sample_back = (self.sample_back + step) % count if count else 0
        self.show()

    @property
    def current(self) -> RunSummary | None:
        return self.runs.get(self.selected) if self.selected else None

    # -- drawing --------------------------------------------------------------------------

    def show(self) -> None:
        if not self.is_mounted:
            return
        state = self.current
        title = self.query_one("#wp-title", Static)
        status = self.query_one("#wp-status", Static)
        bar = self.query_one("#wp-progress", ProgressBar)
        self.set_class(state is None, "-empty")
        if state is None:
            title.update(Text("No training runs yet — start one on the Train screen (F4).",
                              style="dim"))
            status.update("")
            bar.update(total=None, progress=0)
            self.query_one(LossChart).set_losses([], [])
            self.query_one(MemoryMeter).set_memory(None)
            self.query_one("#wp-speed", Static).update("")
            self.query_one("#wp-sample", Static).update("")
            return
        count = f" ({list(self._ordered()).index(state.run_id) + 1}/{len(self.runs)})"
        title.update(Text.assemble((state.run_id, "bold"), f"{count}  ",
                                   f"{state.model} → {state.dataset}"))
        epoch = f"epoch {state.epoch}/{state.epochs or '?'}"
        if state.total_steps and state.active:
            epoch += f" · step {state.step}/{state.total_steps}"
        status.update(Text.assemble(f"{epoch}  ",
                                    (state.status, STATUS_STYLE.get(state.status, ""))))
        progress = state.progress()
        if progress:
            bar.update(total=progress[1], progress=progress[0])
        else:
            bar.update(total=None, progress=0)
        self.query_one(LossChart).set_losses(state.train_losses, state.val_losses)
        self.query_one(MemoryMeter).set_memory(state.memory)
        speed = (f"{state.tokens_per_s:,.0f} tokens/s" if state.tokens_per_s else "– tokens/s")
        eta = f"ETA {format_duration(state.eta_seconds)}" if state.active else ""
        last = ""
        if state.active and state.loss is not None and state.epoch > len(state.train_losses):
            last = f"step loss {state.loss:.3f}"  # the epoch's average comes at its end
        elif state.train_losses:
            val = state.val_losses[-1]
            last = f"loss {state.train_losses[-1]:.3f}" + (f" / val {val:.3f}" if val else "")
        self.query_one("#wp-speed", Static).update(f"{speed}  {eta}  {last}".strip())
        if state.status in ("failed", "interrupted"):
            sample = Text(f"{state.status}: {state.message}", style="red")
            if state.hint:
                sample.append(f"\nhint: {state.hint}", style="yellow")
        elif state.samples and self.sample_back:
            sample = sample_text(state, self.sample_back)
        elif state.sample:
            sample = sample_text(state)
        else:
            sample = Text(state.message or "no sample yet", style="dim")
        self.query_one("#wp-sample", Static).update(sample)

    def _ordered(self) -> list[str]:
        return sorted(self.runs, key=lambda r: (self.runs[r].updated, r))


def sample_text(state: RunSummary, back: int = 0) -> Text:
    """An epoch's sample (the latest, or ``back`` epochs before it): the prompt it continues,
    dim and quoted, then '→' what it wrote; paging shows which one of how many and its loss."""
    samples = state.epoch_samples()
    if back and samples:
        index = len(samples) - 1 - back % len(samples)
        shown = samples[index]
        prompt_text, written = shown.prompt, shown.text
        val = f", val {shown.val_loss:.3f}" if shown.val_loss is not None else ""
        where = f"epoch {shown.epoch} sample ({index + 1}/{len(samples)}{val}; F7 older), prompt "
    else:
        prompt_text, written = state.sample_prompt, state.sample
        more = "; F7 older" if len(samples) > 1 else ""
        where = f"epoch {state.sample_epoch} sample{more}, prompt "
    prompt = one_line(prompt_text, 100)
    text = Text(where, style="dim")
    text.append(f"“{prompt}”" if prompt else "(none)", style="dim italic")
    text.append("\n→ ", style="dim")
    text.append(one_line(written, 300) or "(nothing)")
    return text
