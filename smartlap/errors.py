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
