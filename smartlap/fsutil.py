"""Atomic file and directory writes, so a crash or a full disk never leaves half a file.

Every write goes to a temporary sibling, is fsynced, then renamed over the target: readers
see the old content or the new, never a mix. Three promises sit at this one layer:

- a full disk or quota (``ENOSPC``/``EDQUOT``, and the errors safetensors and torch wrap them
  in) becomes one ``DiskFullError`` with a hint, and the temp is removed;
- a temp's name carries its writer (``.tmp-NAME.pPID.sSTART.XXXX``: pid and process start
  time), so the next write to the folder sweeps leftovers of a killed writer
  (``sweep_stale``) and puts back a directory a swap had moved aside;
- a file the person names is read only if it is a regular file of bounded size
  (``read_user_file``): a FIFO or a link to /dev/zero is refused at once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smartlap.errors import DiskFullError, InputError

TMP_PREFIX = ".tmp-"
STALE_AFTER_S = 60.0  # a temp younger than this is never swept, whoever wrote it
USER_FILE_LIMIT = 5_000_000  # bytes: far above any song, prompt or style file
_NAME_ROOM = 80  # characters of the target's name kept in a temp name (names max 255 bytes)
_OLD_SUFFIX = ".old"
_TEMP_NAME = re.compile(r"^\.tmp-(?P<name>.*)\.p(?P<pid>\d+)\.s(?P<start>\d+)\.[^.]+"
                        r"(?P<old>\.old)?$", re.DOTALL)
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
# safetensors and torch report a failed write in words, not with an errno.
_DISK_FULL_WORDS = ("no space left on device", "disk quota exceeded", "os error 28",
                    "os error 122", "storagefull", "unexpected pos",
                    "pytorchstreamwriter failed writing")


# --- disk full -------------------------------------------------------------------------------

def is_disk_full(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it wraps) is a write that failed for want of space."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS:
            return True
        if isinstance(error, (RuntimeError, OSError)) or type(error).__name__ == "SafetensorError":
            text = str(error).lower()
            if any(words in text for words in _DISK_FULL_WORDS):
                return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def disk_full_error(what: Path | str) -> DiskFullError:
    return DiskFullError(f"The disk is full: {what} could not be written. Nothing was "
                         "changed; what was there before is intact.")


@contextlib.contextmanager
def disk_full_guard(what: Path | str) -> Iterator[None]:
    """Turn a disk-full failure inside the block into one ``DiskFullError`` about ``what``."""
    try:
        yield
    except DiskFullError:
        raise
    except Exception as error:
        if is_disk_full(error):
            raise disk_full_error(what) from error
        raise


# --- temp names and the stale-temp sweep -----------------------------------------------------

_identity: tuple[int, str] | None = None


def process_start(pid: int) -> int | None:
    """A process's start time in centiseconds since the epoch (None when it is gone); with
    the pid it names one process, even after the pid is reused."""
    from smartlap.store.processes import start_time  # the one place that reads processes

    started = start_time(pid)
    return None if started is None else round(started * 100)


def _writer() -> str:
    """``pPID.sSTART`` of this process (recomputed after a fork)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"p{pid}.s{process_start(pid) or 0}")
    return _identity[1]


def temp_prefix(name: str) -> str:
    """The start of a temp sibling's name for ``name``; mkstemp/mkdtemp add a random tail."""
    return f"{TMP_PREFIX}{name[:_NAME_ROOM]}.{_writer()}."


def _writer_alive(pid: int, start: int) -> bool:
    if pid == os.getpid():
        return _writer() == f"p{pid}.s{start}"  # this process, or an earlier one's pid
    now = process_start(pid)
    return now is not None and abs(now - start) <= 1


def remove_tree(path: Path) -> None:
    """Remove a file, a link (never what it points at) or a folder; a missing one is fine."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
    except FileNotFoundError:
        pass


def sweep_stale(folder: Path) -> list[Path]:
    """Remove the temps a dead writer left in ``folder`` (older than a minute, writer gone);
    a directory a killed swap moved aside goes back at once when its target is missing.

    Best effort, never raises: returns what was removed or put back. Names without a
    writer (other programs' ``.tmp-`` files, older smartlap versions) are left alone."""
    done: list[Path] = []
    now = time.time()
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(TMP_PREFIX)]
    except OSError:
        return done
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        path = Path(folder) / entry.name
        target = Path(folder) / match["name"]
        with contextlib.suppress(OSError):
            restore = (match["old"] is not None and 0 < len(match["name"]) < _NAME_ROOM
                       and not target.exists() and not target.is_symlink())
            young = now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S
            if (young and not restore) or _writer_alive(int(match["pid"]), int(match["start"])):
                continue
            if restore:
                os.replace(path, target)
            else:
                remove_tree(path)
            done.append(path)
    return done


