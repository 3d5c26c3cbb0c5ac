"""Song styles: the shape of a smartlap, a levenslied, a carnavalskraker...

Each style is a TOML file: description, structure (order of couplet/refrein), rhyme scheme,
syllables per line, a prompt scaffold and sampling defaults. The bundled ones live in the
repository's ``styles/`` (shipped in the wheel as ``smartlap/_styles``); files in the
config dir's ``styles/`` add new styles or override bundled ones by name. A file with bad
TOML, an unknown key or a wrong value is an error naming the file, line and key — a typo
must never be silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from smartlap.errors import InputError, NotFoundError
from smartlap.fsutil import read_user_file
from smartlap.paths import get_paths

PROMPT_SLOT = "{prompt}"
SECTIONS = ("intro", "couplet", "refrein", "brug", "outro")
SAMPLING_KEYS: dict[str, type] = {
    "temperature": float, "top_k": int, "top_p": float, "repetition_penalty": float,
    "no_repeat_ngram_size": int, "max_new_tokens": int,
}
TOP_KEYS = ("name", "description", "structure", "rhyme_scheme", "syllables", "scaffold",
            "max_line_repeats", "sampling")


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    structure: tuple[str, ...]
    rhyme_scheme: str
    syllables: tuple[int, int]
    scaffold: str = PROMPT_SLOT
    max_line_repeats: int = 2
    sampling: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    origin: str = "bundled"

    @property
    def has_refrein(self) -> bool:
        return "refrein" in self.structure

    def scaffold_prompt(self, prompt: str) -> str:
        """The text the model continues: the scaffold with the person's prompt in its slot."""
        return self.scaffold.replace(PROMPT_SLOT, prompt)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "structure": list(self.structure), "rhyme_scheme": self.rhyme_scheme,
                "syllables": list(self.syllables), "scaffold": self.scaffold,
                "max_line_repeats": self.max_line_repeats, "sampling": dict(self.sampling),
                "source": self.source, "origin": self.origin}


def bundled_styles_dir(package: Path | None = None) -> Path:
    """``smartlap/_styles`` in an installed wheel, the repository's ``styles/`` in a checkout."""
    package = package or Path(__file__).resolve().parent
    shipped = package / "_styles"
    return shipped if shipped.is_dir() else package.parent / "styles"


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line where ``key`` is set (inside ``[table]`` when given), for error messages."""
    current: str | None = None
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1)
            if table is None and current == key:
                return number
            continue
        if current == table and pattern.match(line):
            return number
    return None


class _Checker:
    """Validate one parsed style file, raising InputError with file, line and key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, key: str, problem: str, table: str | None = None) -> InputError:
        line = _line_of(self.text, key, table)
        where = f"{self.path}, line {line}" if line else str(self.path)
        shown = f"{table}.{key}" if table else key
        return InputError(f"{where}: key '{shown}' {problem}.",
                          "See 'smartlap styles show smartlap' for a valid style, and "
                          "docs/models.md for every key.")

    def style(self, data: dict[str, Any], origin: str) -> Style:
        for key in data:
            if key not in TOP_KEYS:
                raise self.fail(key, f"is not a style key (known: {', '.join(TOP_KEYS)})")
        for key in ("description", "structure", "rhyme_scheme", "syllables"):
            if key not in data:
                raise InputError(f"{self.path}: the required key '{key}' is missing.",
                                 "Every style sets description, structure, rhyme_scheme and "
                                 "syllables.")
        name = data.get("name", self.path.stem)
        if not isinstance(name, str) or not re.fullmatch(r"[\w][\w\-]*", name):
            raise self.fail("name", "must be a single word (letters, digits, '-', '_')")
        if not isinstance(data["description"], str) or not data["description"].strip():
            raise self.fail("description", "must be a non-empty string")
        structure = data["structure"]
        if (not isinstance(structure, list) or not structure
                or any(part not in SECTIONS for part in structure)):
            raise self.fail("structure", f"must be a list of {', '.join(SECTIONS)}")
        scheme = data["rhyme_scheme"]
        if not isinstance(scheme, str) or not re.fullmatch(r"[A-Zx]+", scheme):
            raise self.fail("rhyme_scheme", "must be letters like AABB or ABAB (x = free)")
        syllables = self._syllables(data["syllables"])
        scaffold = data.get("scaffold", PROMPT_SLOT)
        if not isinstance(scaffold, str) or scaffold.count(PROMPT_SLOT) != 1:
            raise self.fail("scaffold", f"must be a string with {PROMPT_SLOT} exactly once")
        repeats = data.get("max_line_repeats", 2)
        if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
            raise self.fail("max_line_repeats", "must be a whole number of at least 1")
        return Style(name=name, description=data["description"].strip(),
                     structure=tuple(structure), rhyme_scheme=scheme, syllables=syllables,
                     scaffold=scaffold, max_line_repeats=repeats,
                     sampling=self._sampling(data.get("sampling", {})), source=str(self.path),
                     origin=origin)

    def _syllables(self, value: Any) -> tuple[int, int]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                or not 1 <= value[0] <= value[1] <= 30):
            raise self.fail("syllables", "must be a number or [min, max] between 1 and 30")
        return value[0], value[1]

    def _sampling(self, table: Any) -> dict[str, Any]:
        if not isinstance(table, dict):
            raise self.fail("sampling", "must be a table ([sampling])")
        result: dict[str, Any] = {}
        for key, value in table.items():
            kind = SAMPLING_KEYS.get(key)
            if kind is None:
                raise self.fail(key, "is not a sampling key (known: "
                                f"{', '.join(SAMPLING_KEYS)})", "sampling")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    kind is int and not isinstance(value, int)) or value < 0:
                raise self.fail(key, f"must be a non-negative {kind.__name__}", "sampling")
            result[key] = kind(value)
        return result


def load_style_file(path: Path, origin: str = "bundled") -> Style:
    """Parse and check one style file."""
    path = Path(path)
    try:
        text = read_user_file(path, what="style file").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text.", "Save the style file as UTF-8.") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}.", None) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}.",
                         "Check the quotes, brackets and '=' on that line.") from None
    return _Checker(path, text).style(data, origin)


def load_styles() -> dict[str, Style]:
    """Bundled styles, then the person's own (which override bundled ones of the same name)."""
    styles: dict[str, Style] = {}
    for directory, origin in ((bundled_styles_dir(), "bundled"),
                              (get_paths().user_styles, "user")):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                style = load_style_file(path, origin)
                styles[style.name] = style
    return styles


def get_style(name: str) -> Style:
    styles = load_styles()
    if name not in styles:
        raise NotFoundError(f"No style named {name!r}.",
                            f"Known styles: {', '.join(sorted(styles)) or 'none'}.")
    return styles[name]
