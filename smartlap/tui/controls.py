"""The Write screen's sampling knobs: their limits, how they meet a style's defaults, and
keeping them across restarts.

One table of fields serves the settings dialog (live validation), and the loader that reads
them back from ``[studio.generation]`` in config.toml (a hand-edited bad value is reported
and replaced by its default, never trusted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from smartlap import config
from smartlap.errors import SmartlapError
from smartlap.limits import seed_problem

if TYPE_CHECKING:
    from smartlap.lm.generation import GenerationSettings
    from smartlap.styles import Style

TABLE = "studio.generation"


@dataclass(frozen=True)
class GenerationControls:
    """The sampling knobs the Write screen offers (validated by ``FIELDS``).

    None means "not set here": the song's style decides, then smartlap's defaults, exactly
    as for ``smartlap generate`` without the option."""

    temperature: float | None = None
    top_p: float | None = None
    max_new_tokens: int | None = None
    seed: int | None = None
    samples: int = 1


def effective_settings(controls: GenerationControls, style: Style | None) -> GenerationSettings:
    """What a generation will use: smartlap's defaults, the style's, then the knobs set."""
    from smartlap.lm.generation import GenerationSettings

    return GenerationSettings.from_style(style, **asdict(controls))


Parser = Callable[[str], tuple[object, str | None]]


def _number(kind: type, low: float, high: float, optional: bool = False) -> Parser:
    def parse(text: str) -> tuple[object, str | None]:
        text = text.strip()
        if not text and optional:
            return None, None
        bounds = f"{low} and {high}" if kind is int else f"{low:g} and {high:g}"
        try:
            value = kind(text)
        except ValueError:
            return None, f"a {'whole ' if kind is int else ''}number between {bounds}"
        if not low <= value <= high:
            return None, f"between {bounds}"
        return value, None
    return parse


def _seed(text: str) -> tuple[object, str | None]:
    """An optional seed, judged by the core's own ``limits.seed_problem``."""
    text = text.strip()
    if not text:
        return None, None
    try:
        value = int(text)
    except ValueError:
        return None, seed_problem(text)
    problem = seed_problem(value)
    return (None, problem) if problem else (value, None)


FIELDS: dict[str, tuple[str, Parser]] = {
    "temperature": ("Temperature (empty: style's)", _number(float, 0.05, 2.0, optional=True)),
    "top_p": ("Top-p (empty: style's)", _number(float, 0.05, 1.0, optional=True)),
    "max_new_tokens": ("Max tokens (empty: style's)", _number(int, 1, 1024, optional=True)),
    "seed": ("Seed (empty: random)", _seed),
    "samples": ("Alternatives", _number(int, 1, 4)),
}


def controls_from(values: dict[str, object]) -> tuple[GenerationControls, list[str]]:
    """Controls from stored values, and one problem line per value that was not usable."""
    defaults = GenerationControls()
    chosen: dict[str, object] = {}
    problems = []
    for field in fields(GenerationControls):
        if field.name not in values:
            continue
        raw = values[field.name]
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            problems.append(f"{field.name}: not a number")
            continue
        value, problem = FIELDS[field.name][1](str(raw))
        if problem:
            problems.append(f"{field.name} = {raw!r}: {problem}")
        else:
            chosen[field.name] = value
    unknown = sorted(set(values) - {field.name for field in fields(GenerationControls)})
    problems += [f"{name}: not a setting" for name in unknown]
    return GenerationControls(**{**asdict(defaults), **chosen}), problems


def load_controls() -> tuple[GenerationControls, list[str]]:
    """The controls kept in config.toml; defaults (and the reason) when it cannot be read."""
    try:
        values = config.read_table(TABLE)
    except SmartlapError as error:
        return GenerationControls(), [error.message]
    return controls_from(values)


def save_controls(controls: GenerationControls) -> None:
    """Keep the controls for the next session (raises SmartlapError/OSError on failure)."""
    config.write_table(TABLE, asdict(controls))
