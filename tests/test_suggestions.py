"""The Write screen's suggestion fold on its own: the core's Token/SampleEnd events in, what
the pane shows out (no Textual app)."""

from __future__ import annotations

from dataclasses import dataclass

from smartlap.craft.originality import Match
from smartlap.events import SampleEnd, Token
from smartlap.tui.suggestions import (
    COPIED_MARK,
    NEAR_MARK,
    Change,
    Suggestions,
    clean_text,
    note_sentences,
)


def _end(sample: int, text: str | None, notes: list[str] | None = None,
         reason: str = "eos") -> SampleEnd:
    return SampleEnd(reason=reason, tokens=3, seconds=0.5, time_to_first_token=0.1,
                     sample=sample, text=text, notes=notes or [])


def test_tokens_stream_into_their_alternative_and_only_the_shown_one_appends() -> None:
    fold = Suggestions()
    fold.start(2)
    assert fold.apply(Token(text="de kroeg\r\n", sample=1)) == Change(append="de kroeg\n")
    assert fold.apply(Token(text="het licht\x07", sample=2)) == Change()  # not shown
    assert fold.alternatives == ["de kroeg\n", "het licht"]
    assert fold.apply(Token(text="x", sample=4)) == Change()
    assert fold.alternatives == ["de kroeg\n", "het licht", "", "x"]


def test_the_final_text_comes_from_sample_end_with_its_notes() -> None:
    fold = Suggestions()
    fold.start(1)
    fold.apply(Token(text="de haven\nhet licht\nde haven\n", sample=1))
    change = fold.apply(_end(1, "de haven\nhet licht\n", ["repeated line cut"], "repetition"))
    assert change == Change(rerender=True)
    assert fold.alternatives == ["de haven\nhet licht\n"]
    assert fold.shown_notes() == ["repeated line cut"]
    assert fold.finished_text(1) == "de haven\nhet licht\n"
    assert note_sentences(fold.shown_notes()) == " Note: repeated line cut."


def test_an_end_that_changes_nothing_or_comes_late_keeps_the_text() -> None:
    fold = Suggestions()
    fold.start(2)
    fold.apply(Token(text="een\n", sample=1))
    assert fold.apply(_end(1, "een\n")) == Change()  # same text: no re-render
    fold.apply(Token(text="twee", sample=2))
    assert fold.apply(_end(2, "TWEE")) == Change()  # not shown: replaced, no re-render
    assert fold.alternatives[1] == "TWEE"
    fold.settle()  # Escape: later events change nothing
    assert fold.apply(Token(text="laat", sample=1)) == Change()
    fold.apply(_end(1, "anders", ["prompt truncated"]))
    assert fold.alternatives == ["een\n", "TWEE"]
    assert fold.shown_notes() == ["prompt truncated"]  # the note is still known


def test_settle_drops_trailing_empty_alternatives_and_keeps_the_numbers() -> None:
    fold = Suggestions()
    fold.start(3)
    fold.apply(Token(text="een", sample=1))
    fold.shown = 2
    assert fold.settle() == Change(rerender=True)
    assert fold.alternatives == ["een"] and fold.shown == 0
    assert not fold.streaming


def test_next_alternative_skips_empty_ones_and_wraps() -> None:
    fold = Suggestions(alternatives=["een", "", "drie"])
    assert fold.next_alternative() and fold.shown == 2
    assert fold.next_alternative() and fold.shown == 0
    assert not Suggestions(alternatives=["een", ""]).next_alternative()


def test_copied_lines_are_marked_on_the_shown_alternative_only() -> None:
    fold = Suggestions()
    fold.start(2)
    fold.apply(Token(text="een\ntwee\ndrie", sample=1))
    fold.apply(Token(text="vier", sample=2))
    copied = Match("copied", "een", "een", 1.0)
    near = Match("near", "drie", "drei", 0.9)
    assert fold.found_copies(1, "demo", []) == Change()
    assert fold.found_copies(2, "demo", [(0, copied)]) == Change()
    assert fold.found_copies(1, "demo", [(0, copied), (2, near)]) == Change(rerender=True)
    assert fold.marked() == f"{COPIED_MARK}een\ntwee\n{NEAR_MARK}drie"
    assert fold.alternatives[0] == "een\ntwee\ndrie"  # the mark is not part of the text
    assert "2 lines copied from demo" in fold.notice()


@dataclass
class _Candidate:
    text: str
    syllables: int
    copied: bool = False
    source: str | None = None


def test_candidates_become_alternatives_with_a_listing() -> None:
    fold = Suggestions()
    fold.start(0)
    listing = fold.candidates([_Candidate("het licht\r", 4),
                               _Candidate("moeder wacht", 4, True, "moeder wacht")], "demo")
    assert fold.alternatives == ["het licht\n\n", "moeder wacht\n"]
    assert listing.splitlines() == ["1. het licht", "  (4 syl)",
                                    f"{COPIED_MARK}2. moeder wacht  (4 syl, copied)"]
    assert not fold.streaming and list(fold.copies) == [1]
    assert fold.copies[1][1][0][1].kind == "copied"


def test_tabs_show_the_shown_one_and_dim_empty_ones_once_done() -> None:
    fold = Suggestions()
    fold.start(3)
    fold.apply(Token(text="een", sample=1))
    assert fold.tabs() == "[reverse]1[/] 2 3  "
    fold.streaming = False
    assert fold.tabs() == "[reverse]1[/] [dim]2[/] [dim]3[/]  "
    assert Suggestions(alternatives=["een"]).tabs() == ""


def test_clean_text_keeps_tabs_and_drops_control_characters() -> None:
    assert clean_text("a\tb\x00c\x7f\rd") == "a\tbc\nd"


def test_the_fold_needs_no_textual() -> None:
    import subprocess
    import sys

    code = "import sys, smartlap.tui.suggestions; assert 'textual' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
