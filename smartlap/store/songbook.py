"""The person's songs: one Markdown file per song in ``songbook/``, with a small front matter.

A song file is readable and editable by hand::

    ---
    title: "Moeder, ik mis je"
    id: "3f9c2a61d0b4"
    style: "smartlap"
    created: "2026-11-21T22:00:00+00:00"
    updated: "2026-11-21T22:05:00+00:00"
    ---
    In de kroeg op de hoek brandt nog licht,
    ...

Values are JSON strings so quotes and colons in titles survive. Every save is atomic (the
studio autosaves while the person types, so a crash mid-save must never eat a song).

No song may ever overwrite another: a new song's file is created with a no-clobber link, and
a save checks that the file on disk is still the same song (its ``id``, or ``created`` for
files written before ids) before it replaces it. As a last guard the songbook keeps a short
history: before a save replaces a file, the old text is kept in ``.history/<slug>/`` (at most
one version a minute, always when a save drops most of the lines), and a deleted song's
last text is kept there too. ``smartlap songs restore`` and the studio bring a version back.
No textual, no torch: the studio and ``smartlap songs`` both use this module.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from smartlap.errors import AlreadyExistsError, InputError, NotFoundError, UsageError
from smartlap.fsutil import atomic_create_text, atomic_write_text, is_temporary, read_user_file
from smartlap.names import slugify, validate_name
from smartlap.paths import get_paths

SUFFIX = ".md"
FRONT_MATTER_FIELDS = ("title", "id", "style", "created", "updated")
HISTORY_DIR = ".history"
HISTORY_KEEP = 20  # versions kept per song
HISTORY_INTERVAL_SECONDS = 60.0  # autosaves closer together than this share one version
EXPORT_FORMATS = ("txt", "md", "chordpro")
_FORMAT_SUFFIX = {"txt": "txt", "md": "md", "chordpro": "cho"}
MAX_TITLE_LENGTH = 120
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BookSong:
    """A song in the songbook; ``slug`` is its file name without ``.md``."""

    slug: str
    title: str
    lyrics: str = ""
    style: str = ""
    created: str = ""
    updated: str = ""
    id: str = ""

    @property
    def path(self) -> Path:
        return song_path(self.slug)

    @property
    def line_count(self) -> int:
        return sum(1 for line in self.lyrics.splitlines() if line.strip())

    def to_dict(self) -> dict[str, str | int]:
        return {"slug": self.slug, "id": self.id, "title": self.title, "style": self.style,
                "created": self.created, "updated": self.updated, "lines": self.line_count,
                "lyrics": self.lyrics}


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _new_id() -> str:
    return secrets.token_hex(6)


def same_song(a: BookSong, b: BookSong) -> bool:
    """Whether two readings are the same song: by id, or by creation time for id-less files."""
    if a.id and b.id:
        return a.id == b.id
    return a.created == b.created


def songbook_dir() -> Path:
    return get_paths().songbook


def song_path(slug: str) -> Path:
    """The file of a song; the slug is validated so it can never leave the songbook."""
    return songbook_dir() / (validate_name(slug, "song") + SUFFIX)


def _read_song(path: Path) -> str:
    """A song file's text; a FIFO, device or giant file planted in the songbook is refused
    (InputError) instead of hanging or filling memory."""
    return read_user_file(path, what="song file").decode("utf-8")


def _clean_title(title: str) -> str:
    cleaned = " ".join(sane_text(title or "").split())
    if not cleaned:
        raise UsageError("The song title is empty.", "Give the song a title.")
    if len(cleaned) > MAX_TITLE_LENGTH:
        raise UsageError(f"The song title is longer than {MAX_TITLE_LENGTH} characters.",
                         "Use a shorter title.")
    return cleaned


def sane_text(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (pasted from a broken terminal) would make
    every save of the song fail, so it becomes U+FFFD instead. Applied where text comes in
    (titles, lyrics, the studio's fields), so what is kept is what is shown."""
    return _SURROGATE.sub("\ufffd", text)


