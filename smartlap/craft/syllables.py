"""Syllable counts for words and lines as they are sung.

Each vowel nucleus is a syllable (phonetics.nuclei_of, which reads Dutch digraphs, diaereses
and loanwords and lets pyphen's nl_NL hyphenation settle vowel pairs such as the-a-ter versus
team). Lyrics spellings count as sung: 'k and 't lean on the next word (0), m'n and zo'n are
one, auto's keeps two, numbers are counted as spoken.
"""

from __future__ import annotations

import re
from functools import lru_cache

from smartlap.craft.chordpro import strip_chords
from smartlap.craft.phonetics import analyse, normalize_word

_TOKEN = re.compile(r"[\w'’‘`´-]+")
_UNITS = ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien",
          "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien",
          "negentien"]
_TENS = ["", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig",
         "negentig"]


def number_words(n: int) -> list[str]:
    """Dutch words for a whole number, as they are said (1964 = negentien vierenzestig)."""
    if n < 20:
        return [_UNITS[n]]
    if n < 100:
        tens, unit = divmod(n, 10)
        return [_TENS[tens]] if not unit else [_UNITS[unit], "en", _TENS[tens]]
    if 1100 <= n < 10000 and n % 100 and n // 100 % 10:  # years: negentien vierenzestig
        return number_words(n // 100) + number_words(n % 100)
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = ["honderd"] if hundreds == 1 else [*number_words(hundreds), "honderd"]
        return head + (number_words(rest) if rest else [])
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = ["duizend"] if thousands == 1 else [*number_words(thousands), "duizend"]
        return head + (number_words(rest) if rest else [])
    return ["miljoen"] * 1


@lru_cache(maxsize=65536)
def word_syllables(token: str) -> int:
    """Syllables in one token (cached per token, so a long song costs only its new words)."""
    word = normalize_word(token)
    if not word:
        return 0
    if word.isascii() and word.isdigit():
        return sum(word_syllables(w) for w in number_words(int(word[:7])))
    if "-" in word:
        return sum(word_syllables(part) for part in word.split("-") if part)
    count = analyse(word).syllables
    if count == 0 and "'" not in word and word.isalpha():
        # hmm, sst, brr are sung as one syllable; tv, cd are spelled letter by letter
        return 1 if word in _INTERJECTIONS or len(word) > 3 else len(word)
    return count


_INTERJECTIONS = {"hm", "hmm", "mm", "mmm", "sst", "ssst", "pst", "psst", "brr", "grr", "sh",
                  "shh", "ssh", "tss", "pff", "pfff", "zzz", "st"}


def tokens(text: str) -> list[str]:
    """The word tokens of a line (punctuation and ChordPro chords dropped, elisions and
    hyphens kept)."""
    return _TOKEN.findall(strip_chords(text))


def syllables(text: str) -> int:
    """Syllables in a word or a whole line."""
    return sum(word_syllables(tok) for tok in tokens(text))
