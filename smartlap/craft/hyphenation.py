"""Dutch hyphenation (pyphen's nl_NL patterns), loaded once and cached per word."""

from __future__ import annotations

import itertools
from functools import cache, lru_cache


@cache
def _dictionary():  # type: ignore[no-untyped-def]
    import pyphen

    return pyphen.Pyphen(lang="nl_NL", left=1, right=1)


@lru_cache(maxsize=65536)
def hyphen_positions(word: str) -> tuple[int, ...]:
    """Letter offsets where nl_NL hyphenation may break ``word`` (lowercase, no accents)."""
    return tuple(_dictionary().positions(word))


def hyphenate(word: str) -> list[str]:
    """``word`` split into its hyphenation pieces (zon-ne-schijn)."""
    cuts = (0, *hyphen_positions(word), len(word))
    return [word[a:b] for a, b in itertools.pairwise(cuts) if word[a:b]]