def render(song: BookSong) -> str:
    """The file text of a song: front matter, then the lyrics as written."""
    song = replace(song, title=sane_text(song.title), lyrics=sane_text(song.lyrics),
                   style=sane_text(song.style))
    head = "\n".join(f"{key}: {json.dumps(getattr(song, key), ensure_ascii=False)}"
                     for key in FRONT_MATTER_FIELDS)
    lyrics = song.lyrics if song.lyrics.endswith("\n") or not song.lyrics else song.lyrics + "\n"
    return f"---\n{head}\n---\n{lyrics}"


def parse(text: str, slug: str) -> BookSong:
    """Read a song file; a file without front matter (written by hand) is all lyrics."""
    fields: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        end_at_eof = text.endswith("\n---") and end < 0
        if end >= 0 or end_at_eof:
            head = text[4:end] if end >= 0 else text[4:-4]
            body = text[end + 5:] if end >= 0 else ""
            for line in head.splitlines():
                key, sep, raw = line.partition(":")
                if not sep or key.strip() not in FRONT_MATTER_FIELDS:
                    continue
                raw = raw.strip()
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError:
                    value = raw
                fields[key.strip()] = str(value)
    if body.endswith("\n"):
        body = body[:-1]
    return BookSong(slug=slug, title=fields.get("title") or slug.replace("-", " "), lyrics=body,
                    style=fields.get("style", ""), created=fields.get("created", ""),
                    updated=fields.get("updated", ""), id=fields.get("id", ""))


def list_songs() -> list[BookSong]:
    """Every song, most recently updated first; leftovers of interrupted saves are skipped."""
    folder = songbook_dir()
    if not folder.is_dir():
        return []
    songs = []
    for path in folder.glob("*" + SUFFIX):
        if is_temporary(path) or not path.is_file():
            continue
        try:
            songs.append(parse(_read_song(path), path.stem))
        except (OSError, UnicodeDecodeError, InputError):
            continue
    return sorted(songs, key=lambda s: (s.updated, s.slug), reverse=True)


def open_song(slug: str) -> BookSong:
    path = song_path(slug)
    try:
        text = _read_song(path)
    except FileNotFoundError:
        raise NotFoundError(f"No song '{slug}' in the songbook.",
                            "Run 'smartlap songs list' to see the songs.") from None
    except UnicodeDecodeError:
        raise InputError(f"The song file {path} is not UTF-8 text.",
                         "Open it in a text editor and save it as UTF-8.") from None
    return parse(text, slug)


def _free_slugs(title: str) -> Iterator[str]:
    """``title``, ``title-2``, ``title-3``... (the caller takes the first it can create)."""
    base = slugify(title)
    yield base
    n = 2
    while True:
        yield f"{base}-{n}"
        n += 1


def _create(song: BookSong, prefer: str | None = None) -> BookSong:
    """Write ``song`` under ``prefer`` or the first free slug of its title; never over an
    existing file."""
    for slug in itertools.chain([prefer] if prefer else [], _free_slugs(song.title)):
        created = replace(song, slug=slug)
        try:
            atomic_create_text(created.path, render(created))
        except FileExistsError:
            continue
        return created
    raise AssertionError("unreachable")  # pragma: no cover


def new_song(title: str, lyrics: str = "", style: str = "") -> BookSong:
    """Create a song with a file of its own (``title-2`` when the title is taken)."""
    now = _now()
    return _create(BookSong(slug="", title=_clean_title(title), lyrics=sane_text(lyrics),
                            style=sane_text(style), created=now, updated=now, id=_new_id()))


def _on_disk(slug: str) -> tuple[BookSong, str] | None:
    try:
        text = _read_song(song_path(slug))
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return parse(text, slug), text


