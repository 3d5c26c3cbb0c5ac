"""CSV/TSV lyric tables: sniff the delimiter and header, find the lyrics column, stream rows.

The lyrics column is found by its header name (lyrics, tekst, songtekst, ...) or, failing
that, as the column whose cells are the longest multi-line text in the first rows. Title
and artist columns are optional and found by name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from smartlap.errors import InputError
from smartlap.store.importers.decoding import is_cut, long_line, open_text, read_sample
from smartlap.store.importers.records import Opener, RawSong, Skipped
from smartlap.store.importers.report import ImportReport

DELIMITERS = (",", ";", "\t", "|")
LYRICS_NAMES = ("lyrics", "lyric", "songtekst", "songteksten", "tekst", "text", "songtext",
                "liedtekst", "lied", "lyrics_text", "content", "body", "words")
TITLE_NAMES = ("title", "titel", "song", "song_title", "songtitle", "name", "naam", "liedje",
               "track")
ARTIST_NAMES = ("artist", "artiest", "artiesten", "zanger", "zangeres", "performer",
                "uitvoerder", "band", "singer", "author", "auteur")
LYRICS_STEMS = ("lyric", "tekst", "text")
TITLE_STEMS = ("title", "titel")
ARTIST_STEMS = ("artist", "artiest", "zanger")
MAX_CELL = 1024 * 1024  # a quoted cell longer than this is an unclosed quote, not a song
MAX_LINE = 2 * MAX_CELL  # a physical line longer than this is no row of a lyrics table
SAMPLE_ROWS = 200


@dataclass(frozen=True)
class Layout:
    delimiter: str
    has_header: bool
    columns: list[str]
    lyrics: int
    title: int | None
    artist: int | None


def _rows(text: str, delimiter: str) -> list[list[str]]:
    """Parse a sample; the last row may be cut off by the sample boundary, so drop it."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return []
    return [row for row in rows[:-1] if row] if len(rows) > 1 else rows


def consistent_width(text: str, delimiter: str) -> tuple[int, float]:
    """(modal column count, share of rows with that count) for a sample parsed with delimiter."""
    rows = _rows(text, delimiter)[:SAMPLE_ROWS]
    if len(rows) < 2:
        return 0, 0.0
    widths: dict[int, int] = {}
    for row in rows:
        widths[len(row)] = widths.get(len(row), 0) + 1
    width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
    return width, count / len(rows)


def sniff_delimiter(sample: str) -> str | None:
    """The delimiter giving most rows the same width (>= 2 columns), or None if not a table."""
    best: tuple[float, int, str] | None = None
    for delimiter in DELIMITERS:
        width, share = consistent_width(sample, delimiter)
        if width >= 2 and share >= 0.9 and (best is None or (share, width) > best[:2]):
            best = (share, width, delimiter)
    return best[2] if best else None


def header_delimiter(sample: str) -> str | None:
    """The delimiter that splits the first line into a header naming a lyrics column.

    This recognises a table even when its first row is broken (an unclosed quote swallows
    the rest of the file), so the person hears "broken CSV" instead of a strange import.
    """
    first_line = sample.lstrip("\ufeff").split("\n", 1)[0].strip()
    for delimiter in DELIMITERS:
        cells = first_line.split(delimiter)
        if len(cells) >= 2 and _find(cells, LYRICS_NAMES) is not None:
            return delimiter
    return None


def _find(names: list[str], wanted: tuple[str, ...], stems: tuple[str, ...] = ()) -> int | None:
    """The column named one of ``wanted`` (exactly), else one whose name contains a stem
    ("Song Lyrics", "Titel van het lied")."""
    cleaned = [name.strip().lower().replace(" ", "_") for name in names]
    for candidate in wanted:
        if candidate in cleaned:
            return cleaned.index(candidate)
    for stem in stems:
        for index, name in enumerate(cleaned):
            if stem in name and len(name) <= 40:
                return index
    return None


def _text_score(cells: list[str]) -> float:
    """How much a column looks like lyrics: long, multi-line, mostly letters."""
    if not cells:
        return 0.0
    total = 0.0
    for cell in cells:
        letters = sum(1 for char in cell if char.isalpha())
        if len(cell.split()) < 4 or letters < 0.5 * len(cell.replace(" ", "")):
            continue
        total += len(cell) * (1 + cell.count("\n"))
    return total / len(cells)


