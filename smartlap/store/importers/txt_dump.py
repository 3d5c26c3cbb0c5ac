"""Plain-text dumps: many songs in one file, as scraped lyric sites and notebooks produce.

Songs are separated by separator lines (``---``, ``===``, ``***``), by ``Artist - Title``
header lines, or by runs of two or more blank lines, whichever the file uses (decided in a
first pass). A header line at the top of a song becomes its artist and title. A dash line
is a header only at a song boundary and when it agrees with the file's other headers (see
``HeaderRule``), so a lyric such as "wat Sally gaat zeggen - ha!" stays a lyric. Lines are
read in bounded pieces: one too long to be lyrics is measured and reported, never kept.
Site boilerplate is dropped after reading, for every format alike (``boilerplate``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smartlap.store.importers.decoding import (
    MAX_LINE_CHARS,
    LongLine,
    bounded_lines,
    open_text,
    read_sample,
)
from smartlap.store.importers.lrc import looks_like_lrc, strip_lrc
from smartlap.store.importers.records import Opener, RawSong, Skipped
from smartlap.store.importers.report import ImportReport
from smartlap.units import human_bytes

SEPARATOR = re.compile(r"^\s*([-=*_~#])\1{2,}\s*$")
HEADER = re.compile(r"^(?P<artist>\S.{0,60}?)\s+[-–—]\s+(?P<title>\S.{0,80}?)\s*$")
MAX_HEADER_WORDS = 12
UNHEADER_ENDINGS = ("!", "?", ",", ";", ":", ".", "…")


def header(line: str) -> tuple[str, str] | None:
    """(artist, title) if ``line`` is an ``Artist - Title`` header, else None."""
    match = HEADER.match(line.strip())
    if not match or line.rstrip().endswith((",", ";")) or len(line.split()) > 14:
        return None
    return match["artist"].strip(), match["title"].strip()


def _artist_key(artist: str) -> str:
    return " ".join(artist.casefold().split())


def plain_header(line: str) -> bool:
    """Short and without closing punctuation: the shape of a header, not of a sung line."""
    text = line.strip()
    return len(text.split()) <= MAX_HEADER_WORDS and not text.endswith(UNHEADER_ENDINGS)


@dataclass(frozen=True)
class HeaderRule:
    """Which boundary dash lines are headers, learnt from the file's own boundary lines.

    Only lines at a song boundary (start of file, after a blank line or a separator) are
    ever asked. A line naming an artist that heads two or more songs is a header. When such
    known artists head most of the file's songs (a dump of one or a few artists), no other
    line is; otherwise a line is a header when it looks like one (short, no closing '!',
    '?', ',' ...). Either way a sung line with a dash in it is not taken for a header.
    """

    artists: frozenset[str] = frozenset()
    strict: bool = False

    def header(self, line: str) -> tuple[str, str] | None:
        found = header(line)
        if found is None:
            return None
        if _artist_key(found[0]) in self.artists:
            return found
        return found if not self.strict and plain_header(line) else None


@dataclass
class Block:
    start: int
    lines: list[str] = field(default_factory=list)
    long_lines: list[tuple[int, LongLine]] = field(default_factory=list)

    def has_content(self) -> bool:
        return bool(self.long_lines) or any(s.strip() for s in self.lines)


def _blocks(path: Path, encoding: str, mode: str, rule: HeaderRule) -> Iterator[Block]:
    """Split the file into song blocks (a list of lines each) without reading it whole."""
    block = Block(start=1)
    blanks = 0
    previous_blank = True
    with open_text(path, encoding) as handle:
        for number, raw in enumerate(bounded_lines(handle), start=1):
            if isinstance(raw, LongLine):  # measured, never kept: it is not a lyric line
                block.long_lines.append((number, raw))
                blanks, previous_blank = 0, False
                continue
            line = raw.rstrip("\r\n")
            if not line.strip():
                blanks += 1
                previous_blank = True
                if mode == "blank" and blanks == 2 and block.has_content():
                    yield block
                    block = Block(start=number + 1)
                    continue
                block.lines.append("")
                continue
            starts_song = (mode == "separator" and SEPARATOR.match(line)) or (
                mode == "header" and previous_blank and rule.header(line) is not None)
            blanks = 0
            previous_blank = False
            if starts_song:
                if block.has_content():
                    yield block
                if mode == "separator":
                    block = Block(start=number + 1)
                    continue
                block = Block(start=number)
            block.lines.append(line)
    if block.has_content():
        yield block


def scan(path: Path, encoding: str) -> tuple[str, HeaderRule]:
    """First pass: how the file splits songs, and which dash lines are its headers.

    A dash line is a candidate header when it stands at a boundary (first line, or after a
    blank line or a separator) and a body line follows before the next candidate; a dash
    line inside a stanza never is. Artists of two or more candidates make the rule.
    """
    separators = 0
    artists: Counter = Counter()
    plain: Counter = Counter()
    first: tuple[str, bool] | None = None  # the file's first line, if a candidate
    candidate: tuple[str, bool] | None = None  # waiting for a body line
    seen_line = False
    boundary = True
    with open_text(path, encoding) as handle:
        for raw in bounded_lines(handle):
            line = raw.strip() if isinstance(raw, str) else "(a long line)"
            if not line:
                boundary = True
                continue
            found = header(line) if boundary else None
            if SEPARATOR.match(line):
                separators += 1
                boundary = True
                continue
            if found is not None:
                candidate = (_artist_key(found[0]), plain_header(line))
                if not seen_line:
                    first = candidate
            elif candidate is not None:
                artists[candidate[0]] += 1
                plain[candidate[0]] += candidate[1]
                candidate = None
            seen_line = True
            boundary = False
    known = frozenset(artist for artist, count in artists.items() if count >= 2)
    named = sum(artists[artist] for artist in known)
    rule = HeaderRule(known, strict=2 * named >= artists.total() > 0 and bool(known))
    if separators:
        return "separator", rule
    headers = named + (0 if rule.strict else sum(
        count for artist, count in plain.items() if artist not in known))
    first_ok = first is not None and (first[0] in known or (not rule.strict and first[1]))
    if headers >= 2 and first_ok:
        return "header", rule
    return "blank", rule


def read_txt(path: Path, encoding: str, report: ImportReport) -> Opener:
    """Decide how the file splits (one pass), then open its songs as often as asked."""
    lrc = looks_like_lrc(read_sample(path, encoding))
    mode, rule = scan(path, encoding)
    report.source.update(split_on={"separator": "separator lines", "header":
                                   "Artist - Title lines", "blank": "blank lines"}[mode])
    return lambda: _songs(path, encoding, mode, rule, lrc, report)


def _long_detail(block: Block) -> str:
    """What a block's over-long lines are, in words ("one line of 50.0 MB")."""
    if len(block.long_lines) == 1:
        number, long = block.long_lines[0]
        return long.describe() + ("" if number == block.start else f" (line {number})")
    longest = max(long.chars for _, long in block.long_lines)
    return (f"{len(block.long_lines)} lines over {human_bytes(MAX_LINE_CHARS)} (the longest "
            f"{human_bytes(longest)})")