def save_song(song: BookSong, *, force_version: bool = False) -> BookSong:
    """Write the song atomically and return it with its new ``updated`` time.

    Refuses (AlreadyExistsError) when the file now holds a different song, so a stale editor
    can never overwrite another song; the text replaced is kept as a version first.
    """
    saved = replace(song, title=_clean_title(song.title), lyrics=sane_text(song.lyrics),
                    style=sane_text(song.style), updated=_now(),
                    created=song.created or _now(), id=song.id or _new_id())
    current = _on_disk(song.slug)
    if current is not None:
        disk, text = current
        if not same_song(disk, song):
            raise AlreadyExistsError(
                f"The songbook file {song.slug}.md now holds another song ({disk.title!r}); "
                "this one was not written over it.",
                "Copy your text, start a new song (Ctrl+N) and paste it there.")
        if text != render(saved):
            _keep_version(song.slug, text, disk, saved, force=force_version)
    atomic_write_text(saved.path, render(saved))
    return saved


def rename_song(slug: str, title: str) -> BookSong:
    """Give a song a new title; its file (and history) follow the title, never over another."""
    song = open_song(slug)
    title = _clean_title(title)
    renamed = replace(song, title=title, updated=_now(), id=song.id or _new_id())
    if slugify(title) == slugify(song.title) or slugify(title) == slug:
        return save_song(replace(renamed, slug=slug))
    moved = _create(renamed)
    _move_history(slug, moved.slug)
    song_path(slug).unlink(missing_ok=True)
    return moved


def delete_song(slug: str) -> None:
    """Remove a song; its last text stays in the history, so a delete can be undone."""
    current = _on_disk(slug)
    if current is None:
        if not song_path(slug).exists():
            raise NotFoundError(f"No song '{slug}' in the songbook.",
                                "Run 'smartlap songs list' to see the songs.")
    else:
        _write_version(slug, current[1])
    song_path(slug).unlink(missing_ok=True)


# -- history --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SongVersion:
    """One kept version of a song; ``number`` 1 is the newest."""

    number: int
    path: Path
    saved: str
    song: BookSong

    def to_dict(self) -> dict[str, str | int]:
        return {"version": self.number, "saved": self.saved, "title": self.song.title,
                "lines": self.song.line_count, "first_line": self.first_line}

    @property
    def first_line(self) -> str:
        return next((line.strip() for line in self.song.lyrics.splitlines() if line.strip()), "")


def history_dir(slug: str) -> Path:
    return songbook_dir() / HISTORY_DIR / validate_name(slug, "song")


def _write_version(slug: str, text: str) -> None:
    folder = history_dir(slug)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    for n in range(100):
        try:
            atomic_create_text(folder / f"{stamp}{'-' + str(n) if n else ''}{SUFFIX}", text)
            break
        except FileExistsError:
            continue
    for old in _version_files(slug)[HISTORY_KEEP:]:
        old.unlink(missing_ok=True)


def _keep_version(slug: str, text: str, before: BookSong, after: BookSong, *,
                  force: bool) -> None:
    """Keep the text a save replaces: once a minute, and always before a big loss."""
    drops_most = after.line_count < before.line_count / 2
    newest = _version_files(slug)[:1]
    recent = bool(newest) and time.time() - newest[0].stat().st_mtime < HISTORY_INTERVAL_SECONDS
    if force or drops_most or not recent:
        _write_version(slug, text)


def _version_files(slug: str) -> list[Path]:
    folder = history_dir(slug)
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*" + SUFFIX) if p.is_file() and not is_temporary(p)]
    return sorted(files, key=lambda p: p.name, reverse=True)


def _stamp_to_iso(name: str) -> str:
    try:
        moment = datetime.strptime(name[:22], "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        return ""
    return moment.replace(tzinfo=timezone.utc, microsecond=0).isoformat()


def list_versions(slug: str) -> list[SongVersion]:
    """The kept versions of a song (also of a deleted one), newest first."""
    versions = []
    for number, path in enumerate(_version_files(slug), start=1):
        try:
            song = parse(_read_song(path), slug)
        except (OSError, UnicodeDecodeError, InputError):
            continue
        versions.append(SongVersion(number, path, _stamp_to_iso(path.name), song))
    return versions


def songs_with_history() -> list[str]:
    """Slugs that have kept versions, deleted songs included."""
    folder = songbook_dir() / HISTORY_DIR
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and _version_files(p.name))


