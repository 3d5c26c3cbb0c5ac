"""Whether normalised lyrics are a song worth keeping, or why not (a report reason)."""

from __future__ import annotations

import re

from smartlap.store.importers.normalise import text_lines

_NOT_LETTERS = re.compile(r"[\W\d_]+")
MIN_LINES = 2
MIN_WORDS = 8
MIN_LETTER_SHARE = 0.5


def judge(lyrics: str, lines: list[str] | None = None) -> tuple[str, str] | None:
    """None for a usable song; otherwise ("empty" | "not text" | "too short", what was found),
    so a skip says why in numbers ("1 sung line, 5 words").

    ``lines`` may pass ``text_lines(lyrics)`` when the caller has it already.
    """
    lines = text_lines(lyrics) if lines is None else lines
    if not lines:
        return "empty", "no sung lines"
    body = "".join("".join(lines).split())
    letters = len(_NOT_LETTERS.sub("", body))
    if letters < MIN_LETTER_SHARE * len(body):
        return "not text", f"{letters / len(body):.0%} letters (numbers or codes, not lyrics)"
    words = sum(map(len, map(str.split, lines)))
    if len(lines) < MIN_LINES or words < MIN_WORDS:
        return "too short", (f"{_count(len(lines), 'sung line')}, {_count(words, 'word')}; a "
                             f"song needs {MIN_LINES} lines and {MIN_WORDS} words")
    return None


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'s' * (number != 1)}"


def reject_reason(lyrics: str, lines: list[str] | None = None) -> str | None:
    """None for a usable song; otherwise "empty", "not text" or "too short"."""
    found = judge(lyrics, lines)
    return found[0] if found else None