def _songs(path: Path, encoding: str, mode: str, rule: HeaderRule, lrc: bool,
           report: ImportReport) -> Iterator[RawSong | Skipped]:
    pending_header: tuple[str, str] | None = None
    pending_where = ""
    long_in_songs: list[str] = []
    header_only = "only a header line, no lyrics under it"
    for block in _blocks(path, encoding, mode, rule):
        lines = list(block.lines)
        while lines and not lines[0].strip():
            lines.pop(0)
        found = rule.header(lines[0]) if lines else None
        if found:
            lines = lines[1:]
        where = f"line {block.start}"
        text = "\n".join(lines)
        meta: dict[str, str] = {}
        if lrc:
            text, meta = strip_lrc(text)
        if found and pending_header:  # the header before had no song under it
            yield Skipped(pending_where, "empty", header_only)
            pending_header = None
        if found and not text.strip() and not block.long_lines:
            pending_header, pending_where = found, where
            continue
        artist, title = found or pending_header or ("", "")
        pending_header = None
        title, artist = title or meta.get("ti", ""), artist or meta.get("ar", "")
        if not text.strip():
            if block.long_lines:
                yield Skipped(where, "not text", f"{_long_detail(block)}, not lyrics")
            else:
                yield Skipped(where, "empty", "only LRC tags, no lyrics")
            continue
        if block.long_lines:
            long_in_songs.append(f"{_long_detail(block)} in the song at {where}")
        yield RawSong(lyrics=text, where=where, title=title, artist=artist)
    if pending_header:
        yield Skipped(pending_where, "empty", header_only)
    if long_in_songs:
        report.warn(f"dropped lines too long to be lyrics from {len(long_in_songs)} song(s), "
                    f"the first: {long_in_songs[0]}")
