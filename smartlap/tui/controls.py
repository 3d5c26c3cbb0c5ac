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


def _number(key: str, kind: type, cap: tuple[float, float] | None = None,
            optional: bool = False) -> Parser:
    """A field for the sampling setting ``key``: read as ``kind`` and judged by the core's own
    ``generation_problem`` (the words ``smartlap generate`` uses); ``cap`` is the part of
    that range the dialog offers (its low end is the core's, the high end what is sensible
    here), or None for the core's whole range."""
    def parse(text: str) -> tuple[object, str | None]:
        text = text.strip()
        if not text and optional:
            return None, None
        from smartlap.lm.generation import GENERATION_LIMITS, generation_problem

        low, high = cap or (None, None)
        bounds = (f"between {low:g} and {high:g}" if cap
                  else GENERATION_LIMITS[key][1])
        try:
            value = kind(text)
        except ValueError:
            return None, f"a {'whole ' if kind is int else ''}number {bounds}"
        problem = generation_problem(key, value)
        if cap and (problem or not low <= value <= high):
            return None, bounds  # within the core's range: its words would offer more
        return (None, problem) if problem else (value, None)
    return parse


def _seed(text: str) -> tuple[object, str | None]:
    """An optional seed, judged by the core's own ``generation_problem`` (the seed's range)."""
    from smartlap.lm.generation import generation_problem

    text = text.strip()
    if not text:
        return None, None
    try:
        value = int(text)
    except ValueError:
        return None, generation_problem("seed", text)
    problem = generation_problem("seed", value)
    return (None, problem) if problem else (value, None)


FIELDS: dict[str, tuple[str, Parser]] = {
    "temperature": ("Temperature (empty: style's)",
                    _number("temperature", float, (0, 2.0), optional=True)),
    "top_p": ("Top-p (empty: style's)", _number("top_p", float, optional=True)),
    "max_new_tokens": ("Max tokens (empty: style's)",
                       _number("max_new_tokens", int, (1, 1024), optional=True)),
    "seed": ("Seed (empty: random)", _seed),
    "samples": ("Alternatives", _number("samples", int, (1, 4))),
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
