"""ChordPro song files (.cho, .chopro, .pro, ...) as datasets: the sung words only.

The songbook's own parser (``smartlap.craft.chordpro``) strips the chords and directives and
turns ``{start_of_chorus}`` into ``[Refrein]``; ``{title:}`` becomes the song's title and
``{artist:}`` its artist. A file holds one song, or several separated by ``{new_song}`` (or a
second ``{title:}`` after a song's lines), as songbook exports do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from smartlap.craft.chordpro import CHORDPRO_SUFFIXES, TITLE_KEYS, directive, meta_of, to_lyrics
from smartlap.store.importers.decoding import LongLine, bounded_lines, open_text
from smartlap.store.importers.records import Opener, RawSong, Skipped

NEW_SONG_KEYS = ("new_song", "ns")
ARTIST_KEYS = ("artist",)
_DIRECTIVE_LINE = re.compile(r"^\s*\{\s*(?:title|t|soc|start_of_chorus|sov|start_of_verse|"
                             r"comment|c|artist|key|capo|new_song|ns)\b", re.IGNORECASE | re.M)


def is_chordpro_name(path: Path) -> bool:
    return path.suffix.lower() in CHORDPRO_SUFFIXES


def looks_like_chordpro(sample: str) -> bool:
    """Two or more ChordPro directive lines near the top ({title:}, {soc}, {c:} ...)."""
    return len(_DIRECTIVE_LINE.findall(sample[:8192])) >= 2


def split_songs(lines: Iterable[str | LongLine]) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each song in a ChordPro file."""
    start, song, has_title, has_words = 1, [], False, False
    for number, line in enumerate(lines, start=1):
        if isinstance(line, LongLine):
            continue  # no lyric line is that long; chords and words are short
        found = directive(line)
        new_song = found is not None and (found[0] in NEW_SONG_KEYS or (
            found[0] in TITLE_KEYS and has_title and has_words))
        if new_song:
            if has_words:
                yield start, "".join(song)
            start, song, has_title, has_words = number, [], False, False
            if found[0] in NEW_SONG_KEYS:
                continue
        has_title = has_title or (found is not None and found[0] in TITLE_KEYS)
        has_words = has_words or (found is None and bool(line.strip()))
        song.append(line if line.endswith(("\n", "\r")) else line + "\n")
    if has_words:
        yield start, "".join(song)


def song_of(text: str) -> tuple[str, str, str]:
    """(lyrics, title, artist) of one ChordPro song."""
    return to_lyrics(text), meta_of(text, TITLE_KEYS) or "", meta_of(text, ARTIST_KEYS) or ""


def read_chordpro(path: Path, encoding: str) -> Opener:
    """A single ChordPro file: its song (or songs), streamed."""
    return lambda: _songs(path, encoding)


def _songs(path: Path, encoding: str) -> Iterator[RawSong | Skipped]:
    with open_text(path, encoding) as handle:
        for start, text in split_songs(bounded_lines(handle)):
            lyrics, title, artist = song_of(text)
            yield RawSong(lyrics=lyrics, where=f"line {start}", title=title, artist=artist)
