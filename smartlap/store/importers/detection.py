"""Pick the importer from the content first, the file name second.

A folder is ``dir``. For a file: a ChordPro name (.cho, .chopro, .pro ...) or ChordPro
directives at the top mean ``chordpro``; JSON objects on the first lines mean ``jsonl``; rows
that parse with one delimiter into the same number of columns mean ``csv``; anything else is
a ``txt`` dump. The extension is not trusted: a .csv that is not a table is read as text,
a .txt that is a table is read as CSV (the report names the format it chose).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from smartlap.errors import InputError, UsageError
from smartlap.store.importers.chordpro_files import is_chordpro_name, looks_like_chordpro
from smartlap.store.importers.csv_table import header_delimiter, sniff_delimiter
from smartlap.store.importers.decoding import MIXED, detect_encoding, mixed_warning, read_sample

FORMATS = ("auto", "csv", "txt", "jsonl", "chordpro", "dir")


@dataclass(frozen=True)
class Detected:
    fmt: str
    encoding: str | None
    sample: str
    warnings: tuple[str, ...] = ()


def _looks_jsonl(sample: str) -> bool:
    lines = [line.strip() for line in sample.splitlines() if line.strip()][:5]
    if not lines or not lines[0].startswith("{"):
        return False
    parsed = 0
    for line in lines[: max(1, len(lines) - 1)]:  # the last sampled line may be cut off
        try:
            parsed += isinstance(json.loads(line), dict)
        except json.JSONDecodeError:
            return False
        except RecursionError:  # an object nested too deep to parse: JSONL, skipped there
            parsed += 1
    return parsed > 0


def _looks_csv(sample: str) -> bool:
    """A table: most rows split into the same number (>= 2) of columns by one delimiter."""
    return sniff_delimiter(sample) is not None or header_delimiter(sample) is not None


def check_source(path: Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{path} does not exist.", "Check the path (tab completion helps).")
    if not (path.is_dir() or path.is_file()):
        raise InputError(f"{path} is not a regular file or folder.",
                         "Import a CSV, text, JSONL file or a folder of lyric files.")
    return path


def detect(path: Path, fmt: str = "auto") -> Detected:
    """Decide the format (and encoding) of ``path``; raise InputError for unusable input."""
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    path = check_source(path)
    if path.is_dir():
        if fmt not in ("auto", "dir"):
            raise UsageError(f"{path} is a folder, not a {fmt} file.",
                             "Use --format dir (or auto) for a folder of lyric files.")
        return Detected("dir", None, "")
    if fmt == "dir":
        raise UsageError(f"{path} is a file, not a folder.", "Use --format auto for files.")
    encoding = detect_encoding(path)
    sample = read_sample(path, encoding)
    if not sample.strip(" \t\r\n\ufeff"):
        raise InputError(f"{path} is empty (only blank lines).",
                         "Choose a file that contains lyrics.")
    if fmt == "auto":
        if is_chordpro_name(path) or looks_like_chordpro(sample):
            fmt = "chordpro"
        elif _looks_jsonl(sample):
            fmt = "jsonl"
        elif _looks_csv(sample):
            fmt = "csv"
        else:
            fmt = "txt"
    warnings = (mixed_warning(path),) if encoding == MIXED else ()
    return Detected(fmt, encoding, sample, warnings)
