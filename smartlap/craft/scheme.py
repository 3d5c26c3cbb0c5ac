"""Rhyme schemes: a letter per line, shared by lines whose last words rhyme."""

from __future__ import annotations

import re
import string

from smartlap.craft.chordpro import sung_line
from smartlap.craft.rhyme import last_word, n_deleted, rhyme_key, same_word, vowel_skeleton

LETTERS = string.ascii_uppercase + string.ascii_lowercase
UNRHYMED = "-"
NEAR = "~"  # after a letter: this line only near-rhymes (n-deletion or assonance) with it
NEAR_WINDOW = 4  # near rhymes count only between lines this close (ABAB, ABBA, AABB)
_MARKER = re.compile(r"^\s*\[[^\]]*\]\s*$")


def is_section_marker(line: str) -> bool:
    """Lines such as "[Refrein]" name a section; they have no rhyme of their own."""
    return bool(_MARKER.match(line))


def _line_words_keys(lines: list[str]) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    words: list[str] = []
    for line in map(sung_line, lines):
        if not line.strip() or is_section_marker(line):
            keys.append("")
            words.append("")
            continue
        word = last_word(line)
        words.append(word)
        keys.append(rhyme_key(word) if word else "")
    return words, keys


def scheme_marks(lines: list[str]) -> list[str]:
    """scheme_letters plus near rhymes: an unrhymed line whose last word near-rhymes with a
    line of its stanza at most NEAR_WINDOW lines away gets that line's letter (or a new one
    they share) followed by NEAR ("A~"). Perfect rhymes stay plain letters."""
    words, keys = _line_words_keys(lines)
    marks = _letters(words, keys)
    used = {m for m in marks if m != UNRHYMED}
    near = [n_deleted(k) for k in keys]
    vowels = [vowel_skeleton(k) for k in keys]
    for i, mark in enumerate(marks):
        if mark != UNRHYMED or not keys[i]:
            continue
        lo, hi = i, i
        while lo > 0 and i - lo < NEAR_WINDOW and words[lo - 1]:
            lo -= 1  # stay inside the stanza: blank lines and markers have no word
        while hi < len(lines) - 1 and hi - i < NEAR_WINDOW and words[hi + 1]:
            hi += 1
        for j in range(lo, hi + 1):
            if j == i or not keys[j] or (near[i] != near[j] and vowels[i] != vowels[j]):
                continue
            if not same_word(words[i], words[j]):  # near rhyme (i is unrhymed: keys differ)
                other = marks[j].rstrip(NEAR)
                if other == UNRHYMED:
                    other = LETTERS[len(used) % len(LETTERS)]
                    used.add(other)
                    marks[j] = other + NEAR
                marks[i] = other + NEAR
                break
    return marks


def scheme_letters(lines: list[str]) -> list[str]:
    """One letter per line ("-" for blank, marker or unrhymed lines).

    Lines share a letter when their last words have the same rhyme key and the group holds
    at least two different words; a repeated word joins its group but cannot make one alone.
    Letters follow first appearance: A, B, ... Z, a ... z, then wrap around. ChordPro chords
    and directives are not sung, so they never rhyme.
    """
    return _letters(*_line_words_keys(lines))


def _letters(words: list[str], keys: list[str]) -> list[str]:
    distinct: dict[str, set[str]] = {}
    for key, word in zip(keys, words, strict=False):
        if key:
            distinct.setdefault(key, set()).add(word)
    letters: dict[str, str] = {}
    out: list[str] = []
    for key in keys:
        if not key or len(distinct[key]) < 2:
            out.append(UNRHYMED)
            continue
        if key not in letters:
            letters[key] = LETTERS[len(letters) % len(LETTERS)]
        out.append(letters[key])
    return out


def line_marks(lines: list[str]) -> list[tuple[int, str]]:
    """What a gutter shows per line: (syllables, rhyme letter); markers and blanks get 0, "-"."""
    from smartlap.craft.syllables import syllables

    letters = scheme_letters(lines)
    sung = [sung_line(line) for line in lines]
    return [(0 if not line.strip() or is_section_marker(line) else syllables(line), letter)
            for line, letter in zip(sung, letters, strict=True)]


def rhyme_scheme(lines: list[str]) -> str:
    """The scheme of a stanza or song, one character per line, e.g. "AABB" or "AB-B"."""
    return "".join(scheme_letters(lines))
