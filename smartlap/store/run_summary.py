"""What a run's events say about it, folded one event at a time (pure Python, no I/O).

``RunSummary.apply`` is the one fold of a run's ``events.jsonl``: ``runs list/show`` build
their ``RunInfo`` from it, ``runs tail`` and the studio's worker pane keep one per run and
feed it only the lines that are new since their last poll (``events.EventTail``), and the
Train screen reads the pane's. Folding a log a few lines at a time gives exactly what
folding it whole gives, so a run started a second ago, one started from the CLI, and one
that finished before anyone looked all read the same.

``LogFold`` pairs a summary with a tail on its log, so a caller that looks again (the
listing's cache) reads only what was appended since.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartlap import events
from smartlap.events import MemorySnapshot

ACTIVE = "running"


@dataclass(frozen=True)
class EpochSample:
    """The fixed-prompt, fixed-seed sample written after an epoch, beside that epoch's losses."""

    epoch: int
    prompt: str
    text: str
    train_loss: float | None = None
    val_loss: float | None = None
    best: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "prompt": self.prompt, "text": self.text,
                "train_loss": self.train_loss, "val_loss": self.val_loss, "best": self.best}


@dataclass
class RunSummary:
    """A run as its events tell it; ``status`` is what the events alone say (a reader that
    knows the process is gone marks an active run ``interrupted``)."""

    run_id: str
    model: str = "?"
    dataset: str = "?"
    device: str = ""
    status: str = "starting"
    epoch: int = 0  # the epoch in progress (or last ended)
    epochs: int | None = None
    step: int = 0
    total_steps: int | None = None
    loss: float | None = None
    train_losses: list[float] = field(default_factory=list)
    val_losses: list[float | None] = field(default_factory=list)
    memory: MemorySnapshot = field(default_factory=MemorySnapshot)
    tokens_per_s: float | None = None
    eta_seconds: float | None = None
    sample: str = ""
    sample_prompt: str = ""
    sample_epoch: int | None = None
    samples: dict[int, tuple[str, str]] = field(default_factory=dict)  # epoch -> prompt, text
    best_epochs: set[int] = field(default_factory=set)  # epochs whose epoch_end said best
    message: str = ""
    hint: str | None = None
    pid: int | None = None
    started_at: float | None = None  # when run_started was written (its pid's process is older)
    resumable: bool = False
    updated: float = 0.0
    # What the run listing shows, folded from the same events:
    events_seen: int = 0
    ended: str | None = None  # finished | failed | cancelled, since the last run_started
    last_epoch: int | None = None  # the epoch of the last epoch_end
    planned_epochs: int | None = None  # the total the last epoch_end gave
    best_val_loss: float | None = None
    failure: str | None = None  # the last run_failed, "message (hint)"

    @classmethod
    def of(cls, run_id: str, run_events: Iterable[events.Event]) -> RunSummary:
        """The fold of a whole list of events."""
        summary = cls(run_id)
        summary.apply_all(run_events)
        return summary

    @property
    def active(self) -> bool:
        return self.status in ("starting", ACTIVE)

    def apply_all(self, run_events: Iterable[events.Event]) -> None:
        for event in run_events:
            self.apply(event)

    def apply(self, event: events.Event) -> None:
        """Fold one event in; unknown kinds (generation events) are ignored."""
        self.events_seen += 1
        self.updated = max(self.updated, event.time)
        if event.kind in events.TERMINAL_STATUS:
            self.ended = events.TERMINAL_STATUS[event.kind]
        if isinstance(event, events.RunStarted):
            self._started(event)
        elif isinstance(event, events.Step):
            self.epoch, self.step, self.loss = event.epoch, event.step, event.loss
            self.total_steps = event.total_steps or self.total_steps
            self.tokens_per_s = event.tokens_per_s
            self.status = ACTIVE
            if event.memory:  # older logs' steps carry neither
                self.memory = event.memory
            if event.eta_seconds is not None:
                self.eta_seconds = event.eta_seconds
        elif isinstance(event, events.EpochEnd):
            self._epoch_ended(event)
        elif isinstance(event, events.Sample):
            self.sample, self.sample_epoch = event.text, event.epoch
            self.sample_prompt = event.prompt
            self.samples[event.epoch] = (event.prompt, event.text)
        elif isinstance(event, events.RunFailed):
            self.status, self.message, self.hint = "failed", event.message, event.hint
            self.failure = event.message + (f" ({event.hint})" if event.hint else "")
            self.eta_seconds = None
        elif isinstance(event, events.RunCancelled):
            self.status, self.resumable = "cancelled", event.resumable
            self.eta_seconds = None
        elif isinstance(event, events.RunFinished):
            self.status = "finished"
            self.eta_seconds = None
            if event.model:
                self.message = f"saved as {event.model}"

    def _started(self, event: events.RunStarted) -> None:
        # A resumed run appends run_started after an earlier ending: the latest wins.
        self.ended = None
        self.model, self.dataset, self.device = event.model, event.dataset, event.device
        self.epochs = event.config.get("epochs", self.epochs)
        self.pid, self.started_at = event.pid, event.time
        self.status = ACTIVE
        self.message = self.hint = ""
        if event.resumed_from_epoch:
            self.epoch = event.resumed_from_epoch
            del self.train_losses[event.resumed_from_epoch:]
            del self.val_losses[event.resumed_from_epoch:]
            for epoch in [e for e in self.samples if e > event.resumed_from_epoch]:
                del self.samples[epoch]  # those epochs are trained again

    def _epoch_ended(self, event: events.EpochEnd) -> None:
        # A resumed run redoes the epochs after its saved state: the redone one replaces it.
        del self.train_losses[event.epoch - 1:]
        del self.val_losses[event.epoch - 1:]
        self.train_losses.append(event.train_loss)
        self.val_losses.append(event.val_loss)
        self.epoch = self.last_epoch = event.epoch
        if event.best:
            self.best_epochs.add(event.epoch)
        else:
            self.best_epochs.discard(event.epoch)
        self.epochs = event.epochs or self.epochs
        self.planned_epochs = event.epochs or self.planned_epochs
        self.memory = event.memory
        self.tokens_per_s = event.tokens_per_s or self.tokens_per_s
        self.eta_seconds = event.eta_seconds
        if event.val_loss is not None and (self.best_val_loss is None
                                           or event.val_loss < self.best_val_loss):
            self.best_val_loss = event.val_loss

    def epoch_samples(self) -> list[EpochSample]:
        """One sample per epoch, oldest first, beside that epoch's losses: what the model
        wrote as training went on (a resumed run's redone epochs have replaced the old)."""
        def loss(losses: list[Any], epoch: int) -> Any:
            return losses[epoch - 1] if epoch <= len(losses) else None

        return [EpochSample(epoch=epoch, prompt=prompt, text=text,
                            train_loss=loss(self.train_losses, epoch),
                            val_loss=loss(self.val_losses, epoch),
                            best=epoch in self.best_epochs)
                for epoch, (prompt, text) in sorted(self.samples.items())]

    def progress(self) -> tuple[float, float] | None:
        """(done, total) in epochs, fractional within the current epoch when steps are known."""
        if not self.epochs:
            return None
        done = float(len(self.train_losses))
        epoch_running = self.active and self.epoch > len(self.train_losses)
        if epoch_running and self.total_steps:
            done += min(self.step / self.total_steps, 1.0)
        return (min(done, self.epochs), float(self.epochs))


