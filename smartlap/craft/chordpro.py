"""ChordPro in songs: ``[Am]In de [C]kroeg`` chords and ``{title: ...}`` directives.

Songwriters put chords inside their lines. Everything that counts or compares words
(syllables, rhyme letters, originality checks, prompts to a model, training data) must see
the sung text only, so this module tells chords from section markers such as ``[Refrein]``
(a chord is a strict chord name: root A-G, accidental, quality, extensions, slash bass) and
turns a ChordPro song into plain lyrics or into chords-above-lyrics text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUALITY = r"(?:maj|min|m|dim|aug|sus|add|M|\+|°|ø)?"
_CHORD_NAME = (rf"[A-G](?:#|b)?{_QUALITY}\d*(?:(?:sus|add|maj|b|#)\d+)*"
               r"(?:/[A-G](?:#|b)?)?")
CHORD = re.compile(rf"\[(?:{_CHORD_NAME}|N\.?C\.?)\]")
DIRECTIVE = re.compile(r"^\s*\{\s*([A-Za-z_]+)\s*(?::\s*(.*?))?\s*\}\s*$")
SECTION_STARTS = {"start_of_chorus": "[Refrein]", "soc": "[Refrein]",
                  "start_of_verse": "[Couplet]", "sov": "[Couplet]",
                  "start_of_bridge": "[Brug]", "sob": "[Brug]"}
TITLE_KEYS = ("title", "t")
CHORDPRO_SUFFIXES = (".cho", ".chopro", ".chordpro", ".pro", ".crd")


@dataclass(frozen=True)
class Span:
    """Where a chord or directive sits in a line (character offsets) and which it is."""

    start: int
    end: int
    kind: str  # "chord" | "directive"


def directive(line: str) -> tuple[str, str] | None:
    """``(key, value)`` of a ``{key: value}`` line, key lower-cased; None for other lines."""
    match = DIRECTIVE.match(line)
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def spans(line: str) -> list[Span]:
    """The chords and the directive in a line, for an editor that dims them."""
    if directive(line) is not None:
        return [Span(0, len(line), "directive")]
    if "[" not in line:
        return []
    return [Span(m.start(), m.end(), "chord") for m in CHORD.finditer(line)]


def strip_chords(line: str) -> str:
    """The sung words of a line: chords removed, spacing they leave behind tidied."""
    if "[" not in line:
        return line
    stripped = CHORD.sub("", line)
    if stripped == line:
        return line
    return re.sub(r"[ \t]{2,}", " ", stripped).strip() if stripped.strip() else ""


def sung_line(line: str) -> str:
    """What a line gives syllable counts and rhymes: a directive gives nothing."""
    return "" if directive(line) is not None else strip_chords(line)


def _is_section_end(key: str) -> bool:
    return key.startswith("end_of_") or key in ("eoc", "eov", "eob")


def has_chordpro(text: str) -> bool:
    """Whether a text holds any chord or directive (so plain lyrics are left untouched)."""
    return any(spans(line) for line in text.splitlines())


def to_lyrics(text: str) -> str:
    """Plain lyrics: chords stripped, section directives as ``[Refrein]``-style markers,
    other directives (title, comment, key, capo...) and chord-only lines dropped."""
    if not has_chordpro(text):
        return text
    out: list[str] = []
    for line in text.splitlines():
        found = directive(line)
        if found is not None:
            marker = SECTION_STARTS.get(found[0])
            if marker:
                out.append(marker)
            elif _is_section_end(found[0]) and out and out[-1].strip():
                out.append("")
            continue
        stripped = strip_chords(line)
        if stripped or not line.strip():
            out.append(stripped)
    text_out = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return text_out.strip("\n") + ("\n" if text.endswith("\n") else "")


def meta_of(text: str, keys: tuple[str, ...]) -> str | None:
    """The value of the first ``{key: ...}`` directive with one of ``keys``, if any."""
    for line in text.splitlines():
        found = directive(line)
        if found and found[0] in keys and found[1]:
            return found[1]
    return None


def title_of(text: str) -> str | None:
    """The ``{title: ...}`` of a ChordPro text, if it has one."""
    return meta_of(text, TITLE_KEYS)


def chords_above(line: str) -> list[str]:
    """One line as it is printed for a guitarist: chords on a line above the words, each
    over the syllable it was written before (pushed right when two would touch)."""
    if not CHORD.search(line):
        return [line]
    chords, words = [], []
    position = 0
    for match in CHORD.finditer(line):
        words.append(line[position:match.start()])
        column = sum(len(w) for w in words)
        chords.append((column, match.group(0)[1:-1]))
        position = match.end()
    words.append(line[position:])
    lyric = "".join(words)
    above = ""
    for column, name in chords:
        column = max(column, len(above) + 1 if above else column)
        above = above.ljust(column) + name
    return [above.rstrip(), lyric.rstrip()] if lyric.strip() else [above.rstrip()]


def to_chords_above(text: str) -> str:
    """A ChordPro text as chords-above-lyrics plain text (directives as plain headings)."""
    out: list[str] = []
    for line in text.splitlines():
        found = directive(line)
        if found is not None:
            marker = SECTION_STARTS.get(found[0])
            if marker:
                out.append(marker)
            elif found[0] in ("comment", "c", "ci", "comment_italic"):
                out.append(f"({found[1]})")
            elif found[0] in TITLE_KEYS or _is_section_end(found[0]):
                continue
            elif found[1]:
                out.append(f"{found[0].capitalize()}: {found[1]}")
            continue
        out.extend(chords_above(line))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
