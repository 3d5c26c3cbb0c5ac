"""The one event vocabulary that training runs and generation speak.

A training process appends these as JSON lines to ``runs/<id>/events.jsonl``; the CLI
(``runs tail``, ``--json``) and the studio's worker pane read the same lines. Generation
streams ``token`` and ``sample_end`` the same way. Each line is an object with ``event``
(the kind), ``time`` (Unix seconds) and the kind's fields; unknown kinds or fields are
rejected so the vocabulary cannot drift.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time as _time
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(kw_only=True)
class Event:
    """Base of every event; ``kind`` is the value of the ``event`` key on the wire."""

    kind: ClassVar[str] = ""
    time: float = field(default_factory=_time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.kind}
        data.update(dataclasses.asdict(self))
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


@dataclass(kw_only=True)
class RunStarted(Event):
    kind: ClassVar[str] = "run_started"
    run_id: str
    config: dict[str, Any]
    model: str
    dataset: str
    device: str
    params: int
    trainable_params: int | None = None
    resumed_from_epoch: int | None = None
    train_tokens: int | None = None
    val_tokens: int | None = None
    pid: int | None = None


@dataclass(kw_only=True)
class Step(Event):
    kind: ClassVar[str] = "step"
    epoch: int
    step: int
    loss: float
    lr: float
    tokens_per_s: float
    total_steps: int | None = None
    memory: dict[str, Any] | None = None  # a memory.py snapshot, as in epoch_end
    eta_seconds: float | None = None  # the whole run's time left, from the steps so far


@dataclass(kw_only=True)
class EpochEnd(Event):
    kind: ClassVar[str] = "epoch_end"
    epoch: int
    train_loss: float
    val_loss: float | None
    perplexity: float | None
    seconds: float
    memory: dict[str, Any]
    epochs: int | None = None
    tokens_per_s: float | None = None
    eta_seconds: float | None = None
    best: bool | None = None


@dataclass(kw_only=True)
class Sample(Event):
    kind: ClassVar[str] = "sample"
    epoch: int
    prompt: str
    text: str


@dataclass(kw_only=True)
class CheckpointSaved(Event):
    kind: ClassVar[str] = "checkpoint_saved"
    path: str
    checkpoint: str  # best | last | state
    epoch: int | None = None


@dataclass(kw_only=True)
class RunFinished(Event):
    kind: ClassVar[str] = "run_finished"
    model: str | None = None
    best_epoch: int | None = None
    best_val_loss: float | None = None
    stopped_early: bool | None = None
    seconds: float | None = None


@dataclass(kw_only=True)
class RunFailed(Event):
    kind: ClassVar[str] = "run_failed"
    message: str
    hint: str | None = None


@dataclass(kw_only=True)
class RunCancelled(Event):
    kind: ClassVar[str] = "run_cancelled"
    epoch: int | None = None
    resumable: bool = True


@dataclass(kw_only=True)
class Token(Event):
    kind: ClassVar[str] = "token"
    text: str
    sample: int = 1


@dataclass(kw_only=True)
class SampleEnd(Event):
    kind: ClassVar[str] = "sample_end"
    reason: str  # eos | length | stopped | repetition
    tokens: int
    seconds: float
    time_to_first_token: float | None
    sample: int = 1
    text: str | None = None
    notes: list[str] = field(default_factory=list)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (RunStarted, Step, EpochEnd, Sample, CheckpointSaved, RunFinished, RunFailed,
                RunCancelled, Token, SampleEnd)
}
TERMINAL_RUN_EVENTS = frozenset({"run_finished", "run_failed", "run_cancelled"})


class EventError(ValueError):
    """A line that is not a valid event."""


def from_dict(data: dict[str, Any]) -> Event:
    """Build the typed event from a decoded JSON object, rejecting unknown kinds and keys."""
    if not isinstance(data, dict) or "event" not in data:
        raise EventError("an event is a JSON object with an 'event' key")
    kind = data["event"]
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise EventError(f"unknown event kind {kind!r}")
    payload = {k: v for k, v in data.items() if k != "event"}
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(payload) - known
    if unknown:
        raise EventError(f"{kind}: unknown field(s) {', '.join(sorted(unknown))}")
    for name, allowed in _field_types(cls).items():
        if name in payload and not _is_a(payload[name], allowed):
            raise EventError(f"{kind}: {name} has the wrong type "
                             f"({type(payload[name]).__name__})")
    try:
        return cls(**payload)
    except TypeError as exc:  # a required field is missing
        raise EventError(f"{kind}: {exc}") from None


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "dict": (dict,),
    "list": (list,), "None": (type(None),)}


@functools.cache
def _field_types(cls: type[Event]) -> dict[str, tuple[type, ...]]:
    """Each field's JSON types from its annotation ('int | None' -> int, NoneType), so a
    line with a string where a number belongs is rejected here, not deep in a reader."""
    found = {}
    for item in dataclasses.fields(cls):
        names = [part.strip().split("[")[0] for part in str(item.type).split("|")]
        if all(name in _JSON_TYPES for name in names):
            found[item.name] = tuple(t for name in names for t in _JSON_TYPES[name])
    return found


def _is_a(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is no number
        return bool in allowed
    return isinstance(value, allowed)


def parse_line(line: str) -> Event:
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise EventError(f"not JSON: {exc}") from None
    return from_dict(data)


@dataclass
class EventLog:
    """The events of a log file, and how many of its complete lines could not be read."""

    events: list[Event]
    unreadable: int = 0


def read_log(path, *, strict: bool = False) -> EventLog:
    """All complete events in a log; a torn last line (a writer mid-append) is skipped.

    Lines are decoded one by one, so bytes that are not UTF-8 (a crash appending garbage, a
    character cut in two) cost only their own line: a line whose JSON survives the damage
    keeps its event (U+FFFD where bytes were lost), any other is counted as unreadable.
    """
    log = EventLog([])
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            if not raw.strip():
                continue
            try:
                log.events.append(parse_line(raw.decode("utf-8", errors="replace")))
            except EventError:
                if strict:
                    raise
                log.unreadable += 1
    return log


def read_events(path, *, strict: bool = False) -> list[Event]:
    """The events of ``read_log``, without the count of unreadable lines."""
    return read_log(path, strict=strict).events


class EventTail:
    """Follow a growing events log from another process, one poll at a time.

    Keeps a byte offset and only consumes complete lines, so a writer mid-append is never
    misread; a log that does not exist yet simply yields nothing. Used by the studio's worker
    pane and by ``smartlap runs tail``; re-creating a tail on the same file replays it, which
    is how both re-attach to a run started earlier.
    """

    def __init__(self, path) -> None:
        self.path = path
        self.offset = 0

    def poll(self) -> list[Event]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        found: list[Event] = []
        for raw in chunk[: end + 1].decode("utf-8", errors="replace").splitlines():
            if raw.strip():
                try:
                    found.append(parse_line(raw))
                except EventError:
                    continue
        return found
