"""Plain-text dumps: many songs in one file, as scraped lyric sites and notebooks produce.

Songs are separated by separator lines (``---``, ``===``, ``***``), by ``Artist - Title``
header lines, or by runs of two or more blank lines, whichever the file uses (decided in a
first pass). A header line at the top of a song becomes its artist and title. Lines that
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


def header(line: str) -> tuple[str, str] | None:
    """(artist, title) if ``line`` is an ``Artist - Title`` header, else None."""
    match = HEADER.match(line.strip())
    if not match or line.rstrip().endswith((",", ";")) or len(line.split()) > 14:
        return None
    return match["artist"].strip(), match["title"].strip()


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


def _blocks(path: Path, encoding: str, mode: str) -> Iterator[Block]:
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
                mode == "header" and previous_blank and header(line) is not None)
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


def choose_mode(path: Path, encoding: str) -> str:
    separators = headers = 0
    first_is_header = None
    previous_blank = True
    with open_text(path, encoding) as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                previous_blank = True
                continue
            if SEPARATOR.match(line):
                separators += 1
            is_header = previous_blank and header(line) is not None
            headers += is_header
            if first_is_header is None:
                first_is_header = is_header
            previous_blank = False
    if separators:
        return "separator"
    if headers >= 2 and first_is_header:
        return "header"
    return "blank"


def find_boilerplate(path: Path, encoding: str, mode: str) -> tuple[set[int], dict[int, str]]:
    """Hashes of lines (or edge-line prefixes) that recur in many songs, with an example."""
    counts: Counter = Counter()
    examples: dict[int, str] = {}
    songs = 0
    for block in _blocks(path, encoding, mode):
        lines = [line.strip() for line in block.lines if line.strip()]
        if lines and header(lines[0]):
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
    mode = choose_mode(path, encoding)
    boilerplate, examples = find_boilerplate(path, encoding, mode)
    report.source.update(split_on={"separator": "separator lines", "header":
                                   "Artist - Title lines", "blank": "blank lines"}[mode])
    dropped: Counter = Counter()
    pending_header: tuple[str, str] | None = None
    for block in _blocks(path, encoding, mode):
        lines = list(block.lines)
        while lines and not lines[0].strip():
            lines.pop(0)
        found = header(lines[0]) if lines else None
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
