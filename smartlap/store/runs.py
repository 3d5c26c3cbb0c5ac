"""Training runs on disk: ``runs/<id>/run.json`` and the ``events.jsonl`` log (no torch).

A run is written by one training process and read by anyone: the CLI (``runs list``,
``runs tail``), the studio's worker pane, and the training process itself on ``--resume``.
A run's status is derived, not trusted: a terminal event in the log wins; otherwise the run
is ``running`` while its process is alive, and ``interrupted`` (resumable if it saved state)
once the process is gone without saying why (SIGKILL, power cut). "Its process" is the one
recorded in run.json by pid, start time and command line (``store.processes``), so a pid the
kernel has since given to another program never keeps a dead run running, and is never
signalled. A run folder that cannot be read is listed as damaged (``store.listing``).

What the log says is folded by ``store.run_summary.RunSummary``; the listing keeps one
``LogFold`` per run log, so listing again (the studio does on every epoch) reads only the
lines appended since.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from smartlap import events
from smartlap.errors import NotFoundError, TrainingError, UsageError
from smartlap.fsutil import append_jsonl, atomic_write_json, is_temporary, read_json
from smartlap.paths import get_paths
from smartlap.store import processes
from smartlap.store.listing import READ_ERRORS, DamagedEntry, Listing, damaged_error, gather
from smartlap.store.processes import ProcessRecord
from smartlap.store.run_summary import LogFold, RunSummary

RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
STATE_DIR = "state"
OUTPUT_LOG = "output.log"
LOCKS_DIR = ".locks"


def runs_dir() -> Path:
    return get_paths().runs


def new_run_id() -> str:
    """Sortable by start time, unique enough for one person's machine: 20261121-231500-a3f9."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(2)}"


def run_path(run_id: str) -> Path:
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise UsageError(f"{run_id!r} is not a run id.", "See 'smartlap runs list'.")
    return runs_dir() / run_id


@dataclass
class RunInfo:
    """What a run's files say about it, plus the status derived from events and pid."""

    id: str
    path: Path
    config: dict[str, Any]
    pid: int | None
    created: str
    status: str
    epoch: int | None = None
    epochs: int | None = None
    best_val_loss: float | None = None
    message: str | None = None
    resumable: bool = False
    process: ProcessRecord | None = None
    unreadable_events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def state_path(self) -> Path:
        return self.path / STATE_DIR

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": str(self.path), "status": self.status, "pid": self.pid,
                "created": self.created, "epoch": self.epoch, "epochs": self.epochs,
                "best_val_loss": self.best_val_loss, "message": self.message,
                "resumable": self.resumable, "config": self.config,
                "process": self.process.to_dict() if self.process else None,
                "unreadable_events": self.unreadable_events}


def create_run(config: dict[str, Any], run_id: str | None = None,
               pid: int | None = None) -> Path:
    """Make ``runs/<id>/`` with its run.json; re-using an id (resume, studio start) keeps it.

    A ``pid`` is recorded with its process's start time and command line (``process``)."""
    run_id = run_id or new_run_id()
    path = run_path(run_id)
    path.mkdir(parents=True, exist_ok=True)
    previous = _previous_record(path)
    record = {
        "id": run_id,
        "created": previous.get("created") or datetime.now(timezone.utc).isoformat(
            timespec="seconds"),
        "config": config or previous.get("config", {}),
        "pid": previous.get("pid"),
        "status": "running",
    }
    if "process" in previous:
        record["process"] = previous["process"]
    if pid is not None:
        record.update(_process_fields(pid))
    atomic_write_json(path / RUN_FILE, record)
    return path


def _process_fields(pid: int) -> dict[str, Any]:
    return {"pid": pid, "process": processes.describe(pid).to_dict()}


def update_run(run_id: str, **fields: Any) -> None:
    """Rewrite run.json atomically with some fields changed (status, pid, config); a ``pid``
    is recorded with its process's identity."""
    path = run_path(run_id)
    record = _previous_record(path) or {"id": run_id}
    if fields.get("pid") is not None:
        fields.update(_process_fields(fields["pid"]))
    record.update(fields)
    atomic_write_json(path / RUN_FILE, record)


