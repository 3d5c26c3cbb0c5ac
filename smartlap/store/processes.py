"""Which process is a run's: a pid plus that process's start time and command line.

A pid alone names a process only while it lives: once a run dies (SIGKILL, power cut) the
kernel hands its pid to the next process that asks, so "is pid N alive?" can answer yes for
a shell or an editor, a run looks ``running`` for ever, and a cancel would signal that
stranger. A ``ProcessRecord`` is written into run.json when the run's process starts and
``identify`` compares it with whatever holds the pid now:

- ``OURS``: alive, same start time (within ``START_TOLERANCE_S``, for the boot-time jitter of
  ``/proc``), same command line (where both are known);
- ``GONE``: no such process, or a zombie waiting to be reaped;
- ``OTHER``: the pid is alive but is a different process (it started later, or runs another
  command): the run is over, and that process is never signalled;
- ``UNKNOWN``: alive, but nothing can be compared (no psutil and no /proc). Such a run is
  shown as running, but ``send_signal`` refuses it.

Old run.json files hold only ``pid``. They are read conservatively as a record with no start
time but an upper bound on it: the process that wrote or was written into run.json was
alive when run.json was last written, so a process at that pid that started *after*
run.json's modification time (``not_after``) cannot be the run's. Such a record is ``OURS``
only when the current process's start time is known and not later than that bound; without
one it is ``UNKNOWN`` (never signalled). Start times come from psutil's ``create_time`` when
psutil imports, else from field 22 of ``/proc/PID/stat`` plus the boot time, both as Unix
seconds; elsewhere they are unknown.
"""

from __future__ import annotations

import contextlib
import enum
import os
import signal as signals
import time
from dataclasses import dataclass
from typing import Any

from smartlap.errors import TrainingError

START_TOLERANCE_S = 1.0


class Identity(enum.Enum):
    OURS = "ours"
    GONE = "gone"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProcessRecord:
    """What identifies one process: pid, start time (Unix seconds), command line."""

    pid: int
    started: float | None = None
    cmdline: tuple[str, ...] | None = None
    not_after: float | None = None  # legacy records: the process started no later than this

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "started": self.started,
                "cmdline": list(self.cmdline) if self.cmdline is not None else None}

    @classmethod
    def from_dict(cls, data: Any) -> ProcessRecord:
        """Read a stored record; a ValueError names the field that has the wrong type."""
        if not isinstance(data, dict):
            raise ValueError("'process' should be an object")
        pid, started, cmdline = data.get("pid"), data.get("started"), data.get("cmdline")
        if not _is_pid(pid):
            raise ValueError("'process.pid' should be a positive whole number")
        if started is not None and (isinstance(started, bool)
                                    or not isinstance(started, int | float)):
            raise ValueError("'process.started' should be a number")
        if cmdline is not None and (not isinstance(cmdline, list)
                                    or not all(isinstance(a, str) for a in cmdline)):
            raise ValueError("'process.cmdline' should be a list of strings")
        return cls(pid, float(started) if started is not None else None,
                   tuple(cmdline) if cmdline is not None else None)


