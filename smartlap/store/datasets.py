"""The dataset store: import lyric collections into the data home, list, read, export them.

A dataset is a folder ``datasets/<name>/`` with ``songs.jsonl`` (one song per line, each
with its train/validation ``split``) and ``dataset.json`` (source, stats, split, the import
report). Imports stream: rows are read, normalised, filtered, de-duplicated and written one
at a time into a temporary folder that is renamed into place only when everything worked,
so a failed import leaves nothing behind and memory stays flat whatever the file size.

The bundled ``demo`` dataset is always present: it is imported from the CSV shipped in the
wheel on first use (and again when that CSV changes with an upgrade), and cannot be deleted.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from smartlap.errors import AlreadyExistsError, InputError, NotFoundError, SmartlapError, UsageError
from smartlap.fsutil import (
    atomic_directory,
    atomic_open_text,
    atomic_write_json,
    is_temporary,
    read_json,
    remove_atomically,
)
from smartlap.names import slugify, validate_name
from smartlap.paths import get_paths
from smartlap.progress import Progress
from smartlap.store.importers.boilerplate import clean_stream
from smartlap.store.importers.chordpro_files import read_chordpro
from smartlap.store.importers.csv_table import read_csv
from smartlap.store.importers.dedupe import Deduplicator
from smartlap.store.importers.detection import check_source, detect
from smartlap.store.importers.folder import read_folder
from smartlap.store.importers.jsonl import read_jsonl
from smartlap.store.importers.normalise import normalise_field, normalise_lyrics, text_lines
from smartlap.store.importers.quality import judge
from smartlap.store.importers.records import RawSong, Skipped
from smartlap.store.importers.report import ImportReport
from smartlap.store.importers.txt_dump import read_txt
from smartlap.store.listing import READ_ERRORS, Damaged, DamagedEntry, Listing, gather, reason

SCHEMA_VERSION = 1
DEMO_NAME = "demo"
SPLITS = ("train", "val")
EXPORT_FORMATS = ("jsonl", "csv", "txt")
_BUCKETS = 10_000
_SONGS_FILE = "songs.jsonl"
_INFO_FILE = "dataset.json"


@dataclass(frozen=True)
class Song:
    id: str
    title: str
    artist: str
    lyrics: str
    split: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "artist": self.artist,
                "lyrics": self.lyrics, "split": self.split}


@dataclass
class DatasetInfo:
    name: str
    songs: int
    train_songs: int
    val_songs: int
    lines: int
    words: int
    source: dict[str, Any]
    created: str
    report: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    val_fraction: float = 0.1

    @property
    def skipped(self) -> list[dict[str, str]]:
        return list(self.report.get("skipped", []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "songs": self.songs, "train_songs": self.train_songs,
            "val_songs": self.val_songs, "lines": self.lines, "words": self.words,
            "val_fraction": self.val_fraction, "source": self.source, "created": self.created,
            "path": str(self.path) if self.path else None,
            "skipped_count": int(self.report.get("skipped_count", 0)),
            "skipped_by_reason": dict(self.report.get("skipped_by_reason", {})),
            "skipped": self.skipped, "warnings": list(self.report.get("warnings", [])),
            "report": self.report,
        }


# ----------------------------------------------------------------------------- paths, names


def _datasets_dir() -> Path:
    return get_paths().datasets


def _dataset_dir(name: str) -> Path:
    return _datasets_dir() / name


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(f"There is no dataset named {name!r}.",
                         "See 'smartlap datasets list', or import one with "
                         "'smartlap datasets import PATH --name NAME'.")


def default_name(source: Path) -> str:
    """A dataset name from the file or folder name ('lyrics_400.csv' -> 'lyrics_400')."""
    stem = Path(source).expanduser().resolve().stem or "dataset"
    try:
        return validate_name(stem, "dataset")
    except UsageError:
        return slugify(stem, "dataset")


# ----------------------------------------------------------------------------- import


def _reader(path: Path, report: ImportReport, fmt: str) -> Iterator[RawSong | Skipped]:
    """The source's songs, site boilerplate dropped (``clean_stream`` reads it twice)."""
    detected = detect(path, fmt)
    report.source.update(path=str(path.resolve()), format=detected.fmt)
    if detected.encoding:
        report.source["encoding"] = detected.encoding
    for warning in detected.warnings:
        report.warn(warning)
    if detected.fmt == "dir":
        return clean_stream(read_folder(path, report), report)
    assert detected.encoding is not None
    if detected.fmt == "csv":
        opener = read_csv(path, detected.encoding, report, detected.sample)
    elif detected.fmt == "jsonl":
        opener = read_jsonl(path, detected.encoding, report)
    elif detected.fmt == "chordpro":
        opener = read_chordpro(path, detected.encoding)
    else:
        opener = read_txt(path, detected.encoding, report)
    return clean_stream(opener, report)


