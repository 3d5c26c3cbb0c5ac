"""What the worker pane knows about one run, folded from its events (pure Python, testable).

The pane replays a run's ``events.jsonl`` into a :class:`RunState` and keeps feeding it new
lines, so the same code serves a run started a second ago, one started from the CLI, and one
that finished before the studio opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smartlap import events

ACTIVE = "running"
TERMINAL_STATUS = {"run_finished": "finished", "run_failed": "failed",
                   "run_cancelled": "cancelled"}


@dataclass
class RunState:
    run_id: str
    model: str = "?"
    dataset: str = "?"
    device: str = ""
    status: str = "starting"
    epoch: int = 0
    epochs: int | None = None
    step: int = 0
    total_steps: int | None = None
    loss: float | None = None
    train_losses: list[float] = field(default_factory=list)
    val_losses: list[float | None] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    tokens_per_s: float | None = None
    eta_seconds: float | None = None
    sample: str = ""
    sample_prompt: str = ""
    sample_epoch: int | None = None
    samples: dict[int, tuple[str, str]] = field(default_factory=dict)  # epoch -> prompt, text
    message: str = ""
    hint: str | None = None
    pid: int | None = None
    started_at: float | None = None  # when run_started was written (its pid's process is older)
    resumable: bool = False
    updated: float = 0.0

    @property
    def active(self) -> bool:
        return self.status in ("starting", ACTIVE)

    def apply(self, event: events.Event) -> None:
        """Fold one event in; unknown kinds (generation events) are ignored."""
        self.updated = max(self.updated, event.time)
        if isinstance(event, events.RunStarted):
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
        elif isinstance(event, events.Step):
            self.epoch, self.step, self.loss = event.epoch, event.step, event.loss
            self.total_steps = event.total_steps or self.total_steps
            self.tokens_per_s = event.tokens_per_s
            self.status = ACTIVE
            if event.memory:  # older logs' steps carry neither
                self.memory = dict(event.memory)
            if event.eta_seconds is not None:
                self.eta_seconds = event.eta_seconds
        elif isinstance(event, events.EpochEnd):
            del self.train_losses[event.epoch - 1:]
            del self.val_losses[event.epoch - 1:]
            self.train_losses.append(event.train_loss)
            self.val_losses.append(event.val_loss)
            self.epoch = event.epoch
            self.epochs = event.epochs or self.epochs
            self.memory = dict(event.memory or {})
            self.tokens_per_s = event.tokens_per_s or self.tokens_per_s
            self.eta_seconds = event.eta_seconds
        elif isinstance(event, events.Sample):
            self.sample, self.sample_epoch = event.text, event.epoch
            self.sample_prompt = event.prompt
            self.samples[event.epoch] = (event.prompt, event.text)
        elif isinstance(event, events.RunFailed):
            self.status, self.message, self.hint = "failed", event.message, event.hint
            self.eta_seconds = None
        elif isinstance(event, events.RunCancelled):
            self.status, self.resumable = "cancelled", event.resumable
            self.eta_seconds = None
        elif isinstance(event, events.RunFinished):
            self.status = "finished"
            self.eta_seconds = None
            if event.model:
                self.message = f"saved as {event.model}"

    def progress(self) -> tuple[float, float] | None:
        """(done, total) in epochs, fractional within the current epoch when steps are known."""
        if not self.epochs:
            return None
        done = float(len(self.train_losses))
        epoch_running = self.active and self.epoch > len(self.train_losses)
        if epoch_running and self.total_steps:
            done += min(self.step / self.total_steps, 1.0)
        return (min(done, self.epochs), float(self.epochs))

