"""A rhyme dictionary of the whole language: the shipped Dutch word list, grouped by rhyme key.

The list (``words.tsv.gz``, ~80,000 words, see pronunciations.py) stores each word's rhyme key
and syllables, so a lookup analyses only the word asked for; the groups are built once per
process (about half a second), then each lookup is a few dict accesses.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from smartlap.craft.phonetics import normalize_word, rhyming_part
from smartlap.craft.pronunciations import Entry, word_entries
from smartlap.craft.rhyme import n_deleted, rhyme_key, same_word, vowel_skeleton
from smartlap.errors import InputError

MAX_WORD = 40  # the longest Dutch words people sing are far shorter


@dataclass(frozen=True)
class Rhyme:
    """One dictionary answer: the word, its syllables, its frequency and how well it rhymes."""

    word: str
    syllables: int
    zipf: float
    quality: str


def check_word(text: str) -> str:
    """The normalised word to look up, or an InputError that says what is wrong with it."""
    hint = "Give one Dutch word, e.g. 'smartlap craft rhymes hart'."
    word = normalize_word(text)
    if not word:
        raise InputError("No word given to rhyme on.", hint)
    if len(word) > MAX_WORD:
        raise InputError(f"That word is {len(word)} characters long; a word to rhyme on has at "
                         f"most {MAX_WORD}.", hint)
    if any(ch.isdigit() for ch in word):
        raise InputError(f"{text!r} contains digits; write numbers out (twee, tien).", hint)
    if any(ch.isspace() for ch in word):
        raise InputError(f"{text!r} is more than one word.", hint)
    letters = [ch for ch in word if ch.isalpha()]
    if not letters:
        raise InputError(f"{text!r} has no letters.", hint)
    if any(not unicodedata.name(ch, "").startswith("LATIN") for ch in letters):
        raise InputError(f"{text!r} mixes in letters of another script; Dutch rhyme needs the "
                         "Latin alphabet.", hint)
    if not rhyme_key(word):
        raise InputError(f"{text!r} has no vowel to rhyme on.", hint)
    return word


def rhymes_on(word: str) -> str | None:
    """The last part a compound rhymes on (kampvuur -> vuur), None for a plain word: what the
    CLI and Ctrl+K say, so a list of -uur words under kampvuur explains itself."""
    plain = normalize_word(word).replace("'", "").replace("-", "")
    part = rhyming_part(plain) if plain else plain
    return part if part != plain else None


@cache
def _groups() -> tuple[dict[str, list[Entry]], dict[str, list[Entry]], dict[str, list[Entry]]]:
    """Words by perfect key, by n-deleted key and by vowel skeleton, commonest first."""
    perfect: dict[str, list[Entry]] = defaultdict(list)
    ndel: dict[str, list[Entry]] = defaultdict(list)
    vowels: dict[str, list[Entry]] = defaultdict(list)
    for entry in sorted(word_entries().values(), key=lambda e: (-e.zipf, e.word)):
        if entry.key:
            perfect[entry.key].append(entry)
            ndel[n_deleted(entry.key)].append(entry)
            vowels[vowel_skeleton(entry.key)].append(entry)
    return dict(perfect), dict(ndel), dict(vowels)


def dictionary_rhymes(word: str, *, loose: bool = False,
                      syllables: int | None = None) -> list[Rhyme]:
    """Words of the language that rhyme with ``word``: perfect rhymes by frequency, then
    (``loose``) n-deletion and assonance rhymes. ``syllables`` keeps only words that long."""
    target = check_word(word)
    key = rhyme_key(target)
    perfect, ndel, vowels = _groups()
    tiers = [("perfect", perfect.get(key, []))]
    if loose:
        tiers += [("n-deletion", ndel.get(n_deleted(key), [])),
                  ("assonance", vowels.get(vowel_skeleton(key), []))]
    seen: set[str] = set()
    found: list[Rhyme] = []
    for quality, entries in tiers:
        for entry in entries:
            if entry.word in seen or same_word(entry.word, target):
                continue
            if syllables is not None and entry.syllables != syllables:
                continue
            seen.add(entry.word)
            found.append(Rhyme(entry.word, entry.syllables, entry.zipf, quality))
    return found
