"""What a reader yields: a song as found in the source, or a record it had to skip."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RawSong:
    """A song as read, before normalisation; ``where`` says where it came from ("row 12")."""

    lyrics: str
    where: str
    title: str = ""
    artist: str = ""


@dataclass(frozen=True)
class Skipped:
    """A record the reader could not use, with a reason from ``report.REASONS``."""

    where: str
    reason: str
    detail: str = ""


Opener = Callable[[], Iterator["RawSong | Skipped"]]
"""What a reader returns: opens the source's records from the start, as often as asked (the
boilerplate finder reads a source twice)."""
