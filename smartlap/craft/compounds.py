"""Where a Dutch compound rhymes: on its last part (kamp|vuur, op|staan, zeven|tien).

A compound keeps its main stress on the first part (KAMPvuur), but its last part keeps a
stress of its own, and at the end of a sung line that is the syllable the melody lands on:
songwriters rhyme kampvuur with muur, opstaan with gaan, zeventien with misschien, as rhyme
dictionaries for songwriters rhyme from the last stressed syllable, primary or secondary.
So the rhyme key of a compound is the key of its last part.

A word is split only where both parts are common Dutch words (the shipped ``parts.tsv.gz``,
wordfreq Zipf >= 3, the last part >= 3.5) and the word is rarer than its parts (a split
like nie|mand or hol|land, of a word far commoner than its pieces, is a false compound);
never into a suffix (vrij|heid, twin|tig, volg|end, straat|jes, kunste|naar) or into a last
part whose single ``e`` may be a schwa (boe|ken, wan|delen); and ``phonetics`` keeps the
stress where the rhyme would fall in a derivational ending (wal|gelijk, hou|ding).
"""

from __future__ import annotations

from smartlap.craft.phonetics import _PARTICLES, _SCHWA_SYLLABLE, nuclei_of, stress_index
from smartlap.craft.pronunciations import part_zipf

HEAD_MIN_ZIPF = 3.5
MIN_PART_LETTERS = 3
# How much commoner than its rarer part a word may be and still be read as their compound.
COMMONER_MARGIN = 0.3
# Separable particles and prepositions that start particle verbs (op|staan, uit|gaat).
_PARTICLE_PARTS = frozenset(
    (*_PARTICLES, "over", "onder", "voor", "na", "terug", "samen", "achter", "tegen", "rond"))
# Linking sounds between the parts: boer-en-zoon, vissers-vrouw, kind-er-boek.
_LINKS = ("s", "en", "e", "n", "er", "es")
# Last "parts" that are suffixes: they carry no stress a rhyme could fall on (the endings
# that are never a part, -heid, -lijk, -baar ..., are phonetics._DERIVATION_END's).
_SUFFIXES = frozenset({
    "schappen", "lozen", "aard", "aards", "ling", "lingen", "nis", "sel", "ster", "sters",
    "tig", "end", "ende", "jes", "tjes", "pjes", "kjes", "etjes", "ing", "ingen", "erij",
    "arij", "aar", "naar",
})


def _first_part_zipf(part: str) -> float:
    """How common the first part is (a particle counts as very common); 0.0 = not a word."""
    if part in _PARTICLE_PARTS:
        return 7.0
    for link in ("", *_LINKS):
        stem = part[: len(part) - len(link)] if link else part
        if link and not part.endswith(link):
            continue
        if len(stem) >= MIN_PART_LETTERS and part_zipf(stem):
            return part_zipf(stem)
    return 0.0


def _single_e_head(head: str) -> bool:
    """Whether the last part's vowel is a lone ``e`` that the whole word may read as a schwa."""
    nuclei = nuclei_of(head)
    if not nuclei:
        return False
    return nuclei[stress_index(head, nuclei)].spelling == "e" and (
        len(nuclei) > 1 or bool(_SCHWA_SYLLABLE.match(head)))  # -ken, -der, -les


def _pet_name(first: str, head: str) -> bool:
    """con|nie, fred|die, mam|mie, sur|rey: a short vowel, a doubled consonant across the cut
    and a final -ie/-y spell one word (pet names above all), not a compound."""
    return (len(first) >= 2 and first[-1] == head[0] and first[-2] in "aeiouy"
            and (len(first) < 3 or first[-3] not in "aeiouy") and len(head) <= 4
            and head.endswith(("ie", "y")))


def compound_head(word: str, first_after_stress: int, cut_points: list[tuple[int, int]]
                  ) -> str | None:
    """The last part of ``word`` when it is a compound of two common words, else None.

    ``cut_points`` are, per nucleus after the stressed one (from ``first_after_stress``), the
    letter range where a part may begin: the consonants before that nucleus. The longest
    last part wins (boeren|zoon, sigaren|boer), so a part that is itself a compound is
    split again by its own analysis.
    """
    word_zipf = part_zipf(word)
    for low, high in cut_points[first_after_stress:]:
        for cut in range(low, high + 1):
            head, first = word[cut:], word[:cut]
            if (len(head) < MIN_PART_LETTERS or head in _SUFFIXES
                    or part_zipf(head) < HEAD_MIN_ZIPF):
                continue
            first_zipf = _first_part_zipf(first)
            if not first_zipf or word_zipf > min(first_zipf, part_zipf(head)) + COMMONER_MARGIN:
                continue
            if _single_e_head(head) or _pet_name(first, head):
                continue
            return head
    return None
