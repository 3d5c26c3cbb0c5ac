"""Messages the studio's workers post to the UI: past tense, plain data, thread-safe to post.

Workers never touch widgets; they post one of these and an ``@on`` handler on the UI thread
owns every state change (the harlequin pattern).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from smartlap.events import Event, SampleEnd
from smartlap.store.run_summary import RunSummary


@dataclass
class ModelLoaded(Message):
    """The Write screen's model finished loading in its worker thread."""

    name: str
    device: str
    seconds: float
    notice: str | None = None  # what to say about this model once (the demo model's note)


@dataclass
class TokensArrived(Message):
    """A batch of streamed tokens (gathered for ~40 ms) for one alternative."""

    sample: int
    text: str
    generation: int


@dataclass
class GenerationEnded(Message):
    """One alternative ended (``end`` is its SampleEnd: reason, text, notes...), or, with
    ``end`` None, the whole generation did."""

    end: SampleEnd | None
    generation: int

    @property
    def sample(self) -> int:
        return self.end.sample if self.end is not None else 0


@dataclass
class WorkFailed(Message):
    """A background job raised; ``hint`` is set for errors the person can act on."""

    action: str
    message: str
    hint: str | None = None


@dataclass
class RunEventsArrived(Message):
    """New lines from a run's events.jsonl (the worker pane's tail), and the run's summary
    with them folded in; the app hands it on to the Train screen."""

    run_id: str
    events: list[Event] = field(default_factory=list)
    summary: RunSummary | None = None


@dataclass
class DatasetImported(Message):
    info: Any


@dataclass
class ModelPulled(Message):
    name: str


@dataclass
class PullProgressed(Message):
    """Bytes downloaded so far of a model pull (``total`` None while unknown)."""

    done: int
    total: int | None


@dataclass
class TrainingLaunched(Message):
    run_id: str


@dataclass
class SongSaved(Message):
    """A save finished; ``key`` names the editor session it belongs to (see WriteView)."""

    song: Any
    key: int


@dataclass
class CandidatesFound(Message):
    """Constrained next-line candidates, best first (text, score, syllables, copied), and
    the notes on how they were made (e.g. no rhyme word to steer to)."""

    candidates: list[Any]
    generation: int
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportBuilt(Message):
    name: str
    markdown: str


@dataclass
class CopiesFound(Message):
    """The originality check of one finished alternative: its copied lines.

    ``rows`` pairs a line number of the alternative's text with its
    ``smartlap.craft.originality.Match``; ``dataset`` is the training dataset checked.
    """

    sample: int
    rows: list[tuple[int, Any]]
    dataset: str | None
    generation: int
    skipped: str | None = None  # why the recorded dataset could not be checked


@dataclass
class StoreChanged(Message):
    """The data home's datasets, models or runs changed (the app's watcher tells each view)."""

    bubble = False
    kinds: frozenset[str] = frozenset()
