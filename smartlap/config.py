"""The person's settings in ``config.toml``: read tolerantly, written one table at a time.

The file is the person's, so smartlap never rewrites it whole: writing a table replaces
only that table's lines and keeps every other table and comment as it was. A file that does
not parse is left untouched and reported, never overwritten.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

from smartlap.errors import SmartlapError
from smartlap.fsutil import atomic_write_text
from smartlap.paths import get_paths

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Scalar = str | int | float | bool
_HEADER = re.compile(r"^\s*\[")


def config_path() -> Path:
    return get_paths().config_file


def _broken(path: Path, error: Exception) -> SmartlapError:
    return SmartlapError(f"{path} is not valid TOML: {error}",
                         "Fix or remove the file; smartlap does not overwrite it while it is "
                         "broken.")


def read_table(name: str, path: Path | None = None) -> dict[str, object]:
    """The table ``name`` (dotted for nested, e.g. ``studio.generation``); {} when absent.

    Raises SmartlapError when the file exists but is not valid TOML."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise _broken(path, error) from error
    try:
        data: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _broken(path, error) from error
    for part in name.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return dict(data) if isinstance(data, dict) else {}


def _toml_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be written to config.toml")
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # JSON escapes are TOML escapes


def _table_block(name: str, values: Mapping[str, Scalar | None]) -> list[str]:
    lines = [f"[{name}]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()
              if value is not None]
    return lines


def write_table(name: str, values: Mapping[str, Scalar | None],
                path: Path | None = None) -> None:
    """Replace table ``name`` with ``values`` (None values left out), keeping the rest.

    The new file is parsed before it replaces the old one, so a write never leaves a file
    smartlap itself cannot read."""
    path = path or config_path()
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    if old:
        try:
            tomllib.loads(old)
        except tomllib.TOMLDecodeError as error:
            raise _broken(path, error) from error
    lines = old.splitlines()
    header = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    block = _table_block(name, values)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += block
    else:
        end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])),
                   len(lines))
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # keep the blank line before the next table
        lines[start:end] = block
    text = "\n".join(lines) + "\n"
    try:
        written: object = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        written = None  # the table is also defined another way (inline, dotted keys)
    for part in name.split("."):
        written = written.get(part) if isinstance(written, dict) else None
    expected = {key: value for key, value in values.items() if value is not None}
    if written != expected:
        raise SmartlapError(f"Could not update [{name}] in {path} safely.",
                            "Move the table to the end of the file, or remove it.")
    atomic_write_text(path, text)