def _previous_record(path: Path) -> dict[str, Any]:
    """run.json as it is, for a rewrite; {} when it is missing or unreadable."""
    try:
        record = read_json(path / RUN_FILE)
    except READ_ERRORS:
        return {}
    return record if isinstance(record, dict) else {}


def append_event(run_id: str, event: events.Event) -> None:
    """Append one event, flushed, so followers see it at once."""
    append_jsonl(run_path(run_id) / EVENTS_FILE, event.to_dict())


def read_run_events(run_id: str) -> list[events.Event]:
    path = run_path(run_id) / EVENTS_FILE
    return events.read_events(path) if path.exists() else []


_DAMAGED_HINT = ("Its files are in {path}; move that folder out of the runs folder to stop "
                 "seeing it.")


def get_run(run_id: str) -> RunInfo:
    """A run's info; NotFoundError when there is none, DamagedEntry when it cannot be read."""
    path = run_path(run_id)
    if not path.is_dir():
        raise NotFoundError(f"There is no run {run_id!r}.",
                            "See 'smartlap runs list' for the runs on this machine.")
    try:
        info = _load(path)
    except (DamagedEntry, *READ_ERRORS) as error:
        raise damaged_error("run", run_id, error, _DAMAGED_HINT.format(path=path)) from None
    if info is None:
        raise NotFoundError(f"There is no run {run_id!r}.",
                            "See 'smartlap runs list' for the runs on this machine.")
    return info


def scan_runs() -> Listing[RunInfo]:
    """All runs, newest first, and the damaged ones (skipped, each with its reason)."""
    root = runs_dir()
    if not root.is_dir():
        return Listing()
    folders = [path for path in root.iterdir()
               if path.is_dir() and not path.name.startswith(".") and not is_temporary(path)]
    listing = gather("run", ((path.name, lambda path=path: _load(path)) for path in folders))
    listing.entries.sort(key=lambda run: (run.created, run.id), reverse=True)
    return listing


def list_runs() -> list[RunInfo]:
    """All readable runs, newest first (``scan_runs`` also says which were skipped)."""
    return scan_runs().entries


def run_process(path: Path, record: dict[str, Any]) -> ProcessRecord | None:
    """The process a run.json names: its ``process`` record, else (older files) its bare
    ``pid``, trusted only for processes started before run.json was last written."""
    if record.get("process") is not None:
        return ProcessRecord.from_dict(record["process"])
    pid = record.get("pid")
    if pid is None:
        return None
    if processes.legacy(pid, None) is None:
        raise ValueError("'pid' should be a positive whole number")
    try:
        written = (path / RUN_FILE).stat().st_mtime
    except OSError:
        written = None
    return processes.legacy(pid, written)


def derive_status(summary: RunSummary, process: ProcessRecord | None) -> str:
    """finished | failed | cancelled from the log (the ending since its last run_started);
    else running (its process alive) or interrupted (gone, or its pid now someone else's)."""
    if summary.ended:
        return summary.ended
    if processes.is_running(process):
        return "running" if summary.events_seen else "starting"
    return "interrupted"


def live_status(run_id: str, summary: RunSummary) -> str:
    """A followed run's status from the summary its follower keeps and run.json's process
    record: what ``get_run(run_id).status`` says, without reading the log again."""
    path = run_path(run_id)
    try:
        process = run_process(path, _previous_record(path))
    except ValueError:  # a damaged record names no process of ours
        process = None
    return derive_status(summary, process)


_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "created": (str,), "config": (dict,), "status": (str,)}


def _check_record(record: Any) -> dict[str, Any]:
    """run.json's fields, or a DamagedEntry-ready ValueError naming the one that is wrong."""
    if not isinstance(record, dict):
        raise ValueError(f"run.json holds a {type(record).__name__}, not an object")
    for key, types in _RECORD_TYPES.items():
        if record.get(key) is not None and not isinstance(record[key], types):
            raise ValueError(f"run.json: {key!r} has the wrong type "
                             f"({type(record[key]).__name__})")
    return record


def _load(path: Path) -> RunInfo | None:
    """A run folder's info; None for a folder with no run.json (not a run, or one being made)."""
    try:
        raw = read_json(path / RUN_FILE)
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise ValueError(f"run.json is {_json_problem(error)}") from None
    return _summarise(path, _check_record(raw))


