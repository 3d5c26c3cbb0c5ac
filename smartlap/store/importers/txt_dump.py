"""Plain-text dumps: many songs in one file, as scraped lyric sites and notebooks produce.

Songs are separated by separator lines (``---``, ``===``, ``***``), by ``Artist - Title``
header lines, or by runs of two or more blank lines, whichever the file uses (decided in a
first pass). A header line at the top of a song becomes its artist and title. A dash line
is a header only at a song boundary and when it agrees with the file's other headers (see
``HeaderRule``), so a lyric such as "wat Sally gaat zeggen - ha!" stays a lyric. Lines that
recur across many songs (site credits, "added by ...") are boilerplate: found in the first
pass, dropped in the second, and listed in the report. Two passes over the file keep memory
flat: only one song and a table of line hashes are held at a time.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smartlap.store.importers.decoding import open_text, read_sample
from smartlap.store.importers.lrc import looks_like_lrc, strip_lrc
from smartlap.store.importers.normalise import section_tag
from smartlap.store.importers.records import RawSong, Skipped
from smartlap.store.importers.report import ImportReport

SEPARATOR = re.compile(r"^\s*([-=*_~#])\1{2,}\s*$")
HEADER = re.compile(r"^(?P<artist>\S.{0,60}?)\s+[-–—]\s+(?P<title>\S.{0,80}?)\s*$")
BOILERPLATE_SHARE = 0.3
BOILERPLATE_MIN_SONGS = 3
SAMPLE_SONGS = 3000
EDGE_LINES = 2
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


def _line_key(line: str) -> str:
    return " ".join(line.casefold().split())


def _prefix_key(line: str) -> str | None:
    words = line.casefold().split()
    return "prefix:" + " ".join(words[:2]) if len(words) >= 3 else None


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


@dataclass
class Block:
    start: int
    lines: list[str] = field(default_factory=list)


def _blocks(path: Path, encoding: str, mode: str, rule: HeaderRule) -> Iterator[Block]:
    """Split the file into song blocks (a list of lines each) without reading it whole."""
    block = Block(start=1)
    blanks = 0
    previous_blank = True
    with open_text(path, encoding) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                blanks += 1
                previous_blank = True
                if mode == "blank" and blanks == 2 and any(s.strip() for s in block.lines):
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
                if any(s.strip() for s in block.lines):
                    yield block
                if mode == "separator":
                    block = Block(start=number + 1)
                    continue
                block = Block(start=number)
            block.lines.append(line)
    if any(s.strip() for s in block.lines):
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
        for raw in handle:
            line = raw.strip()
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


def choose_mode(path: Path, encoding: str) -> str:
    """How the file separates its songs: 'separator', 'header' or 'blank'."""
    return scan(path, encoding)[0]


def find_boilerplate(path: Path, encoding: str, mode: str,
                     rule: HeaderRule | None = None) -> tuple[set[int], dict[int, str]]:
    """Hashes of lines (or edge-line prefixes) that recur in many songs, with an example."""
    counts: Counter = Counter()
    examples: dict[int, str] = {}
    songs = 0
    rule = rule or HeaderRule()
    for block in _blocks(path, encoding, mode, rule):
        lines = [line.strip() for line in block.lines if line.strip()]
        if lines and rule.header(lines[0]):
            lines = lines[1:]
        if not lines:
            continue
        songs += 1
        keys: set[int] = set()
        for index, line in enumerate(lines):
            if section_tag(line):
                continue
            candidates = [_line_key(line)]
            if index < EDGE_LINES or index >= len(lines) - EDGE_LINES:
                candidates.append(_prefix_key(line))
            for key in filter(None, candidates):
                hashed = _hash(key)
                keys.add(hashed)
                if hashed not in examples:
                    prefix = key.startswith("prefix:")
                    examples[hashed] = " ".join(line.split()[:2]) + " ..." if prefix else line
        counts.update(keys)
        if songs >= SAMPLE_SONGS:
            break
    threshold = max(BOILERPLATE_MIN_SONGS, math.ceil(BOILERPLATE_SHARE * songs))
    if songs < BOILERPLATE_MIN_SONGS + 1:
        return set(), {}
    found = {key for key, count in counts.items() if count >= threshold}
    return found, {key: examples[key] for key in found}


def read_txt(path: Path, encoding: str, report: ImportReport) -> Iterator[RawSong | Skipped]:
    lrc = looks_like_lrc(read_sample(path, encoding))
    mode, rule = scan(path, encoding)
    boilerplate, examples = find_boilerplate(path, encoding, mode, rule)
    report.source.update(split_on={"separator": "separator lines", "header":
                                   "Artist - Title lines", "blank": "blank lines"}[mode])
    dropped: Counter = Counter()
    pending_header: tuple[str, str] | None = None
    for block in _blocks(path, encoding, mode, rule):
        lines = list(block.lines)
        while lines and not lines[0].strip():
            lines.pop(0)
        found = rule.header(lines[0]) if lines else None
        if found:
            lines = lines[1:]
        if found and not any(line.strip() for line in lines):
            pending_header = found
            continue
        artist, title = found or pending_header or ("", "")
        pending_header = None
        kept = []
        content = [i for i, line in enumerate(lines) if line.strip()]
        edges = set(content[:EDGE_LINES] + content[-EDGE_LINES:])
        for index, line in enumerate(lines):
            hit = _boilerplate_hit(line, index in edges, boilerplate)
            if hit is None:
                kept.append(line)
            else:
                dropped[hit] += 1
        text = "\n".join(kept)
        if lrc:
            text, meta = strip_lrc(text)
            title, artist = title or meta.get("ti", ""), artist or meta.get("ar", "")
        where = f"line {block.start}"
        if not text.strip():
            yield Skipped(where, "empty", "only a header or boilerplate")
            continue
        yield RawSong(lyrics=text, where=where, title=title, artist=artist)
    for key, count in dropped.most_common():
        report.boilerplate.append({"line": examples[key], "songs": count})
    if dropped:
        report.warn(f"dropped {sum(dropped.values())} boilerplate lines that recur across "
                    f"songs (e.g. {examples[dropped.most_common(1)[0][0]]!r})")


def _boilerplate_hit(line: str, at_edge: bool, boilerplate: set[int]) -> int | None:
    if not boilerplate or not line.strip():
        return None
    key = _hash(_line_key(line))
    if key in boilerplate:
        return key
    prefix = _prefix_key(line) if at_edge else None
    if prefix is not None and _hash(prefix) in boilerplate:
        return _hash(prefix)
    return None
