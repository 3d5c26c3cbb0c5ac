"""The song editor with its gutter, kept in step: one job, so the Write screen need not.

Each edit recounts the syllables of the changed lines at once (the per-line cache makes that
one line's work); the rhyme letters, which look across lines, follow after a short pause in
typing. The gutter scrolls with the editor and gives each song line as many rows as the
editor's soft wrap does.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer

from smartlap.tui.widgets.gutter import Gutter, LineFacts
from smartlap.tui.widgets.song_editor import SongEditor

LETTERS_DEBOUNCE_SECONDS = 0.15


class EditorPane(Horizontal):
    """Gutter + song editor; ``refresh_gutter`` after the text changed."""

    def __init__(self, facts: LineFacts, **kwargs) -> None:
        super().__init__(**kwargs)
        self.facts = facts
        self._letters_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Gutter(self.facts, id="gutter")
        yield SongEditor(id="editor", soft_wrap=True, tab_behavior="focus",
                         show_line_numbers=False)

    def on_mount(self) -> None:
        editor = self.query_one(SongEditor)
        self.watch(editor, "scroll_y", self._follow_scroll, init=False)
        self.watch(editor, "virtual_size", self._follow_wrap, init=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._follow_wrap)

    def refresh_gutter(self, full: bool) -> None:
        """Recount the syllables now; the rhyme letters now (``full``) or after a pause."""
        lines = self._lines()
        self.facts.count_lines(lines)
        if len(self.facts.letters) != len(lines):
            self.facts.letters = (self.facts.letters + [""] * len(lines))[:len(lines)]
        if full:
            self.facts.letter_lines(lines)
        else:
            if self._letters_timer is not None:
                self._letters_timer.stop()
            self._letters_timer = self.set_timer(LETTERS_DEBOUNCE_SECONDS, self._update_letters)
        self._follow_wrap()
        self.query_one(Gutter).refresh()

    def _lines(self) -> list[str]:
        return self.query_one(SongEditor).text.split("\n")

    def _update_letters(self) -> None:
        self.facts.letter_lines(self._lines())
        self.query_one(Gutter).refresh()

    def _follow_scroll(self, scroll_y: float) -> None:
        self.query_one(Gutter).scroll_to_row(int(scroll_y))

    def _follow_wrap(self, *_: object) -> None:
        """One row of facts per row the editor's soft wrap gives each song line."""
        editor = self.query_one(SongEditor)
        wrapped = editor.wrapped_document
        heights = [len(wrapped.get_offsets(line)) + 1 for line in range(editor.document.line_count)]
        self.query_one(Gutter).set_line_heights(heights)
