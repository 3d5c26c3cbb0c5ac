"""Folders of lyric files, one song per file: .txt, .lrc (timestamps stripped) and .md.

The title comes from the file (LRC ``[ti:]``, a Markdown ``# heading``) or its name;
``Artist - Title.txt`` names give the artist too. Files that are not text are skipped and
reported, not fatal: one stray binary should not stop a folder of a thousand songs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from smartlap.errors import InputError, SmartlapError
from smartlap.store.importers.decoding import detect_encoding
from smartlap.store.importers.lrc import strip_lrc
from smartlap.store.importers.records import RawSong, Skipped
from smartlap.store.importers.report import ImportReport
from smartlap.store.importers.txt_dump import header

SUFFIXES = (".txt", ".lrc", ".md")
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


def read_song_file(path: Path) -> tuple[str, str, str]:
    """(lyrics, title, artist) of one lyric file; raises InputError if it is not text."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    text = path.read_text(encoding=detect_encoding(path))
    title = artist = ""
    suffix = path.suffix.lower()
    if suffix == ".lrc":
        text, meta = strip_lrc(text)
        title, artist = meta.get("ti", ""), meta.get("ar", "")
    elif suffix == ".md":
        text, title = _markdown(text)
    if not title:
        named = header(path.stem)
        artist, title = named if named else (artist, path.stem)
    return text, title, artist


def read_folder(folder: Path, report: ImportReport) -> Iterator[RawSong | Skipped]:
    files = lyric_files(folder)
    if not files:
        raise InputError(f"{folder} has no .txt, .lrc or .md files.",
                         "Put one song per .txt/.lrc/.md file in the folder, or import a CSV.")
    report.source.update(files=len(files))
    return _stream_files(folder, files)


def _stream_files(folder: Path, files: list[Path]) -> Iterator[RawSong | Skipped]:
    for path in files:
        where = str(path.relative_to(folder))
        try:
            text, title, artist = read_song_file(path)
        except SmartlapError as error:
            reason = "empty" if "is empty" in error.message else "not text"
            yield Skipped(where, reason, error.message.replace(str(path), path.name))
            continue
        yield RawSong(lyrics=text, where=where, title=title, artist=artist)