def _fallback_title(lyrics: str) -> str:
    first = next(iter(text_lines(lyrics)), "")
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


def _bucket(digest: bytes) -> int:
    return int.from_bytes(digest, "big") % _BUCKETS


@dataclass
class _Stats:
    songs: int = 0
    val: int = 0
    lines: int = 0
    words: int = 0
    # the train song closest to validation and the val song closest to train, for balancing
    edge_train: tuple[int, str] | None = None
    edge_val: tuple[int, str] | None = None


def _write_songs(items: Iterable[RawSong | Skipped], out: TextIO, report: ImportReport,
                 val_fraction: float, progress: Progress | None = None) -> _Stats:
    """Normalise, check, de-duplicate and write each song as it streams past.

    ``progress`` advances by each song's text size: an estimate of the bytes read (columns,
    markup and dropped lines are not counted, so the bar jumps to its end when done)."""
    stats = _Stats()
    dedupe = Deduplicator()
    cut = round(val_fraction * _BUCKETS)
    progress = progress or Progress()
    for item in items:
        if isinstance(item, Skipped):
            report.skip(item.where, item.reason, item.detail)
            continue
        lyrics = normalise_lyrics(item.lyrics)
        lines = text_lines(lyrics)
        rejected = judge(lyrics, lines)
        reason = rejected[0] if rejected else dedupe.check(lyrics, lines)
        if reason:
            title = normalise_field(item.title)
            why = rejected[1] if rejected else ""
            report.skip(item.where, reason, f"{title}: {why}" if title and why else title or why)
            continue
        digest = hashlib.blake2b(lyrics.encode("utf-8"), digest_size=8).digest()
        song_id, bucket = digest.hex(), _bucket(digest)
        split = "val" if bucket < cut else "train"
        song = Song(id=song_id, title=normalise_field(item.title) or _fallback_title(lyrics),
                    artist=normalise_field(item.artist), lyrics=lyrics, split=split)
        out.write(json.dumps(song.to_dict(), ensure_ascii=False) + "\n")
        progress.advance(len(item.lyrics.encode("utf-8")) + len(item.title or "")
                         + len(item.artist or ""), items=1)
        stats.songs += 1
        stats.lines += len(lines)
        stats.words += sum(map(len, map(str.split, lines)))
        if split == "val":
            stats.val += 1
            if stats.edge_val is None or bucket > stats.edge_val[0]:
                stats.edge_val = (bucket, song_id)
        elif stats.edge_train is None or bucket < stats.edge_train[0]:
            stats.edge_train = (bucket, song_id)
    report.imported = stats.songs
    return stats


def _balance_split(songs_file: Path, stats: _Stats, val_fraction: float) -> None:
    """Keep both splits non-empty for small datasets: move the song nearest the cut.

    Still deterministic: which song moves depends only on the songs' content.
    """
    if stats.songs < 2 or val_fraction <= 0:
        return
    if stats.val == 0 and stats.edge_train:
        moved, new_split = stats.edge_train[1], "val"
        stats.val = 1
    elif stats.val == stats.songs and stats.edge_val:
        moved, new_split = stats.edge_val[1], "train"
        stats.val -= 1
    else:
        return
    rewritten = songs_file.with_name(songs_file.name + ".balanced")
    with open(songs_file, encoding="utf-8") as source, open(rewritten, "w",
                                                            encoding="utf-8") as target:
        for line in source:
            song = json.loads(line)
            if song["id"] == moved:
                song["split"] = new_split
                line = json.dumps(song, ensure_ascii=False) + "\n"
            target.write(line)
    os.replace(rewritten, songs_file)


