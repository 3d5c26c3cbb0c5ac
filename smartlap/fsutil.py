"""Atomic file and directory writes, so a crash or a full disk never leaves half a file.

Every write goes to a temporary sibling, is fsynced, then renamed over the target: readers
see the old content or the new, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; some platforms (Windows) cannot open directories."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", newline: str | None = None, *,
                overwrite: bool = True) -> Iterator[Any]:
    """Open a temp sibling of ``path`` for writing; on success fsync it and rename it over
    ``path``, on any error remove it. Streams big files without building them in memory.

    With ``overwrite=False`` the temp file is hard-linked into place instead, which raises
    FileExistsError when another writer took the name first: no check-then-write race."""
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open writes text ('w') or bytes ('wb')")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        text_args = {"encoding": "utf-8", "newline": newline} if mode == "w" else {}
        with os.fdopen(fd, mode, **text_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp_name, path)
        else:
            os.link(tmp_name, path)
            os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def atomic_open_text(path: Path, newline: str | None = None) -> contextlib.AbstractContextManager:
    """Stream text into ``path`` atomically (see ``atomic_open``)."""
    return atomic_open(path, "w", newline=newline)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temp file in the same directory."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_create_text(path: Path, text: str) -> None:
    """Write ``text`` to a new file at ``path``; FileExistsError if the name is taken."""
    with atomic_open(path, "wb", overwrite=False) as handle:
        handle.write(text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextlib.contextmanager
def atomic_directory(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """Build a directory in a temp sibling and move it into place only if the block succeeds.

    On any exception the temp directory is removed, so a failed import or save leaves
    nothing behind. With ``replace`` an existing target is swapped out (old copy removed
    only after the new one is in place).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + target.name + ".", dir=target.parent))
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb") as handle:
                    os.fsync(handle.fileno())
        if target.exists():
            if not replace:
                raise FileExistsError(target)
            old = target.with_name(TMP_PREFIX + target.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def append_jsonl(path: Path, obj: Any) -> None:
    """Append one JSON line and flush it, so a process tailing the file sees it at once."""
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def dir_size(path: Path) -> int:
    """Bytes used by the regular files below ``path`` (links not followed)."""
    files = (p for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files)


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a leftover of an interrupted atomic write (listings skip these)."""
    return Path(path).name.startswith(TMP_PREFIX)
