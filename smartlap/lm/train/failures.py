"""What can go wrong in a run, and what to tell the person.

Each failure becomes a ``TrainingError`` (message + hint) that the engine writes as a
``run_failed`` event before the process exits cleanly. Out-of-memory detection reuses
``smartlap.lm.device.is_out_of_memory``, so tests can fake an OOM by raising
``torch.cuda.OutOfMemoryError`` at the model boundary.
"""

from __future__ import annotations

from smartlap.errors import DiskFullError, SmartlapError, TrainingError
from smartlap.fsutil import is_disk_full
from smartlap.lm.device import is_out_of_memory

OOM_HINT = ("Lower --batch-size (raise --grad-accum to keep the effective batch), lower "
            "--block-size, add --gradient-checkpointing, or train adapters only with "
            "--mode lora.")


def out_of_memory(device: str) -> TrainingError:
    where = "The GPU" if device.startswith("cuda") else "This machine"
    return TrainingError(f"{where} ran out of memory while training.", OOM_HINT)


def disk_full(what: str, run_id: str | None) -> DiskFullError:
    resume = f", then 'smartlap train --resume {run_id}'" if run_id else ""
    return DiskFullError(
        f"The disk is full: saving the {what} failed. The previous best checkpoint and the "
        "previous resumable state are unchanged.",
        f"Free some disk space (or set SMARTLAP_HOME to a bigger disk){resume}.")


def explain(error: BaseException, *, device: str = "cpu", run_id: str | None = None,
            saving: str | None = None) -> SmartlapError | None:
    """The person-facing error for ``error``, or None when it is a bug (keep the traceback)."""
    if isinstance(error, SmartlapError):
        return error
    if is_out_of_memory(error):
        return out_of_memory(device)
    if is_disk_full(error):
        return disk_full(saving or "checkpoint", run_id)
    return None


def unexpected(error: BaseException) -> TrainingError:
    text = str(error).splitlines()[0] if str(error) else ""
    return TrainingError(f"Training stopped on an unexpected error: {type(error).__name__}"
                         + (f": {text}" if text else ""),
                         "Run the same command with --debug for the full traceback, and "
                         "report it if it keeps happening.")
