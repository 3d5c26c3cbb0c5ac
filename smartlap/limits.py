"""The numeric limits every front end enforces the same way (CLI options, the studio's fields,
settings read back from config.toml or a style).

A seed outside 0..2**32-1 reaches numpy and torch as an OverflowError deep inside a run; a
sample count of a billion is a generation that never ends. Both are refused up front, with
one message that names the range.
"""

from __future__ import annotations

import argparse

from smartlap.errors import UsageError

SEED_MIN = 0
SEED_MAX = 2**32 - 1  # numpy's and accelerate's set_seed limit; torch takes it as well
MAX_SAMPLES = 100


def seed_problem(value: object) -> str | None:
    """Why ``value`` is not a usable seed, or None when it is."""
    if isinstance(value, bool) or not isinstance(value, int) or not SEED_MIN <= value <= SEED_MAX:
        return f"a seed is a whole number from {SEED_MIN} to {SEED_MAX}"
    return None


def samples_problem(value: object) -> str | None:
    """Why ``value`` is not a usable number of samples, or None when it is."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SAMPLES:
        return f"the number of samples is a whole number from 1 to {MAX_SAMPLES}"
    return None


def check_seed(value: int | None, flag: str = "--seed") -> int | None:
    """``value`` itself, or a UsageError that gives the range (None means: no seed)."""
    problem = None if value is None else seed_problem(value)
    if problem:
        raise UsageError(f"{flag} {value!r}: {problem}.",
                         "Any whole number in that range works; the same seed repeats a result.")
    return value


def check_samples(value: int, flag: str = "--samples") -> int:
    problem = samples_problem(value)
    if problem:
        raise UsageError(f"{flag} {value!r}: {problem}.",
                         f"Ask for at most {MAX_SAMPLES}; run again for more.")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def seed_type(text: str) -> int:
    """argparse ``type=`` for ``--seed``: a bad value is an argparse error (one line, exit 2)."""
    value = _whole(text)
    problem = seed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    return value


def samples_type(text: str) -> int:
    """argparse ``type=`` for ``--samples``."""
    value = _whole(text)
    problem = samples_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    return value
