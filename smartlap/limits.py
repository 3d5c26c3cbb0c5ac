"""The numeric limits every front end enforces the same way (CLI options, the studio's fields,
settings read back from config.toml or a style). Messages name the setting, not a flag: the
CLI's flag goes in the hint.

A seed outside 0..2**32-1 reaches numpy and torch as an OverflowError deep inside a run; a
sample count of a billion is a generation that never ends. Both are refused up front, with
one message that names the range.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping
from typing import Any

from smartlap.errors import UsageError

# setting -> (is the value usable, the range in words, without any front end's spelling)
Limits = Mapping[str, tuple[Callable[[float], bool], str]]
_NAMES = {"lr": "learning rate", "top_p": "top-p", "top_k": "top-k"}

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
        raise UsageError(f"Seed {value!r}: {problem}.",
                         f"Any whole number in that range works ({flag}); the same seed "
                         "repeats a result.")
    return value


def check_samples(value: int, flag: str = "--samples") -> int:
    problem = samples_problem(value)
    if problem:
        raise UsageError(f"Samples {value!r}: {problem}.",
                         f"Ask for at most {MAX_SAMPLES} ({flag}); run again for more.")
    return value


def limit_problem(limits: Limits, whole: Collection[str], key: str, value: Any, *,
                  integral_floats: bool = False) -> str | None:
    """Why ``value`` cannot be setting ``key`` of a ``limits`` table (the seed's and the
    sample count's ranges are built in); None when it can, or when it is None (not set).
    ``integral_floats``: a whole setting may be given as 20.0 (as TOML or JSON may)."""
    if value is None:
        return None
    if key == "seed":
        return seed_problem(value)
    if key == "samples":
        return samples_problem(value)
    is_whole = key in whole
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "a whole number" if is_whole else "a number"
    if is_whole and not isinstance(value, int) and not (integral_floats and value.is_integer()):
        return "a whole number"
    ok, words = limits[key]
    return None if ok(value) else words


def out_of_range(key: str, problem: str, command: str) -> UsageError:
    """'Learning rate must be …', the flag and the command's help in the hint."""
    name = _NAMES.get(key, key.replace("_", " ")).replace("lora", "LoRA")
    return UsageError(f"{name[0].upper()}{name[1:]} must be {problem}.",
                      f"Give --{key.replace('_', '-')} a value in that range; see "
                      f"'smartlap {command} --help'.")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _whole_within(text: str, problem_of: Callable[[int], str | None]) -> int:
    value = _whole(text)
    problem = problem_of(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    return value


def seed_type(text: str) -> int:
    """argparse ``type=`` for ``--seed``: a bad value is an argparse error (one line, exit 2)."""
    return _whole_within(text, seed_problem)


def samples_type(text: str) -> int:
    """argparse ``type=`` for ``--samples``."""
    return _whole_within(text, samples_problem)
