"""JSON Lines: one object per line with the lyrics in a text field (lyrics, text, tekst...)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from smartlap.errors import InputError
from smartlap.store.importers.decoding import LongLine, bounded_lines, open_text
from smartlap.store.importers.records import Opener, RawSong, Skipped
from smartlap.store.importers.report import ImportReport

TEXT_FIELDS = ("lyrics", "lyric", "text", "tekst", "songtekst", "content", "body")
TITLE_FIELDS = ("title", "titel", "name", "naam", "song")
ARTIST_FIELDS = ("artist", "artiest", "zanger", "performer", "author")
MAX_RECORD = 4 * 1024 * 1024  # characters; one song's record is a few kB


def _first(obj: dict, fields: tuple[str, ...]) -> tuple[str | None, object]:
    lowered = {str(key).lower(): key for key in obj}
    for name in fields:
        if name in lowered:
            return name, obj[lowered[name]]
    return None, None


def _plain(value: object) -> str:
    return value if isinstance(value, str) else ""


def read_jsonl(path: Path, encoding: str, report: ImportReport) -> Opener:
    return lambda: _records(path, encoding, report)


def _records(path: Path, encoding: str, report: ImportReport) -> Iterator[RawSong | Skipped]:
    with_text = 0
    objects = 0
    with open_text(path, encoding) as handle:
        for number, raw in enumerate(bounded_lines(handle, MAX_RECORD), start=1):
            where = f"line {number}"
            if isinstance(raw, LongLine):
                yield Skipped(where, "too long", f"{raw.describe()}, more than one song holds")
                continue
            line = raw.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                yield Skipped(where, "not text", f"not a JSON object ({error.msg})")
                continue
            except RecursionError:
                yield Skipped(where, "not text", "JSON nested too deeply to read (hundreds of "
                              "levels), not a song")
                continue
            if not isinstance(obj, dict):
                yield Skipped(where, "not text", "not a JSON object")
                continue
            objects += 1
            field, value = _first(obj, TEXT_FIELDS)
            if field is None:
                yield Skipped(where, "empty", "no lyrics/text field")
                continue
            with_text += 1
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "\n".join(value)
            if not isinstance(value, str):
                yield Skipped(where, "not text", f"the {field!r} field is not a string")
                continue
            report.source.setdefault("text_field", field)
            yield RawSong(lyrics=value, where=where, title=_plain(_first(obj, TITLE_FIELDS)[1]),
                          artist=_plain(_first(obj, ARTIST_FIELDS)[1]))
    if objects and not with_text:
        raise InputError(f"{path} has no lyrics field in any line.",
                         f"Give each JSON object one of the fields: {', '.join(TEXT_FIELDS)}.")