def _json_problem(error: ValueError) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return "not valid JSON (truncated?)"


_FOLDS: dict[Path, LogFold] = {}
_FOLDS_LOCK = threading.Lock()


def _fold(path: Path) -> LogFold:
    """The run log's fold, brought up to date (only new lines are read)."""
    with _FOLDS_LOCK:
        fold = _FOLDS.get(path)
        if fold is None:
            fold = _FOLDS[path] = LogFold(path.name, path / EVENTS_FILE)
        fold.update()
        return fold


def _summarise(path: Path, record: dict[str, Any]) -> RunInfo:
    fold = _fold(path)
    summary = fold.summary
    process = run_process(path, record)
    status = derive_status(summary, process)
    info = RunInfo(id=record.get("id") or path.name, path=path,
                   config=record.get("config") or {}, pid=process.pid if process else None,
                   created=record.get("created") or "", status=status, process=process,
                   unreadable_events=fold.unreadable)
    epochs = info.config.get("epochs")
    epochs = epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
    info.epoch = summary.last_epoch
    info.epochs = summary.planned_epochs or epochs
    info.best_val_loss = summary.best_val_loss
    info.message = summary.failure
    info.resumable = status in {"cancelled", "interrupted"} and (path / STATE_DIR).is_dir()
    return info


# Runs started from the studio yield the CPU to the person typing: on a small machine the
# UI and a streaming generation stay responsive, and on a GPU machine training mostly waits
# on the GPU anyway, so the lower priority costs it little.
BACKGROUND_NICENESS = 5


def lower_priority(pid: int, niceness: int = BACKGROUND_NICENESS) -> None:
    """Make ``pid`` nicer by ``niceness`` where the platform supports it (never fatal)."""
    if not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + niceness))


def start_run_process(argv: Sequence[str], run_id: str | None = None,
                      niceness: int = BACKGROUND_NICENESS) -> str:
    """Launch ``python -m smartlap train ARGV`` detached, so it outlives the studio.

    The run folder and run.json exist before this returns, so the caller can tail its
    events at once; stdout/stderr go to ``runs/<id>/output.log``. The process runs at a
    lower CPU priority (``niceness``; 0 keeps the studio's).
    """
    reused = run_id is not None and (run_path(run_id) / RUN_FILE).exists()
    run_id = run_id or new_run_id()
    # A resumed run keeps its training config; a new one records its argv until it starts.
    path = create_run({} if reused else {"argv": list(argv)}, run_id)
    command = [sys.executable, "-m", "smartlap", "train", *argv, "--run-id", run_id]
    with open(path / OUTPUT_LOG, "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, close_fds=True)
    if niceness:
        lower_priority(process.pid, niceness)
    update_run(run_id, pid=process.pid)
    return run_id


def cancel_run(run_id: str, *, force: bool = False) -> RunInfo:
    """Ask a live run to stop: SIGINT (save state, ``run_cancelled``); SIGTERM with force.

    Only the run's own process is signalled: a pid now held by another program is left
    alone, with a message that says so."""
    run = get_run(run_id)
    if run.status not in {"running", "starting"} or run.process is None:
        detail = ""
        if run.process is not None and processes.identify(run.process) is processes.Identity.OTHER:
            detail = (f"; pid {run.process.pid} now belongs to another program, which was "
                      "left alone")
        raise TrainingError(f"Run {run_id} is not running (status: {run.status}){detail}.",
                            "Only a live run can be cancelled; see 'smartlap runs list'.")
    processes.send_signal(run.process, signal.SIGTERM if force else signal.SIGINT,
                          f"run {run_id}")
    return run


@contextlib.contextmanager
def output_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock on a model name while a run writes it.

    An OS-level lock (flock) is released by the kernel when the process dies, so a killed
    run never leaves a stale lock behind.
    """
    locks = runs_dir() / LOCKS_DIR
    locks.mkdir(parents=True, exist_ok=True)
    handle = open(locks / f"{name}.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        if not _try_lock(handle):
            raise TrainingError(
                f"Another run is already writing the model {name!r}.",
                "Wait for it to finish, cancel it ('smartlap runs cancel RUN'), or pick "
                "another --name.")
        yield
    finally:
        handle.close()


def _try_lock(handle: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
