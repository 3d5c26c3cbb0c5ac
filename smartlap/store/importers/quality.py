"""Whether normalised lyrics are a song worth keeping, or why not (a report reason)."""

from __future__ import annotations

import re

from smartlap.store.importers.normalise import text_lines

_NOT_LETTERS = re.compile(r"[\W\d_]+")
MIN_LINES = 2
MIN_WORDS = 8
MIN_LETTER_SHARE = 0.5


def reject_reason(lyrics: str, lines: list[str] | None = None) -> str | None:
    """None for a usable song; otherwise "empty", "not text" or "too short".

    ``lines`` may pass ``text_lines(lyrics)`` when the caller has it already.
    """
    lines = text_lines(lyrics) if lines is None else lines
    if not lines:
        return "empty"
    body = "".join("".join(lines).split())
    letters = len(_NOT_LETTERS.sub("", body))
    if letters < MIN_LETTER_SHARE * len(body):
        return "not text"
    words = sum(map(len, map(str.split, lines)))
    if len(lines) < MIN_LINES or words < MIN_WORDS:
        return "too short"
    return None
