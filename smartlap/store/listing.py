"""Listings that survive a damaged entry: one bad file never hides the others.

A run, dataset or model is a folder of files that anything may have damaged: a disk that
filled mid-write in an older version, a hand edit, bytes appended by a crashing tool. A
store lists its entries with ``gather``: each entry is loaded on its own, and one that
cannot be read becomes a ``Damaged`` line (its name and a one-line reason) instead of an
exception that empties the whole list. Front ends show ``Listing.entries`` as before and
``Listing.damaged`` as one line each (``Damaged.line``), on stderr for the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from smartlap.errors import SmartlapError

T = TypeVar("T")

# What reading a damaged entry raises: undecodable or truncated JSON (ValueError covers
# UnicodeDecodeError and JSONDecodeError), a value of the wrong type or shape, a file gone.
READ_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
               RecursionError)


class DamagedEntry(SmartlapError):
    """An entry whose files cannot be read; ``reason`` says why in a few words."""

    def __init__(self, kind: str, name: str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"The {kind} {name!r} is damaged: {reason}.", hint)
        self.kind, self.name, self.reason = kind, name, reason


@dataclass(frozen=True)
class Damaged:
    """A skipped entry of a listing, and why it was skipped."""

    kind: str
    name: str
    reason: str

    @property
    def line(self) -> str:
        return f"skipped the damaged {self.kind} {self.name!r}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "reason": self.reason}


@dataclass
class Listing(Generic[T]):
    """The readable entries of a store, and the damaged ones that were skipped."""

    entries: list[T] = field(default_factory=list)
    damaged: list[Damaged] = field(default_factory=list)


def reason(error: BaseException) -> str:
    """A one-line reason for a read failure (no traceback, no multi-line messages)."""
    if isinstance(error, DamagedEntry):
        return error.reason
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text (byte {error.start})"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON ({error.msg}, line {error.lineno} column {error.colno})"
    if isinstance(error, SmartlapError):
        text = error.message
    elif isinstance(error, OSError):
        text = f"cannot be read ({error.strerror or error})"
    elif isinstance(error, KeyError):
        text = f"missing {error}"
    elif isinstance(error, RecursionError):
        text = "nested too deeply"
    elif type(error) is ValueError:  # a reader's own words: "run.json holds a list..."
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    first = " ".join(str(text).split())
    return first if len(first) <= 160 else first[:157] + "..."


def damaged_error(kind: str, name: str, error: BaseException,
                  hint: str | None = None) -> DamagedEntry:
    """``error`` (a read failure) as the DamagedEntry a ``show`` raises."""
    if isinstance(error, DamagedEntry):
        return error
    return DamagedEntry(kind, name, reason(error), hint)


def gather(kind: str, candidates: Iterable[tuple[str, Callable[[], T | None]]]) -> Listing[T]:
    """Load each ``(name, load)``; a load that fails is recorded as damaged, None is skipped."""
    listing: Listing[T] = Listing()
    for name, load in candidates:
        try:
            entry = load()
        except (DamagedEntry, *READ_ERRORS) as error:
            listing.damaged.append(Damaged(kind, name, reason(error)))
            continue
        if entry is not None:
            listing.entries.append(entry)
    return listing