def detect_layout(path: Path, encoding: str, sample: str | None = None) -> Layout:
    sample = read_sample(path, encoding) if sample is None else sample
    delimiter = sniff_delimiter(sample) or header_delimiter(sample)
    if delimiter is None:
        raise InputError(f"{path} does not look like a table (no consistent ',', ';' or tab "
                         "columns).", "Use --format txt for plain text, or check the file.")
    rows = _rows(sample, delimiter)[:SAMPLE_ROWS] or [sample.split("\n", 1)[0].split(delimiter)]
    first = rows[0]
    lyrics = _find(first, LYRICS_NAMES, LYRICS_STEMS)
    title = _find(first, TITLE_NAMES, TITLE_STEMS)
    artist = _find(first, ARTIST_NAMES, ARTIST_STEMS)
    has_header = lyrics is not None or title is not None or artist is not None
    if not has_header:
        body = rows[1:] or rows
        longest = max(len(c) for row in body for c in row) if body else 0
        has_header = all("\n" not in cell and len(cell) < 40 for cell in first) and longest > 80
    body = rows[1:] if has_header else rows
    if lyrics is None:
        width = len(first)
        scores = [_text_score([row[i] for row in body if i < len(row)]) for i in range(width)]
        best = max(range(width), key=lambda i: scores[i])
        # a "song" or "name" column holding whole songs is the lyrics, not the title
        title = None if best == title else title
        artist = None if best == artist else artist
        if scores[best] < 20:
            names = ", ".join(repr(c) for c in first) if has_header else f"{width} columns"
            raise InputError(
                f"{path} has no usable lyrics column ({names}).",
                "Name the column with the song texts 'lyrics' or 'tekst' (one song per row), "
                "or import a plain text file with --format txt.")
        lyrics = best
    columns = [c.strip() for c in first] if has_header else [f"column {i + 1}"
                                                              for i in range(len(first))]
    return Layout(delimiter, has_header, columns, lyrics, title, artist)


def read_csv(path: Path, encoding: str, report: ImportReport,
             sample: str | None = None) -> Opener:
    """Open the table's rows as raw songs (or skips for rows without a lyrics cell).

    The layout is detected at once, so a table without a lyrics column fails before the
    import writes anything.
    """
    layout = detect_layout(path, encoding, sample)
    report.source.update(
        delimiter={"\t": "tab"}.get(layout.delimiter, layout.delimiter),
        header=layout.has_header,
        lyrics_column=layout.columns[layout.lyrics],
        title_column=None if layout.title is None else layout.columns[layout.title],
        artist_column=None if layout.artist is None else layout.columns[layout.artist],
    )
    return lambda: _stream_rows(path, encoding, layout)


def _physical_lines(path: Path, handle: io.TextIOBase) -> Iterator[str]:
    """The file's lines for the csv module, each read in bounded pieces: a line longer than
    any row of lyrics could be is refused before it is held in memory."""
    readline = handle.readline  # one generator, no more: this runs once per line
    number = 0
    while line := readline(MAX_LINE):
        number += 1
        if is_cut(line, MAX_LINE):
            size = long_line(handle, line, MAX_LINE).size
            raise InputError(f"{path} is not a table of lyrics: line {number} is {size} long.",
                             "A row of lyrics is at most a few kB; check the file, or import "
                             "it with --format txt.")
        yield line


def _stream_rows(path: Path, encoding: str, layout: Layout) -> Iterator[RawSong | Skipped]:
    previous_limit = csv.field_size_limit(MAX_CELL)
    try:
        with open_text(path, encoding) as handle:
            reader = csv.reader(_physical_lines(path, handle), delimiter=layout.delimiter)
            start_line = 1
            row_number = 0
            try:
                for row in reader:
                    line = start_line
                    start_line = reader.line_num + 1
                    if not row:
                        continue
                    row_number += 1
                    if layout.has_header and row_number == 1:
                        continue
                    where = f"row {row_number} (line {line})"
                    if layout.lyrics >= len(row):
                        yield Skipped(where, "empty", "the row has no lyrics column")
                        continue
                    yield RawSong(
                        lyrics=row[layout.lyrics],
                        where=where,
                        title=_cell(row, layout.title),
                        artist=_cell(row, layout.artist),
                    )
            except csv.Error as error:
                raise InputError(
                    f"{path} is a broken CSV near line {reader.line_num}: {error}.",
                    "Look for a quote (\") that is opened but never closed, then import again."
                ) from None
    finally:
        csv.field_size_limit(previous_limit)


def _cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""
