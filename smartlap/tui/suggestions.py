"""What the Write screen's suggestion pane holds, as a pure fold of generation events.

``Suggestions.apply`` takes the core's own ``Token`` and ``SampleEnd`` events (the way
``store.run_summary.RunSummary`` folds a run's events): each alternative's text as it
streams, then its final text from ``SampleEnd.text`` (a cut repeat is gone), its notes
("prompt truncated", "repeated line cut") and the copied lines the originality check found.
Next-line candidates fill it too. No Textual here: the view asks it what to show, and it is
unit-tested on its own (tests/test_suggestions.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smartlap.events import SampleEnd, Token

COPIED_MARK = "© "  # before a suggestion line copied from the model's training lyrics
NEAR_MARK = "≈ "  # before a line that is a near copy of one
_CONTROL = {c: None for c in range(32) if chr(c) not in "\n\t"} | {127: None}

# (training dataset, [(line number, originality Match)]) of one alternative
Copies = tuple[str | None, list[tuple[int, Any]]]


def clean_text(text: str) -> str:
    """Model output as song text: line breaks normalised, control characters dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROL)


def mark_copies(text: str, rows: list[tuple[int, Any]]) -> str:
    """The suggestion text with a mark before each copied (©) or near-copied (≈) line."""
    kinds = {row: match.kind for row, match in rows}
    if not kinds:
        return text
    return "\n".join(
        (COPIED_MARK if kinds[row] == "copied" else NEAR_MARK) + line if row in kinds else line
        for row, line in enumerate(text.split("\n")))


def copies_notice(count: int, dataset: str | None, what: str = "line") -> str:
    """The one-line notice under the suggestion ("2 lines copied from demo")."""
    if not count:
        return ""
    plural = "s" if count != 1 else ""
    source = dataset or "the training data"
    return f"[yellow]{COPIED_MARK}{count} {what}{plural} copied from {source}[/]"


def note_sentences(notes: Sequence[str]) -> str:
    """Notes as the status line ends with them (" Note: prompt truncated.")."""
    return "".join(f" Note: {note}." for note in notes)


def candidate_match(candidate: Any) -> Any:
    """A next-line candidate's copy flag as an originality Match, to mark it like a line."""
    from smartlap.craft.originality import Match, normalise_line

    source = candidate.source or ""
    exact = normalise_line(source) == normalise_line(candidate.text)
    return Match("copied" if exact else "near", candidate.text, source, 1.0 if exact else 0.0)


@dataclass(frozen=True)
class Change:
    """What one folded event means for the shown alternative: text to append as it streams,
    or a re-render (its final text or its copy marks changed)."""

    append: str = ""
    rerender: bool = False


@dataclass
class Suggestions:
    """The alternatives of one generation (or one next-line search) and what is known of each."""

    alternatives: list[str] = field(default_factory=list)
    shown: int = 0  # index of the alternative on screen
    ends: dict[int, SampleEnd] = field(default_factory=dict)  # sample number -> its end
    copies: dict[int, Copies] = field(default_factory=dict)  # alternative index -> copies
    streaming: bool = False  # False once stopped or done: late events change nothing

    def start(self, samples: int = 0) -> None:
        """A new generation: ``samples`` empty alternatives, none shown but the first."""
        self.alternatives = [""] * samples
        self.shown = 0
        self.ends = {}
        self.copies = {}
        self.streaming = True

    def apply(self, event: Token | SampleEnd) -> Change:
        """Fold one streamed event (a Token may carry a batch of tokens' text)."""
        if isinstance(event, SampleEnd):
            return self._end(event)
        if not self.streaming:
            return Change()  # stopped or superseded: late tokens are dropped
        text = clean_text(event.text)
        index = max(event.sample - 1, 0)
        while len(self.alternatives) <= index:
            self.alternatives.append("")
        self.alternatives[index] += text
        return Change(append=text if index == self.shown else "")

    def _end(self, end: SampleEnd) -> Change:
        self.ends[end.sample] = end
        index = end.sample - 1
        if not (self.streaming and end.text is not None and 0 <= index < len(self.alternatives)):
            return Change()
        final = clean_text(end.text)  # the sample's own text: a cut repeat is gone
        if final == self.alternatives[index]:
            return Change()
        self.alternatives[index] = final
        return Change(rerender=index == self.shown)

    def finished_text(self, sample: int) -> str:
        """The text of a finished sample when it holds words (to check for copies), or ""."""
        index = sample - 1
        text = self.alternatives[index] if 0 <= index < len(self.alternatives) else ""
        return text if text.strip() else ""

    def candidates(self, found: Sequence[Any], dataset: str | None) -> str:
        """Next-line candidates, best first, as the alternatives; the listing to show."""
        self.alternatives = [clean_text(c.text) + "\n" for c in found]
        self.shown = 0
        self.ends = {}
        self.copies = {i: (dataset, [(0, candidate_match(c))])
                       for i, c in enumerate(found) if c.copied}
        self.streaming = False
        return "\n".join(
            f"{COPIED_MARK if c.copied else ''}{i + 1}. {clean_text(c.text)}  "
            f"({c.syllables} syl{', copied' if c.copied else ''})"
            for i, c in enumerate(found))

    def found_copies(self, sample: int, dataset: str | None,
                     rows: list[tuple[int, Any]]) -> Change:
        """The originality check of one alternative; nothing to mark leaves it as it was."""
        if not rows:
            return Change()
        self.copies[sample - 1] = (dataset, rows)
        return Change(rerender=sample - 1 == self.shown)

    def settle(self) -> Change:
        """Nothing streams any more: only alternatives that hold words are offered.

        Samples stream one after another, so the empty ones (not started when Escape came)
        are the last ones: dropping them keeps every other alternative's number."""
        self.streaming = False
        while self.alternatives and not self.alternatives[-1].strip():
            self.alternatives.pop()
        if self.shown >= len(self.alternatives):
            self.shown = 0
            return Change(rerender=True)
        return Change()

    def next_alternative(self) -> bool:
        """Show the next alternative with words (wrapping round); False when there is none."""
        offered = self.offered
        later = [i for i in offered if i > self.shown]
        following = later[0] if later else (offered[0] if offered else self.shown)
        if following == self.shown:
            return False
        self.shown = following
        return True

    @property
    def offered(self) -> list[int]:
        """The indexes of the alternatives that hold words."""
        return [i for i, text in enumerate(self.alternatives) if text.strip()]

    @property
    def shown_text(self) -> str:
        return self.alternatives[self.shown] if self.alternatives else ""

    def shown_notes(self) -> list[str]:
        """The shown alternative's notes from its SampleEnd (none before it ended)."""
        end = self.ends.get(self.shown + 1)
        return list(end.notes) if end else []

    def marked(self) -> str:
        """The shown alternative with its copied lines marked."""
        return mark_copies(self.shown_text, self.copies.get(self.shown, (None, []))[1])

    def notice(self) -> str:
        """The copy notice under the shown alternative ("" when it copies nothing)."""
        dataset, rows = self.copies.get(self.shown, (None, []))
        return copies_notice(len(rows), dataset)

    def tabs(self) -> str:
        """The alternatives' numbers for the head, the shown one reversed, empty ones dim."""
        if len(self.alternatives) < 2:
            return ""
        return " ".join(f"[reverse]{i + 1}[/]" if i == self.shown
                        else str(i + 1) if text.strip() or self.streaming
                        else f"[dim]{i + 1}[/]"
                        for i, text in enumerate(self.alternatives)) + "  "
