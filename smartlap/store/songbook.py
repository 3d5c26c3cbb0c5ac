"""The person's songs: one Markdown file per song in ``songbook/``, with a small front matter.

A song file is readable and editable by hand::

    ---
    title: "Moeder, ik mis je"
    style: "smartlap"
    created: "2026-11-21T22:00:00+00:00"
    updated: "2026-11-21T22:05:00+00:00"
    ---
    In de kroeg op de hoek brandt nog licht,
    ...

Values are JSON strings so quotes and colons in titles survive. Every save is atomic (the
studio autosaves while the person types, so a crash mid-save must never eat a song).
No textual, no torch: the studio and ``smartlap songs`` both use this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from smartlap.errors import InputError, NotFoundError, UsageError
from smartlap.fsutil import atomic_write_text, is_temporary
from smartlap.names import slugify, validate_name
from smartlap.paths import get_paths

SUFFIX = ".md"
FRONT_MATTER_FIELDS = ("title", "style", "created", "updated")
EXPORT_FORMATS = ("txt", "md")
MAX_TITLE_LENGTH = 120


@dataclass(frozen=True)
class BookSong:
    """A song in the songbook; ``slug`` is its file name without ``.md``."""

    slug: str
    title: str
    lyrics: str = ""
    style: str = ""
    created: str = ""
    updated: str = ""

    @property
    def path(self) -> Path:
        return song_path(self.slug)

    @property
    def line_count(self) -> int:
        return sum(1 for line in self.lyrics.splitlines() if line.strip())

    def to_dict(self) -> dict[str, str | int]:
        return {"slug": self.slug, "title": self.title, "style": self.style,
                "created": self.created, "updated": self.updated, "lines": self.line_count,
                "lyrics": self.lyrics}


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def songbook_dir() -> Path:
    return get_paths().songbook


def song_path(slug: str) -> Path:
    """The file of a song; the slug is validated so it can never leave the songbook."""
    return songbook_dir() / (validate_name(slug, "song") + SUFFIX)


def _clean_title(title: str) -> str:
    cleaned = " ".join((title or "").split())
    if not cleaned:
        raise UsageError("The song title is empty.", "Give the song a title.")
    if len(cleaned) > MAX_TITLE_LENGTH:
        raise UsageError(f"The song title is longer than {MAX_TITLE_LENGTH} characters.",
                         "Use a shorter title.")
    return cleaned


def render(song: BookSong) -> str:
    """The file text of a song: front matter, then the lyrics as written."""
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
                    updated=fields.get("updated", ""))


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
            songs.append(parse(path.read_text(encoding="utf-8"), path.stem))
        except (OSError, UnicodeDecodeError):
            continue
    return sorted(songs, key=lambda s: (s.updated, s.slug), reverse=True)


def open_song(slug: str) -> BookSong:
    path = song_path(slug)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"No song '{slug}' in the songbook.",
                            "Run 'smartlap songs list' to see the songs.") from None
    except UnicodeDecodeError:
        raise InputError(f"The song file {path} is not UTF-8 text.",
                         "Open it in a text editor and save it as UTF-8.") from None
    return parse(text, slug)


def _free_slug(title: str, taken_by: str | None = None) -> str:
    base = slugify(title)
    slug, n = base, 2
    while song_path(slug).exists() and slug != taken_by:
        slug, n = f"{base}-{n}", n + 1
    return slug


def new_song(title: str, lyrics: str = "", style: str = "") -> BookSong:
    """Create a song with a slug of its own (``title-2`` when the title is taken)."""
    title = _clean_title(title)
    now = _now()
    song = BookSong(slug=_free_slug(title), title=title, lyrics=lyrics, style=style,
                    created=now, updated=now)
    atomic_write_text(song.path, render(song))
    return song


def save_song(song: BookSong) -> BookSong:
    """Write the song atomically and return it with its new ``updated`` time."""
    saved = replace(song, title=_clean_title(song.title), updated=_now(),
                    created=song.created or _now())
    atomic_write_text(saved.path, render(saved))
    return saved


def rename_song(slug: str, title: str) -> BookSong:
    """Give a song a new title; its file follows the title (new file first, then old removed)."""
    song = open_song(slug)
    title = _clean_title(title)
    new_slug = _free_slug(title, taken_by=slug)
    renamed = replace(song, slug=new_slug, title=title, updated=_now())
    atomic_write_text(renamed.path, render(renamed))
    if new_slug != slug:
        song_path(slug).unlink(missing_ok=True)
    return renamed


def delete_song(slug: str) -> None:
    path = song_path(slug)
    if not path.exists():
        raise NotFoundError(f"No song '{slug}' in the songbook.",
                            "Run 'smartlap songs list' to see the songs.")
    path.unlink()


def export_text(song: BookSong, fmt: str) -> str:
    """Plain text (title, blank line, lyrics) or Markdown (heading, style, lines kept apart)."""
    if fmt == "txt":
        return f"{song.title}\n\n{song.lyrics.rstrip()}\n"
    if fmt == "md":
        # Two trailing spaces keep each lyric line its own line in rendered Markdown.
        lines = [line + "  " if line.strip() else "" for line in song.lyrics.rstrip().splitlines()]
        style = f"*{song.style}*\n\n" if song.style else ""
        return f"# {song.title}\n\n{style}" + "\n".join(lines) + "\n"
    raise UsageError(f"Unknown export format {fmt!r}.", "Use 'txt' or 'md'.")


def export_song(slug: str, to: Path, fmt: str | None = None) -> Path:
    """Export to a file; the format follows the suffix unless given. Returns the file written."""
    to = Path(to).expanduser()
    if to.is_dir():
        to = to / f"{slug}.{fmt or 'txt'}"
    chosen = fmt or to.suffix.lstrip(".").lower() or "txt"
    if chosen not in EXPORT_FORMATS:
        raise UsageError(f"Cannot export to {chosen!r}.",
                         "Export to a .txt or .md file, or pass --format txt|md.")
    atomic_write_text(to, export_text(open_song(slug), chosen))
    return to
