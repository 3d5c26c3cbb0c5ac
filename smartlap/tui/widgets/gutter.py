"""The Write screen's gutter: syllable count and rhyme letter beside every line.

A plain letter is a perfect rhyme; a softer letter with "~" a near rhyme (n-deletion such as
alle / wallen, or assonance) with a line of the same stanza.

Syllables are cached per line text, so typing re-counts only the line that changed; the
rhyme letters need the whole song and are recomputed after a short pause in typing
(debounced by the owner). The gutter draws only the visible rows (Line API), scrolled with
the editor. The editor soft-wraps long lines, so the owner hands the gutter how many screen
rows each song line takes: the facts sit on a line's first row, its wrapped rows stay blank.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

WIDTH = 6
_COUNT = Style(color="#8d99ae")
_LETTER = Style(color="#f3722c", bold=True)
_NEAR = Style(color="#f9c74f")  # near rhyme (n-deletion, assonance): softer, with a "~"


def _craft() -> tuple[Callable[[str], int], Callable[[list[str]], list[str]],
                      Callable[[str], bool]] | None:
    try:
        from smartlap.craft import syllables
        from smartlap.craft.chordpro import sung_line
        from smartlap.craft.scheme import is_section_marker, scheme_marks
    except ImportError:  # songcraft not installed in this build
        return None

    def unsung(line: str) -> bool:  # blank, a [Refrein] marker, a {directive} or chords only
        sung = sung_line(line)
        return not sung.strip() or is_section_marker(sung)
    return syllables, scheme_marks, unsung


class LineFacts:
    """Per-line syllable counts (cached by text) and rhyme letters for a song."""

    def __init__(self) -> None:
        self._syllables: dict[str, int] = {}
        self._craft: Any = None
        self.counts: list[int | None] = []
        self.letters: list[str] = []

    @property
    def craft(self) -> Any:
        """The songcraft functions, imported on first use (its lexicon loads in ~0.5 s)."""
        if self._craft is None:
            self._craft = _craft() or False
        return self._craft or None

    def count_lines(self, lines: list[str]) -> None:
        """Cheap: only lines not seen before are counted."""
        if self.craft is None:
            self.counts = [None] * len(lines)
            return
        count, is_marker = self.craft[0], self.craft[2]
        cache = self._syllables
        if len(cache) > 5000:
            cache.clear()
        counts: list[int | None] = []
        for line in lines:
            if not line.strip() or is_marker(line):
                counts.append(None)
                continue
            if line not in cache:
                cache[line] = count(line)
            counts.append(cache[line])
        self.counts = counts

    def letter_lines(self, lines: list[str]) -> None:
        """Rhyme letters across the whole song ("A~" = near rhyme); blank, marker and
        unrhymed lines get none."""
        if self.craft is None:
            self.letters = [""] * len(lines)
            return
        self.letters = ["" if letter == "-" else letter for letter in self.craft[1](lines)]


class Gutter(Widget):
    DEFAULT_CSS = f"Gutter {{ width: {WIDTH}; height: 1fr; }}"

    def __init__(self, facts: LineFacts, **kwargs) -> None:
        super().__init__(**kwargs)
        self.facts = facts
        self.offset_y = 0
        self._row_lines: list[int] | None = None  # screen row -> line; None: one row a line

    def set_line_heights(self, heights: list[int]) -> None:
        """How many screen rows each line takes (the editor's soft wrap)."""
        rows = [-1 if row else line for line, height in enumerate(heights)
                for row in range(max(height, 1))]
        rows = None if len(rows) == len(heights) else rows
        if rows != self._row_lines:
            self._row_lines = rows
            self.refresh()

    def line_at_row(self, row: int) -> int | None:
        """The song line whose facts belong on screen row ``row``; None on a wrapped row."""
        if self._row_lines is None:
            return row
        if row >= len(self._row_lines):
            return None
        line = self._row_lines[row]
        return None if line < 0 else line

    def scroll_to_row(self, row: int) -> None:
        if row != self.offset_y:
            self.offset_y = row
            self.refresh()

    def render_line(self, y: int) -> Strip:
        index = self.line_at_row(self.offset_y + y)
        counts, letters = self.facts.counts, self.facts.letters
        count = counts[index] if index is not None and index < len(counts) else None
        letter = letters[index] if index is not None and index < len(letters) else ""
        segments = [Segment(f"{count:>3} " if count is not None else "    ", _COUNT),
                    Segment(f"{letter[:1]}~", _NEAR) if letter.endswith("~")
                    else Segment(f"{letter[:1]:<1} ", _LETTER)]
        return Strip(segments, WIDTH)