def restore_version(slug: str, number: int) -> BookSong:
    """Bring version ``number`` back as the song's text; what it replaces becomes a version."""
    versions = {v.number: v for v in list_versions(slug)}
    if not versions:
        raise NotFoundError(f"The song '{slug}' has no kept versions.",
                            "Versions are kept as the song is saved; see 'smartlap songs list'.")
    if number not in versions:
        raise UsageError(f"The song '{slug}' has no version {number}.",
                         f"Pick a version from 1 to {max(versions)}"
                         f" ('smartlap songs restore {slug}' lists them).")
    old = versions[number].song
    current = _on_disk(slug)
    if current is None:  # a deleted song comes back under its own name if it is free
        revived = _create(replace(old, id=old.id or _new_id(), updated=_now()), prefer=slug)
        _move_history(slug, revived.slug)
        return revived
    disk = current[0]
    return save_song(replace(disk, title=old.title, lyrics=old.lyrics, style=old.style),
                     force_version=True)


def _move_history(old_slug: str, new_slug: str) -> None:
    """A renamed song keeps its versions (unless the new name already has some)."""
    if old_slug == new_slug:
        return
    source, target = history_dir(old_slug), history_dir(new_slug)
    if source.is_dir() and not target.exists():
        os.replace(source, target)
    elif source.is_dir():
        for path in source.glob("*" + SUFFIX):
            shutil.move(str(path), target / path.name)
        shutil.rmtree(source, ignore_errors=True)


def export_text(song: BookSong, fmt: str) -> str:
    """Plain text (title, blank line, lyrics; ChordPro chords on a line above their words),
    Markdown (heading, style, lines kept apart; chords above, in a fixed-width block) or
    ChordPro (title directive, then the song as written)."""
    from smartlap.craft.chordpro import directive, has_chordpro, to_chords_above

    lyrics = song.lyrics.rstrip()
    if fmt == "chordpro":
        lines = lyrics.splitlines()
        body = "\n".join(line for line in lines if (directive(line) or ("", ""))[0]
                         not in ("title", "t"))
        style = f"{{subtitle: {song.style}}}\n" if song.style else ""
        return f"{{title: {song.title}}}\n{style}{body}\n"
    chords = has_chordpro(lyrics)
    if chords:
        lyrics = to_chords_above(lyrics).rstrip()
    if fmt == "txt":
        return f"{song.title}\n\n{lyrics}\n"
    if fmt == "md":
        style = f"*{song.style}*\n\n" if song.style else ""
        if chords:  # chords only stay over their words in a fixed-width block
            return f"# {song.title}\n\n{style}```\n{lyrics}\n```\n"
        # Two trailing spaces keep each lyric line its own line in rendered Markdown.
        lines = [line + "  " if line.strip() else "" for line in lyrics.splitlines()]
        return f"# {song.title}\n\n{style}" + "\n".join(lines) + "\n"
    raise UsageError(f"Unknown export format {fmt!r}.", "Use 'txt', 'md' or 'chordpro'.")


def export_song(slug: str, to: Path, fmt: str | None = None, *, force: bool = False) -> Path:
    """Export to a file; the format follows the suffix unless given. Returns the file written.

    An existing file is replaced only with ``force``: an export must not eat another text.
    """
    from smartlap.craft.chordpro import CHORDPRO_SUFFIXES

    to = Path(to).expanduser()
    if to.is_dir():
        to = to / f"{slug}.{_FORMAT_SUFFIX.get(fmt or 'txt', fmt)}"
    suffix = to.suffix.lower()
    chosen = fmt or ("chordpro" if suffix in CHORDPRO_SUFFIXES else suffix.lstrip(".")) or "txt"
    if chosen not in EXPORT_FORMATS:
        raise UsageError(f"Cannot export to {chosen!r}.",
                         "Export to a .txt, .md or .cho file, or pass --format "
                         "txt|md|chordpro.")
    text = export_text(open_song(slug), chosen)
    if force:
        atomic_write_text(to, text)
        return to
    try:
        atomic_create_text(to, text)
    except FileExistsError:
        raise AlreadyExistsError(f"{to} already exists; it was left as it is.",
                                 "Choose another file name, or replace it on purpose "
                                 "('songs export --force').") from None
    return to