def import_dataset(source: Path | str, name: str | None = None, fmt: str = "auto",
                   force: bool = False, val_fraction: float = 0.1,
                   progress: Progress | None = None) -> DatasetInfo:
    """Import ``source`` (a file or folder) as dataset ``name``; return its info with the report.

    Raises InputError for unusable input and AlreadyExistsError if the name is taken and
    ``force`` is not set. Nothing is written unless the import succeeds.
    """
    name = validate_name(name, "dataset") if name is not None else default_name(Path(source))
    if name == DEMO_NAME:
        raise UsageError("The name 'demo' belongs to the bundled demo dataset.",
                         "Choose another name with --name.")
    return _import(source, name, fmt, force, val_fraction, progress=progress)


def _source_bytes(path: Path) -> int:
    """What an import will read: the file's size, or the regular files' sizes in a folder."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for child in path.rglob("*"):
        with contextlib.suppress(OSError):
            if child.is_file() and not child.is_symlink():
                total += child.stat().st_size
    return total


def _import(source: Path | str, name: str | None, fmt: str, force: bool, val_fraction: float,
            extra_source: dict[str, Any] | None = None,
            progress: Progress | None = None) -> DatasetInfo:
    if not 0 <= val_fraction < 1:
        raise UsageError(f"The validation fraction must be at least 0 and below 1, not "
                         f"{val_fraction}.", "0.1 (10% of the songs) is a good default.")
    path = check_source(Path(source))
    name = validate_name(name, "dataset") if name is not None else default_name(path)
    target = _dataset_dir(name)
    if target.exists() and not force:
        raise AlreadyExistsError(f"A dataset named {name!r} already exists.",
                                 "Pick another name with --name, or replace it with --force.")
    report = ImportReport()
    progress = progress or Progress()
    progress.start(_source_bytes(path))
    try:
        items = _reader(path, report, fmt)
        report.source.update(extra_source or {})
        with atomic_directory(target, replace=force) as tmp:
            songs_file = tmp / _SONGS_FILE
            with open(songs_file, "w", encoding="utf-8") as out:
                stats = _write_songs(items, out, report, val_fraction, progress)
            if stats.songs == 0:
                raise InputError(f"No songs could be imported from {path} "
                                 f"({_skip_summary(report)}).",
                                 "Check that the file holds lyrics (one song per row, file or "
                                 "block); see docs/datasets.md for the formats.")
            _balance_split(songs_file, stats, val_fraction)
            info = DatasetInfo(
                name=name, songs=stats.songs, train_songs=stats.songs - stats.val,
                val_songs=stats.val, lines=stats.lines, words=stats.words,
                source=dict(report.source),
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                report=report.to_dict(), val_fraction=val_fraction,
            )
            atomic_write_json(tmp / _INFO_FILE, _info_json(info))
        progress.finish()
    except FileExistsError:
        raise AlreadyExistsError(f"A dataset named {name!r} was created while importing.",
                                 "Import again with another --name, or with --force.") from None
    except OSError as error:
        raise InputError(f"Could not read or write while importing {path}: {error.strerror}.",
                         "Check the file's permissions and the free disk space.") from None
    info.path = target
    return info


def _skip_summary(report: ImportReport) -> str:
    """'1 not text; line 1, one line of 50.0 MB, not lyrics': the counts, and the first skip
    in words, so the person learns what the file really held."""
    reasons = ", ".join(f"{count} {reason}" for reason, count in
                        sorted(report.skipped_by_reason.items())) or "nothing found"
    first = report.skipped[0] if report.skipped else None
    if first is None:
        return reasons
    detail = f", {first['detail']}" if first.get("detail") else ""
    label = "" if report.skipped_count == 1 else "the first: "
    return f"{reasons}; {label}{first['where']}{detail}"


def _info_json(info: DatasetInfo) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION, "name": info.name, "created": info.created,
        "source": info.source,
        "stats": {"songs": info.songs, "train_songs": info.train_songs,
                  "val_songs": info.val_songs, "lines": info.lines, "words": info.words},
        "split": {"method": f"blake2b-64(lyrics) mod {_BUCKETS} < val_fraction * {_BUCKETS}",
                  "val_fraction": info.val_fraction},
        "report": info.report,
    }


def _load_info(name: str, directory: Path) -> DatasetInfo:
    """dataset.json as a DatasetInfo; a DamagedEntry (one-line reason) if it cannot be."""
    try:
        data = read_json(directory / _INFO_FILE)
        if not isinstance(data, dict):
            raise ValueError(f"it holds a {type(data).__name__}, not an object")
        stats = data["stats"]
        counts = {key: stats[key] for key in ("songs", "train_songs", "val_songs", "lines",
                                               "words")}
        wrong = [key for key, value in counts.items()
                 if isinstance(value, bool) or not isinstance(value, int)]
        if wrong:
            raise ValueError(f"stats.{wrong[0]} is not a whole number")
        split = data.get("split") or {}
        fraction = split.get("val_fraction", 0.1) if isinstance(split, dict) else 0.1
        return DatasetInfo(
            name=name, **counts, source=_mapping(data.get("source")),
            created=str(data.get("created") or ""), report=_mapping(data.get("report")),
            path=directory,
            val_fraction=fraction if isinstance(fraction, int | float) else 0.1,
        )
    except READ_ERRORS as error:
        raise DamagedEntry("dataset", name, f"{_INFO_FILE} is {_problem(error)}",
                           f"Delete it with 'smartlap datasets delete {name} --yes' and import "
                           "it again.") from None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _problem(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "missing"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(error, json.JSONDecodeError):
        return "not valid JSON (truncated?)"
    return f"unusable ({reason(error)})"


def repeat_dataset(source: str, name: str, songs: int) -> DatasetInfo:
    """A copy of dataset ``source`` whose songs repeat, in stored order, up to ``songs``.

    For measurements that need a corpus the size of another one (the seeds trained on 396
    songs; the demo has 126). Each copy keeps its song's split, so no validation song is
    ever trained on, and gets its own id (``<id>-2``, ...). An import would drop the copies
    as duplicates, so the copy is written here, in the store's own layout, atomically.
    """
    name = validate_name(name, "dataset")
    if name == DEMO_NAME:
        raise UsageError("The name 'demo' belongs to the bundled demo dataset.",
                         "Choose another name.")
    if songs < 1:
        raise UsageError("A repeated dataset needs at least one song.", "Ask for 1 or more.")
    originals = list(iter_songs(source))
    if not originals:
        raise InputError(f"The dataset {source!r} has no songs to repeat.",
                         "Pick a dataset with songs ('smartlap datasets list').")
    stats = _Stats()
    with atomic_directory(_dataset_dir(name), replace=True) as tmp:
        with open(tmp / _SONGS_FILE, "w", encoding="utf-8") as out:
            for index in range(songs):
                song = originals[index % len(originals)]
                copy = index // len(originals) + 1
                if copy > 1:
                    song = Song(**{**song.to_dict(), "id": f"{song.id}-{copy}"})
                out.write(json.dumps(song.to_dict(), ensure_ascii=False) + "\n")
                lines = text_lines(song.lyrics)
                stats.songs += 1
                stats.val += song.split == "val"
                stats.lines += len(lines)
                stats.words += sum(map(len, map(str.split, lines)))
        info = DatasetInfo(
            name=name, songs=stats.songs, train_songs=stats.songs - stats.val,
            val_songs=stats.val, lines=stats.lines, words=stats.words,
            source={"repeated": source, "songs": len(originals)},
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        atomic_write_json(tmp / _INFO_FILE, _info_json(info))
    info.path = _dataset_dir(name)
    return info


# ----------------------------------------------------------------------------- the demo


def demo_source() -> Path | None:
    """The bundled demo CSV, or None if this installation has none."""
    path = Path(str(resources.files("smartlap.data") / "demo" / "demo_songs.csv"))
    return path if path.is_file() else None


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_demo() -> bool:
    """Import the bundled demo CSV if the data home lacks it or it changed; True if present."""
    source = demo_source()
    target = _dataset_dir(DEMO_NAME)
    if source is None:
        return (target / _INFO_FILE).is_file()
    sha = _file_sha256(source)
    if (target / _INFO_FILE).is_file():
        try:
            if read_json(target / _INFO_FILE)["source"].get("sha256") == sha:
                return True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    with contextlib.suppress(AlreadyExistsError):  # another process imported it just now
        _import(source, DEMO_NAME, "csv", force=target.exists(), val_fraction=0.1,
                extra_source={"bundled": True, "sha256": sha})
    return True


# ----------------------------------------------------------------------------- reading


def scan_datasets() -> Listing[DatasetInfo]:
    """All datasets in the data home (the demo included, repaired if it was damaged), sorted
    by name, and the damaged ones, each skipped with its reason."""
    problems: list[Damaged] = []
    try:
        ensure_demo()
    except (SmartlapError, *READ_ERRORS) as error:
        problems.append(Damaged("dataset", DEMO_NAME, f"could not be restored ({reason(error)})"))
    root = _datasets_dir()
    if not root.is_dir():
        return Listing(damaged=problems)
    folders = [directory for directory in sorted(root.iterdir(), key=lambda p: p.name.casefold())
               if not is_temporary(directory) and not directory.name.startswith(".")
               and (directory / _INFO_FILE).is_file()]
    listing = gather("dataset", ((directory.name, lambda d=directory: _load_info(d.name, d))
                                 for directory in folders))
    listing.damaged[:0] = problems
    return listing


def list_datasets() -> list[DatasetInfo]:
    """The readable datasets (``scan_datasets`` also says which were skipped)."""
    return scan_datasets().entries


def _existing_dir(name: str) -> Path:
    name = validate_name(name, "dataset")
    if name == DEMO_NAME:
        ensure_demo()
    directory = _dataset_dir(name)
    if not (directory / _INFO_FILE).is_file():
        raise _not_found(name)
    return directory


def get_dataset(name: str) -> DatasetInfo:
    directory = _existing_dir(name)
    return _load_info(directory.name, directory)


def iter_songs(name: str, split: str | None = None) -> Iterator[Song]:
    """Stream the dataset's songs, optionally only the ``train`` or ``val`` split."""
    if split is not None and split not in SPLITS:
        raise UsageError(f"Unknown split {split!r}.", "Use 'train', 'val', or no split.")
    directory = _existing_dir(name)
    return _read_songs(directory / _SONGS_FILE, split)


