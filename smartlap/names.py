"""Validation of names people give to datasets, models, runs and songs.

A name becomes a directory or file name inside the data home, so it must never escape it
(``..``, separators), never be hidden or temporary, and be portable across file systems.
"""

from __future__ import annotations

import re
import unicodedata

from smartlap.errors import UsageError

MAX_NAME_LENGTH = 64
_ALLOWED = re.compile(r"^[\w][\w.\- ]*$", re.UNICODE)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def validate_name(name: str, kind: str = "name") -> str:
    """Return ``name`` normalised (NFC, stripped) or raise a UsageError saying why not."""
    hint = (f"A {kind} name uses letters, digits, '-', '_', '.' or spaces, starts with a "
            f"letter or digit, and is at most {MAX_NAME_LENGTH} characters.")
    cleaned = unicodedata.normalize("NFC", name or "").strip()
    if not cleaned:
        raise UsageError(f"The {kind} name is empty.", hint)
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise UsageError(f"The {kind} name {cleaned!r} contains control characters.", hint)
    if "/" in cleaned or "\\" in cleaned or cleaned in {".", ".."} or ".." in cleaned:
        raise UsageError(f"The {kind} name {cleaned!r} may not contain '/', '\\' or '..'.", hint)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise UsageError(f"The {kind} name is longer than {MAX_NAME_LENGTH} characters.", hint)
    if not _ALLOWED.match(cleaned):
        raise UsageError(f"The {kind} name {cleaned!r} has characters that are not allowed.", hint)
    if is_reserved(cleaned):
        raise UsageError(f"The {kind} name {cleaned!r} is reserved by some file systems.", hint)
    return cleaned


def is_reserved(name: str) -> bool:
    """Whether Windows (and so a FAT/NTFS disk or a synced folder) refuses ``name`` as a file
    name: CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without an extension."""
    return name.split(".")[0].strip().lower() in _WINDOWS_RESERVED


def slugify(text: str, fallback: str = "song") -> str:
    """A file-name-safe slug from a song title: 'Moeder, ik mis je' -> 'moeder-ik-mis-je'.

    A title that is a reserved file name stays allowed: the Dutch "Nul" becomes 'nul-song'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_NAME_LENGTH].strip("-")
    if slug and is_reserved(slug):
        slug = f"{slug}-{fallback}"
    return slug or fallback
