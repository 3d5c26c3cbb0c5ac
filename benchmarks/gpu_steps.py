"""Guarded steps under one time budget: each is timed, one failure is reported, the rest run.

A step is a function of the check's context returning its figures (a JSON-able dict). It
runs under a wall-clock limit (``SIGALRM``: a hung step ends with ``StepTimeout`` instead
of eating the whole budget), any exception becomes its record's ``error`` (with the last
lines of the traceback), and a step whose expected time no longer fits what is left of the
budget is skipped, with the reason. After each step the caller writes the report, so a run
that is killed still leaves every finished step's figures behind.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

StepFunction = Callable[[Any], dict[str, Any]]


class StepTimeout(Exception):
    """A step ran past its limit."""


@dataclass(frozen=True)
class Step:
    """``section``/``name`` in the report; ``expected_s``: its time in the full GPU run."""

    section: str
    name: str
    run: StepFunction
    expected_s: float
    optional: bool = False  # "if time allows": runs only when its expected time fits

    @property
    def key(self) -> str:
        return f"{self.section}/{self.name}" if self.name else self.section


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``StepTimeout`` in this (main) thread after ``seconds``."""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise StepTimeout(f"ran past its {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _release_memory() -> None:
    """Between steps: free what the last one left, so each step's peak is its own."""
    from smartlap.lm.device import release_memory

    release_memory()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    accelerate_state = sys.modules.get("accelerate.state")
    if accelerate_state is not None:  # each run picks its own mixed precision
        accelerate_state.AcceleratorState._reset_state(reset_partial_state=True)


def run_step(step: Step, context: Any, limit_s: float) -> dict[str, Any]:
    """One step's record: status ok/error, seconds, its figures or its error."""
    record: dict[str, Any] = {"status": "ok", "expected_s": step.expected_s,
                              "limit_s": round(limit_s, 1)}
    started = time.monotonic()
    try:
        with time_limit(limit_s):
            record["figures"] = step.run(context)
    except Exception as error:  # the point: report it and go on with the next step
        record["status"] = "error"
        record["error"] = f"{type(error).__name__}: {error}".strip()[:2000]
        record["traceback"] = traceback.format_exc().splitlines()[-25:]
    finally:
        record["seconds"] = round(time.monotonic() - started, 2)
        with contextlib.suppress(Exception):
            _release_memory()
    return record


def skipped(step: Step, reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason, "expected_s": step.expected_s,
            "seconds": 0.0}


def run_all(steps: list[Step], context: Any, budget_s: float, scale: float,
            on_record: Callable[[Step, dict[str, Any]], None]) -> None:
    """Run ``steps`` in order inside ``budget_s``; ``on_record`` sees each record at once.

    ``scale`` turns a full-run expected time into this run's (the dry run's are far
    shorter). A step gets at most three times its expected time (and at least 30 s), never
    more than what is left; an optional one runs only if its expected time is left.
    """
    deadline = time.monotonic() + budget_s
    for step in steps:
        left = deadline - time.monotonic()
        expected = step.expected_s * scale
        if left < min(expected, 5.0) or (step.optional and left < expected):
            on_record(step, skipped(step, f"out of time ({left:.0f} s left of the budget, "
                                          f"{expected:.0f} s expected)"))
            continue
        on_record(step, run_step(step, context, min(left, max(3 * expected, 30.0))))
