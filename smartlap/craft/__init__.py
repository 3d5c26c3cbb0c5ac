"""Songcraft: Dutch syllables, rhyme and rhyme schemes (pure Python, no torch).

The functions below are the stable API the CLI, the studio gutter, constrained
generation and outside checks call. Results are cached per word, so re-running them on a
whole song as the person types stays cheap.
"""

from __future__ import annotations

from smartlap.craft.rhyme import rhyme_key, rhyme_quality, rhymes
from smartlap.craft.scheme import rhyme_scheme
from smartlap.craft.syllables import syllables

__all__ = ["rhyme_key", "rhyme_quality", "rhyme_scheme", "rhymes", "syllables"]