def _is_pid(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def legacy(pid: Any, not_after: float | None) -> ProcessRecord | None:
    """A record for a bare pid (old run.json, an event's pid), bounded by ``not_after``."""
    if not _is_pid(pid):
        return None
    return ProcessRecord(pid, not_after=not_after)


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency; kept for odd installs
        return None
    return psutil


@dataclass(frozen=True)
class _Seen:
    started: float | None
    cmdline: tuple[str, ...] | None


def _observe(pid: int) -> _Seen | None:
    """What holds ``pid`` now, or None when nothing (or a zombie) does."""
    psutil = _psutil()
    if psutil is not None:
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            started = process.create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        except psutil.AccessDenied:
            return _Seen(None, None) if _exists(pid) else None
        try:
            cmdline: tuple[str, ...] | None = tuple(process.cmdline())
        except (psutil.AccessDenied, psutil.ZombieProcess):
            cmdline = None
        except psutil.NoSuchProcess:
            return None
        return _Seen(started, cmdline)
    proc = _proc_stat(pid)
    if proc is not None:
        state, started = proc
        return None if state == "Z" else _Seen(started, _proc_cmdline(pid))
    return _Seen(None, None) if _exists(pid) else None


def start_time(pid: int) -> float | None:
    """When the process now holding ``pid`` started (Unix seconds); None if none or unknown."""
    seen = _observe(pid)
    return seen.started if seen is not None else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: it exists
    return True


def _proc_stat(pid: int) -> tuple[str, float | None] | None:
    """(state, start time in Unix seconds) from /proc/PID/stat, None when absent."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and ')': the fields follow its last ')'.
    fields = raw[raw.rfind(")") + 2:].split()
    try:
        ticks = int(fields[19])  # field 22, counted from 1, of which fields[0] is field 3
        boot = _boot_time()
        hertz = os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError):
        return (fields[0] if fields else "?"), None
    return fields[0], (boot + ticks / hertz) if boot is not None else None


def _boot_time() -> float | None:
    with contextlib.suppress(OSError, ValueError), open("/proc/stat", encoding="ascii",
                                                        errors="replace") as handle:
        for line in handle:
            if line.startswith("btime "):
                return float(line.split()[1])
    return None


def _proc_cmdline(pid: int) -> tuple[str, ...] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return tuple(part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0")[:-1])


def describe(pid: int | None = None) -> ProcessRecord:
    """The record of a live process (this one by default), to store when a run starts."""
    pid = os.getpid() if pid is None else pid
    seen = _observe(pid)
    if seen is None:
        return ProcessRecord(pid)
    return ProcessRecord(pid, seen.started, seen.cmdline)


def identify(record: ProcessRecord | None) -> Identity:
    """Whether ``record``'s process still runs (see the module docstring)."""
    if record is None:
        return Identity.GONE
    seen = _observe(record.pid)
    if seen is None:
        return Identity.GONE
    if record.started is not None and seen.started is not None:
        if abs(record.started - seen.started) > START_TOLERANCE_S:
            return Identity.OTHER
        if record.cmdline and seen.cmdline and record.cmdline != seen.cmdline:
            return Identity.OTHER
        return Identity.OURS
    if record.not_after is not None and seen.started is not None:
        if seen.started > record.not_after + START_TOLERANCE_S:
            return Identity.OTHER
        return Identity.OURS
    if record.cmdline and seen.cmdline:
        return Identity.OURS if record.cmdline == seen.cmdline else Identity.OTHER
    return Identity.UNKNOWN


def is_running(record: ProcessRecord | None) -> bool:
    """True while the run's own process may still be running (OURS or UNKNOWN)."""
    return identify(record) in (Identity.OURS, Identity.UNKNOWN)


def send_signal(record: ProcessRecord, sig: int, what: str = "the run") -> None:
    """Signal ``record``'s process, and only it: a TrainingError when it is not (any more).

    On Linux the process is pinned with a pidfd before it is identified, so it cannot be
    replaced between the check and the signal.
    """
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(record.pid)  # type: ignore[attr-defined]
    try:
        identity = identify(record)
        if identity is not Identity.OURS:
            raise refusal(record, identity, what)
        if pidfd is not None:
            try:
                signals.pidfd_send_signal(pidfd, sig)  # type: ignore[attr-defined]
                return
            except ProcessLookupError:
                raise refusal(record, Identity.GONE, what) from None
            except (AttributeError, OSError):
                pass
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            raise refusal(record, Identity.GONE, what) from None
    finally:
        if pidfd is not None:
            os.close(pidfd)


def refusal(record: ProcessRecord, identity: Identity, what: str) -> TrainingError:
    """Why ``what``'s process was not signalled, as one message with a hint."""
    hint = "See 'smartlap runs list'; a stopped run can be resumed with 'smartlap train --resume'."
    if identity is Identity.GONE:
        return TrainingError(f"The process of {what} (pid {record.pid}) has ended.", hint)
    if identity is Identity.OTHER:
        return TrainingError(f"The process of {what} (pid {record.pid}) has ended, and pid "
                             f"{record.pid} now belongs to another program, which was left "
                             "alone.", hint)
    return TrainingError(f"Cannot tell whether pid {record.pid} is still {what}'s process, so "
                         "it was not signalled.",
                         f"Stop it yourself if it is (kill -INT {record.pid}).")


def wait_for_exit(record: ProcessRecord, timeout: float) -> bool:
    """Wait until ``record``'s process is gone (or its pid is someone else's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(record):
            return True
        time.sleep(0.1)
    return not is_running(record)
