"""Whether normalised lyrics are a song worth keeping, or why not (a report reason)."""

from __future__ import annotations

from smartlap.store.importers.normalise import is_section_tag

MIN_LINES = 2
MIN_WORDS = 8
MIN_LETTER_SHARE = 0.5


def reject_reason(lyrics: str) -> str | None:
    """None for a usable song; otherwise "empty", "not text" or "too short"."""
    lines = [line for line in lyrics.split("\n") if line and not is_section_tag(line)]
    if not lines:
        return "empty"
    body = "".join("".join(lines).split())
    letters = sum(1 for char in body if char.isalpha())
    if letters < MIN_LETTER_SHARE * len(body):
        return "not text"
    words = sum(len(line.split()) for line in lines)
    if len(lines) < MIN_LINES or words < MIN_WORDS:
        return "too short"
    return None
