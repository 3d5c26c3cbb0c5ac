"""What a reader yields: a song as found in the source, or a record it had to skip."""

from __future__ import annotations

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
