"""Notice changes to the data home, so every open list can refresh itself.

An import in the studio, a run that finishes, or a ``smartlap`` command in another terminal
all end in a rename inside ``datasets/``, ``models/`` or ``runs/``. A signature of those
folders' entries (names and modification times, ``.tmp-*`` leftovers ignored) is a few
``scandir`` calls, cheap enough to poll every second without a file-watching dependency.
"""

from __future__ import annotations

import os
from pathlib import Path

from smartlap.fsutil import TMP_PREFIX
from smartlap.paths import get_paths

WATCHED = ("datasets", "models", "runs")
Signature = dict[str, tuple[tuple[str, int], ...]]


def _entries(folder: Path) -> tuple[tuple[str, int], ...]:
    """Each entry's name and mtime, and for run folders run.json's (its status lives there)."""
    try:
        with os.scandir(folder) as scan:
            found = []
            for entry in scan:
                if entry.name.startswith(TMP_PREFIX):
                    continue
                try:
                    found.append((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
                except OSError:
                    continue
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return ()
    return tuple(sorted(found))


def _run_records(folder: Path, names: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    stamps = []
    for name, _ in names:
        try:
            stamps.append((name, (folder / name / "run.json").stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(stamps)


def store_signature() -> Signature:
    """What the watched folders hold now; compare two with ``changed_kinds``."""
    paths = get_paths()
    signature: Signature = {}
    for kind in WATCHED:
        folder = getattr(paths, kind)
        entries = _entries(folder)
        signature[kind] = _run_records(folder, entries) + entries if kind == "runs" else entries
    return signature


def changed_kinds(before: Signature, after: Signature) -> set[str]:
    """The kinds (datasets, models, runs) whose folders differ between two signatures."""
    return {kind for kind in WATCHED if before.get(kind) != after.get(kind)}
