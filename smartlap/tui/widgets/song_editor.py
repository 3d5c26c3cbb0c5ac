"""The song editor: a TextArea that shows ChordPro chords and directives dimmed.

The words are what a songwriter reads; ``[Am]`` and ``{soc}`` are for the guitarist, so
they are drawn in a quiet colour. TextArea highlights through a tree-sitter grammar; songs
have none, so the highlight map is filled from ``smartlap.craft.chordpro`` instead (the
whole song is re-scanned per edit, which costs microseconds at song length).
"""

from __future__ import annotations

import dataclasses

from rich.style import Style
from textual.widgets import TextArea
from textual.widgets.text_area import TextAreaTheme

from smartlap.craft.chordpro import spans

THEME = "smartlap-song"
CHORD_STYLE = Style(color="#8d99ae", dim=True)
DIRECTIVE_STYLE = Style(color="#8d99ae", italic=True)


def _song_theme() -> TextAreaTheme:
    base = TextAreaTheme.get_builtin_theme("css")
    assert base is not None  # a built-in theme of every Textual version smartlap supports
    styles = {**base.syntax_styles, "chord": CHORD_STYLE, "directive": DIRECTIVE_STYLE}
    return dataclasses.replace(base, name=THEME, syntax_styles=styles)


class SongEditor(TextArea):
    """The Write screen's editor (soft-wrapped, chords dimmed)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register_theme(_song_theme())
        self.theme = THEME

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()  # clears the map (no grammar: nothing else)
        highlights = self._highlights
        for row, line in enumerate(self.document.lines):
            for span in spans(line):
                start = len(line[:span.start].encode("utf-8"))  # the map counts bytes
                end = start + len(line[span.start:span.end].encode("utf-8"))
                highlights[row].append((start, end, span.kind))
