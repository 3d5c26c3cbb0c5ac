"""One error type the whole core raises, so every front end can show it the same way.

The CLI prints ``message`` and ``hint`` and exits non-zero; the studio shows them as a
notification. Tracebacks are only for ``--debug``.
"""

from __future__ import annotations


class SmartlapError(Exception):
    """A problem the person can act on: what went wrong, and what to try."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(SmartlapError):
    """Bad options or arguments (exit code 2, like argparse)."""

    exit_code = 2


class NotFoundError(SmartlapError):
    """A named dataset, model, run, song or style does not exist."""


class AlreadyExistsError(SmartlapError):
    """A name is taken and the person did not ask to overwrite it."""


class InputError(SmartlapError):
    """A file the person gave us cannot be used (missing, binary, empty, undecodable...)."""


class ModelError(SmartlapError):
    """A model or checkpoint cannot be loaded or used safely."""


class TrainingError(SmartlapError):
    """A fine-tuning run cannot start or continue."""


DISK_FULL_HINT = ("Free some disk space and try again (the data home can move to a bigger disk: "
                  "set SMARTLAP_HOME).")


class DiskFullError(SmartlapError):
    """A write failed because the disk or the quota is full; what was there before is intact."""

    def __init__(self, message: str, hint: str | None = DISK_FULL_HINT) -> None:
        super().__init__(message, hint)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl+C so every cleanup path that handles one handles both."""


def interrupt_exit_code(error: BaseException) -> int:
    """The shell's code for a stop: 143 (128 + SIGTERM) or 130 (128 + SIGINT)."""
    return 143 if isinstance(error, Terminated) else 130