class LogFold:
    """A summary kept up to date with its log: each ``update`` folds only the new lines.

    A log that was replaced or rewritten under it (another inode, shorter than what was
    read, or different bytes before the offset) is folded again from the start.
    """

    _CHECK = 64  # bytes before the offset compared on each update

    def __init__(self, run_id: str, path: Path) -> None:
        self.run_id = run_id
        self.path = Path(path)
        self._reset()

    def _reset(self) -> None:
        self.summary = RunSummary(self.run_id)
        self.tail = events.EventTail(self.path)
        self._inode: int | None = None
        self._seen = b""

    @property
    def unreadable(self) -> int:
        return self.tail.unreadable

    def update(self) -> RunSummary:
        """The summary with the log's new lines folded in."""
        self.poll()
        return self.summary

    def poll(self) -> list[events.Event]:
        """Fold the log's new lines into ``summary`` and return them, for a view that also
        shows each event (after the log was replaced: all of them, into a fresh summary)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if self.tail.offset:
                self._reset()
            return []
        if self.tail.offset and (stat.st_ino != self._inode or stat.st_size < self.tail.offset
                                 or self._before_offset() != self._seen):
            self._reset()
        self._inode = stat.st_ino
        new = self.tail.poll()
        self.summary.apply_all(new)
        self._seen = self._before_offset()
        return new

    def _before_offset(self) -> bytes:
        start = max(self.tail.offset - self._CHECK, 0)
        try:
            with open(self.path, "rb") as handle:
                handle.seek(start)
                return handle.read(self.tail.offset - start)
        except OSError:
            return b""
