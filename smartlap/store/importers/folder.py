"""Folders of lyric files, one song per file: .txt, .lrc (timestamps stripped), .md and
ChordPro (.cho, .chopro, .pro ...: chords and directives stripped; a ChordPro file may hold
several songs split by ``{new_song}``).

The title comes from the file (LRC ``[ti:]``, a Markdown ``# heading``, ChordPro
``{title:}``) or its name; ``Artist - Title.txt`` names give the artist too. Files that
are not text are skipped and reported, not fatal: one stray binary should not stop a
folder of a thousand songs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from smartlap.craft.chordpro import CHORDPRO_SUFFIXES
from smartlap.errors import InputError, SmartlapError
from smartlap.store.importers.chordpro_files import song_of, split_songs
from smartlap.store.importers.decoding import MIXED, detect_encoding, mixed_warning, read_text
from smartlap.store.importers.lrc import strip_lrc
from smartlap.store.importers.records import Opener, RawSong, Skipped
from smartlap.store.importers.report import ImportReport
from smartlap.store.importers.txt_dump import header
from smartlap.units import human_bytes

SUFFIXES = (".txt", ".lrc", ".md", *CHORDPRO_SUFFIXES)
MAX_FILE_BYTES = 2 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def lyric_files(folder: Path) -> list[Path]:
    """The folder's lyric files, sorted, hidden files and folders left out."""
    files = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: str(p.relative_to(folder)).casefold())


def _markdown(text: str) -> tuple[str, str]:
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"), count=1)
    lines = text.split("\n")
    title = ""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            title = heading[1]
            del lines[index]
        break
    return "\n".join(lines), title


class SongFileTooLong(InputError):
    """A file in a folder of songs is bigger than one song can be (its size in the message)."""


def read_song_file(path: Path, report: ImportReport | None = None) -> list[tuple[str, str, str]]:
    """(lyrics, title, artist) of each song in one lyric file (one, except in a ChordPro
    file with ``{new_song}``); raises InputError if it is not text, SongFileTooLong if it
    is bigger than one song can be."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SongFileTooLong(f"{human_bytes(size)}, more than one song holds "
                              f"({human_bytes(MAX_FILE_BYTES)}); import it on its own")
    encoding = detect_encoding(path)
    if encoding == MIXED and report is not None:
        report.warn(mixed_warning(path))
    text = read_text(path, encoding)
    suffix = path.suffix.lower()
    if suffix in CHORDPRO_SUFFIXES:
        songs = [song_of(song) for _, song in split_songs(text.splitlines(keepends=True))]
        return [(lyrics, title or _name(path)[1], artist or _name(path)[0])
                for lyrics, title, artist in songs] or [("", "", "")]
    title = artist = ""
    if suffix == ".lrc":
        text, meta = strip_lrc(text)
        title, artist = meta.get("ti", ""), meta.get("ar", "")
    elif suffix == ".md":
        text, title = _markdown(text)
    if not title:
        artist, title = _name(path, artist)
    return [(text, title, artist)]


def _name(path: Path, artist: str = "") -> tuple[str, str]:
    """(artist, title) from a file name: ``Jan Smit - Vier.txt``, else the name as title."""
    return header(path.stem) or (artist, path.stem)


def read_folder(folder: Path, report: ImportReport) -> Opener:
    files = lyric_files(folder)
    if not files:
        raise InputError(f"{folder} has no .txt, .lrc or .md files (nor ChordPro .cho, .chopro, "
                         ".pro).",
                         "Put one song per .txt/.lrc/.md/.cho file in the folder, or import a "
                         "CSV.")
    report.source.update(files=len(files))
    return lambda: _stream_files(folder, files, report)


def _stream_files(folder: Path, files: list[Path],
                  report: ImportReport) -> Iterator[RawSong | Skipped]:
    for path in files:
        where = str(path.relative_to(folder))
        try:
            songs = read_song_file(path, report)
        except SongFileTooLong as error:
            yield Skipped(where, "too long", error.message)
            continue
        except SmartlapError as error:
            reason = "empty" if "is empty" in error.message else "not text"
            yield Skipped(where, reason, error.message.replace(str(path), path.name))
            continue
        for number, (text, title, artist) in enumerate(songs, start=1):
            here = where if len(songs) == 1 else f"{where} (song {number})"
            yield RawSong(lyrics=text, where=here, title=title, artist=artist)
