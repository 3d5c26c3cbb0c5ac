"""Perfect rhyme: the sound from the vowel of the last stressed syllable to the end."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from smartlap.craft.phonetics import analyse, base_letters, normalize_word
from smartlap.craft.syllables import tokens


def last_word(line: str) -> str:
    """The last word of a line that carries a vowel ('t and 'k lean on the word before)."""
    toks = tokens(line)
    for tok in reversed(toks):
        word = normalize_word(tok)
        if word and analyse(word).syllables > 0:
            return word
    return normalize_word(toks[-1]) if toks else ""


@lru_cache(maxsize=65536)
def rhyme_key(word: str) -> str:
    """Normalised phonetic string of a word from its stressed vowel to the end ("" if none).

    Given a whole line, the key of its last word.
    """
    text = word.strip()
    if not text:
        return ""
    target = last_word(text) if (" " in text or "\t" in text) else normalize_word(text)
    if not target:
        return ""
    return analyse(target).rhyme_key


def same_word(a: str, b: str) -> bool:
    """Identical words (ignoring case, accents and punctuation) are repetition, not rhyme."""
    return base_letters(a.replace("'", "")) == base_letters(b.replace("'", ""))


def rhymes(a: str, b: str) -> bool:
    """Whether the last words of two lines rhyme perfectly (identical words do not)."""
    wa, wb = last_word(a), last_word(b)
    if not wa or not wb or same_word(wa, wb):
        return False
    ka, kb = rhyme_key(wa), rhyme_key(wb)
    return bool(ka) and ka == kb


# Graded rhyme, strongest first. "n-deletion": Dutch drops the n of a final -en in song, so
# alle / wallen and ogen / bogen-like pairs sound alike; "assonance": the same vowels from the
# stress on, different consonants (maan / straat). rhymes() stays strict: perfect only.
QUALITIES = ("perfect", "n-deletion", "assonance", "none")
_KEY_VOWELS = re.compile(r"a:j|o:j|e:w|a:|e:|o:|2:|9y|Ei|Au|Aj|Oj|uj|iw|yw|[aAeEiIoOyYu@]")


def n_deleted(key: str) -> str:
    """The rhyme key as sung with a final -en reduced to schwa (wallen -> walle)."""
    return key[:-1] if key.endswith("@n") else key


@lru_cache(maxsize=65536)
def vowel_skeleton(key: str) -> str:
    """Only the vowels of a rhyme key, in order: what assonance compares."""
    return ".".join(_KEY_VOWELS.findall(key))


def key_quality(ka: str, kb: str) -> str:
    """How two rhyme keys rhyme: one of QUALITIES."""
    if not ka or not kb:
        return "none"
    if ka == kb:
        return "perfect"
    if n_deleted(ka) == n_deleted(kb):
        return "n-deletion"
    return "assonance" if vowel_skeleton(ka) == vowel_skeleton(kb) else "none"


def rhyme_quality(a: str, b: str) -> str:
    """How the last words of two lines rhyme: "perfect", "n-deletion", "assonance" or "none"
    (identical words are repetition: "none")."""
    wa, wb = last_word(a), last_word(b)
    if not wa or not wb or same_word(wa, wb):
        return "none"
    return key_quality(rhyme_key(wa), rhyme_key(wb))


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """How often each word occurs in ``texts`` (normalised as rhyme looks at words)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for tok in tokens(text):
            word = normalize_word(tok)
            if word and any(ch.isalpha() for ch in word):
                counts[word] += 1
    return counts


def rhyming_words(word: str, vocabulary: Iterable[str],
                  loose: bool = False) -> list[tuple[str, str]]:
    """(word, quality) for the words of ``vocabulary`` that rhyme with ``word``, in
    vocabulary order: perfect rhymes, and with ``loose`` the near grades too."""
    key = rhyme_key(word)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for candidate in vocabulary:
        norm = normalize_word(candidate)
        if not norm or norm in seen or same_word(norm, word):
            continue
        seen.add(norm)
        quality = key_quality(key, rhyme_key(norm))
        if quality == "perfect" or (loose and quality != "none"):
            found.append((norm, quality))
    return found


class RhymeIndex:
    """A rhyme dictionary: words grouped by rhyme key, the most used first.

    Built once from word counts (a dataset's, a tokenizer's whole words); ``rhymes_for``
    is then a dictionary look-up, where ``rhyming_words`` scans a vocabulary per word.
    """

    def __init__(self, counts: Iterable[tuple[str, int]]) -> None:
        best: dict[str, int] = {}
        for word, count in counts:
            norm = normalize_word(word)
            if norm and norm.replace("'", "").replace("-", "").isalpha():
                best[norm] = max(best.get(norm, 0), count)
        self.words = frozenset(best)
        self.counts = best
        self._by_key: dict[str, list[str]] = {}
        for word in sorted(best, key=lambda w: (-best[w], w)):
            key = rhyme_key(word)
            if key:
                self._by_key.setdefault(key, []).append(word)

    def rhymes_for(self, word: str, limit: int | None = None) -> list[str]:
        """Words that rhyme perfectly with ``word`` or a line's last word (itself excluded),
        most used first."""
        target = last_word(word)
        found = [w for w in self._by_key.get(rhyme_key(target), []) if not same_word(w, target)]
        return found if limit is None else found[:limit]