def _read_songs(path: Path, split: str | None) -> Iterator[Song]:
    """The songs of songs.jsonl; a line that is not a song is a DamagedEntry, not a crash."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    song = Song(**json.loads(line))
                except READ_ERRORS as error:
                    raise DamagedEntry("dataset", path.parent.name,
                                       f"{_SONGS_FILE} line {number} is {_problem(error)}",
                                       "Delete the dataset and import it again.") from None
                if split is None or song.split == split:
                    yield song
    except (OSError, UnicodeDecodeError) as error:
        raise DamagedEntry("dataset", path.parent.name, f"{_SONGS_FILE} is {_problem(error)}",
                           "Delete the dataset and import it again.") from None


def delete_dataset(name: str) -> None:
    name = validate_name(name, "dataset")
    if name == DEMO_NAME:
        raise UsageError("The demo dataset ships with smartlap and cannot be deleted.",
                         "Leave it be; your own datasets are listed next to it.")
    directory = _existing_dir(name)
    remove_atomically(directory)  # one rename: the dataset is gone at once, never half


# ----------------------------------------------------------------------------- export


def export_format_for(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
               ".txt": "txt"}.get(Path(path).suffix.lower(), "jsonl")
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"Unknown export format {fmt!r}.",
                         f"Use one of: {', '.join(EXPORT_FORMATS)}.")
    return fmt


def export_dataset(name: str, to: Path | str, fmt: str | None = None,
                   force: bool = False) -> int:
    """Write the dataset to ``to`` as jsonl, csv (title,artist,lyrics) or a txt dump.

    Every format imports back to the same songs. Returns the number of songs written.
    """
    directory = _existing_dir(name)
    to = Path(to).expanduser()
    fmt = export_format_for(to, fmt)
    if to.is_dir():
        raise UsageError(f"{to} is a folder.", "Give a file name, e.g. --to songs.csv.")
    if to.exists() and not force:
        raise AlreadyExistsError(f"{to} already exists.",
                                 "Choose another file, or overwrite it with --force.")
    if not to.parent.is_dir():
        raise InputError(f"The folder {to.parent} does not exist.",
                         "Create it first, or export to an existing folder.")
    count = 0
    songs = _read_songs(directory / _SONGS_FILE, None)
    with atomic_open_text(to, newline="" if fmt == "csv" else None) as handle:
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(["title", "artist", "lyrics"])
        for song in songs:
            if fmt == "jsonl":
                handle.write(json.dumps(song.to_dict(), ensure_ascii=False) + "\n")
            elif fmt == "csv":
                writer.writerow([song.title, song.artist, song.lyrics])
            else:
                if count:
                    handle.write("\n---\n\n")
                if song.artist and song.title:
                    handle.write(f"{song.artist} - {song.title}\n\n")
                handle.write(song.lyrics + "\n")
            count += 1
    return count