def _fsync_dir(path: Path) -> None:
    """Make a rename durable; some platforms (Windows) cannot open directories."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def current_umask() -> int:
    """The process's umask, read without changing it where the platform allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status",
                                                        encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere the only way to read it is to set it (and set it back)
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


_UMASK_LOCK = threading.Lock()


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
    with disk_full_guard(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 is for temps only
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
    only after the new one is in place; if the process dies between the two renames, the
    next write to the folder puts the old copy back, see ``sweep_stale``).
    """
    target = Path(target)
    with disk_full_guard(target), staging_directory(target.parent, target.name) as tmp:
        yield tmp
        mask = current_umask()
        for child in tmp.rglob("*"):
            if child.is_symlink():
                continue
            if child.is_file():
                # Libraries write some files 0600 (transformers' model.safetensors); what
                # lands in the data home follows the person's umask like any other file.
                os.chmod(child, 0o666 & ~mask)
                with open(child, "rb") as handle:
                    os.fsync(handle.fileno())
            elif child.is_dir():
                os.chmod(child, 0o777 & ~mask)
        if target.exists() or target.is_symlink():
            if not replace:
                raise FileExistsError(target)
            old = tmp.with_name(tmp.name + _OLD_SUFFIX)
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)  # put the previous copy back
                raise
            remove_tree(old)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)


@contextlib.contextmanager
def staging_directory(parent: Path, label: str) -> Iterator[Path]:
    """A temp folder in ``parent`` named for its writer, removed when the block ends (whatever
    the block moved out of it stays); a disk-full failure becomes ``DiskFullError``."""
    parent = Path(parent)
    with disk_full_guard(parent / label):
        parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(parent)
        tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(label), dir=parent))
        try:
            os.chmod(tmp, 0o777 & ~current_umask())  # what lands in place gets the umask
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def remove_atomically(path: Path) -> None:
    """Delete a file or folder with one rename first, so it is gone at once even if the
    removal stops half-way (the writer-named leftover is swept later). A link is unlinked;
    what it points at is never touched."""
    path = Path(path)
    trash = path.with_name(temp_prefix(path.name) + secrets.token_hex(4))
    os.replace(path, trash)
    remove_tree(trash)


def append_jsonl(path: Path, obj: Any) -> None:
    """Append one JSON line and flush it, so a process tailing the file sees it at once."""
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
    with disk_full_guard(path), open(path, "a", encoding="utf-8") as handle:
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


def read_user_file(path: Path, *, limit: int = USER_FILE_LIMIT, what: str = "file") -> bytes:
    """The bytes of a file the person named, if it is a regular file of at most ``limit``
    bytes: a FIFO, a device (a link to /dev/zero) or a folder is refused at once, never read.

    FileNotFoundError passes through, so callers can say what was not found."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: opening a FIFO with no writer returns
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(errno.ENOENT, "No such file", str(path)) from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a {what}.", f"Give a {what}.") from None
    except OSError as error:
        raise InputError(f"{path} cannot be read ({error.strerror}).",
                         "Check the file's permissions.") from None
    info = os.fstat(fd)
    mode = info.st_mode
    if stat.S_ISREG(mode) and info.st_size > limit:
        os.close(fd)
        raise _too_big(path, limit, what)
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError(f"{path} is a folder, not a {what}.", f"Give a {what}.")
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise InputError(f"{path} is {kind}, not a {what}; it was not read.",
                         f"Give a regular {what}.")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        return read_capped(handle, limit=limit, what=what, name=str(path))


def read_capped(handle: Any, *, limit: int = USER_FILE_LIMIT, what: str = "file",
                name: str = "stdin") -> bytes:
    """At most ``limit`` bytes from a binary stream (stdin, a file that may grow while it is
    read); more is refused, so ``< /dev/zero`` cannot fill memory."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise _too_big(name, limit, what)
    return data


def _too_big(name: Path | str, limit: int, what: str) -> InputError:
    return InputError(f"{name} is larger than {limit / 1e6:g} MB, too big for a {what}.",
                      f"Give a smaller {what}.")
