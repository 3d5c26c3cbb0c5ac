"""Drop exact and near-duplicate songs while streaming, keeping only small hashes in memory.

Exact: the song's words (lower case, punctuation and section tags removed) hashed to 64
bits, so "Moeder, ik mis je" and "moeder ik mis je!" are the same song.

Near: a MinHash sketch of the song's word 3-grams (one-permutation hashing into
``BINS`` bins), cut into ``BANDS`` bands; two songs sharing any band are near-duplicates.
With 4 bands of 8 bins a pair with Jaccard similarity 0.9 is caught ~89% of the time,
0.95 ~99%, and unrelated songs (similarity near 0) practically never collide. Memory per
song: one exact hash plus four band hashes, 80 bytes in ``HashSet`` arrays.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from array import array

from smartlap.store.importers.normalise import text_lines

BINS = 32
BANDS = 4
SHINGLE = 3
_ROWS = BINS // BANDS
_EMPTY = 0x1_0000_0000  # above every CRC-32 value
_EMPTY_BAND = (_EMPTY,) * _ROWS
_BIN_MASK = BINS - 1
_MASK64 = (1 << 64) - 1
_WORD = re.compile(r"\w+")


def song_words(lines: list[str]) -> list[str]:
    """The lower-case words of the sung lines (``normalise.text_lines``)."""
    return _WORD.findall(" ".join(lines).lower())


def exact_key(words: list[str]) -> int:
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def minhash(words: list[str]) -> list[int]:
    """One-permutation MinHash: each shingle's CRC picks a bin (low bits) and competes for
    that bin's minimum. Written as C-level map/zip/dict calls: this runs once per song."""
    if len(words) < SHINGLE:
        shingles = iter([" ".join(words)])
    else:
        shingles = map(" ".join, zip(*(words[i:] for i in range(SHINGLE)), strict=False))
    values = sorted(set(map(zlib.crc32, map(str.encode, shingles))), reverse=True)
    bins = [value & _BIN_MASK for value in values]
    minima = dict(zip(bins, values, strict=True))  # later, smaller values win
    return [minima.get(slot, _EMPTY) for slot in range(BINS)]


def band_keys(signature: list[int]) -> list[int]:
    """One hash per band; bands made only of empty bins are left out (they say nothing).

    ``hash`` of a tuple of ints is not salted per process, so this is deterministic.
    """
    keys = []
    for band in range(BANDS):
        rows = tuple(signature[band * _ROWS:(band + 1) * _ROWS])
        if rows != _EMPTY_BAND:
            keys.append(hash((band, *rows)))
    return keys


class HashSet:
    """A set of 64-bit hashes in one flat array (open addressing, linear probing).

    16 bytes per entry at most half full, against ~70 for a Python set of ints: this is
    what keeps a 50 MB import's memory flat. Zero marks an empty slot, so 0 is stored as 1.
    """

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _find(self, key: int) -> int:
        """The slot holding ``key``, or the empty slot where it would go."""
        slots, mask = self._slots, self._mask
        index = key & mask
        while True:
            found = slots[index]
            if found == key or found == 0:
                return index
            index = (index + 1) & mask

    def __contains__(self, value: int) -> bool:
        key = (value & _MASK64) or 1
        return self._slots[self._find(key)] == key

    def add(self, value: int) -> None:
        key = (value & _MASK64) or 1
        index = self._find(key)
        if self._slots[index] == key:
            return
        self._slots[index] = key
        self._size += 1
        if self._size * 2 > len(self._slots):
            old = self._slots
            self._slots = array("Q", bytes(16 * len(old)))
            self._mask = 2 * len(old) - 1
            for key in old:
                if key:
                    self._slots[self._find(key)] = key


class Deduplicator:
    """Remembers the songs seen so far (as hashes) and classifies each new one."""

    def __init__(self) -> None:
        self._exact = HashSet()
        self._bands = HashSet()

    def check(self, lyrics: str, lines: list[str] | None = None) -> str | None:
        """None if new (and remember it); else "duplicate" or "near-duplicate"."""
        words = song_words(text_lines(lyrics) if lines is None else lines)
        key = exact_key(words)
        if key in self._exact:
            return "duplicate"
        bands = band_keys(minhash(words))
        if any(band in self._bands for band in bands):
            return "near-duplicate"
        self._exact.add(key)
        for band in bands:
            self._bands.add(band)
        return None
