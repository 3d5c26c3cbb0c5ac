"""Find a file's text encoding from its bytes, and refuse files that are not text.

Lyric collections arrive as UTF-8, UTF-8 with a BOM (Excel), UTF-16 (Excel "Unicode text")
and cp1252 (old Windows tools). UTF-8 is checked over the whole file in chunks (cheap, and
memory stays flat); cp1252 is the fallback only when the bytes look like Western text.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from smartlap.errors import InputError

SAMPLE_BYTES = 64 * 1024
_CHUNK = 256 * 1024  # small: the decoded copy of each chunk counts towards peak memory
_MAGIC = {
    b"\x89PNG": "a PNG image", b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"ID3": "an MP3 file", b"SQLite format 3": "an SQLite database", b"\x7fELF": "a program",
}
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_CP1252_PLAUSIBLE_BYTES = frozenset(
    "ÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜàáâäçèéêëìíîïñòóôöùúûüÿ‘’“”–—…€«»°·ß".encode("cp1252"))


def _not_text(path: Path, what: str) -> InputError:
    return InputError(f"{path} is not a text file ({what}).",
                      "Import lyrics as CSV, plain text, JSONL or a folder of .txt/.lrc/.md files.")


def _undecodable(path: Path, detail: str) -> InputError:
    return InputError(f"{path} has bytes that are not UTF-8, UTF-16 or cp1252 text ({detail}).",
                      "Save the file as UTF-8 (in most editors: 'Save as' > encoding UTF-8) "
                      "and import it again.")


def _looks_utf16(sample: bytes) -> str | None:
    """BOM-less UTF-16: Western text has a NUL in every other byte."""
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _check_utf8(path: Path) -> str | None:
    """Decode the whole file as UTF-8 in chunks; return None if fine, else where it broke."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return f"byte {offset + error.start}"
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "a character cut off at the end"
    return None


def _check_cp1252(path: Path) -> str | None:
    """cp1252 decodes nearly anything, so also ask that the high characters look Western."""
    plausible = implausible = 0
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            bad = next((chunk.index(b) for b in _CP1252_UNDEFINED if b in chunk), None)
            if bad is not None:
                return f"byte {offset + bad}"
            for byte in range(128, 256):
                count = chunk.count(byte)
                if count and byte in _CP1252_PLAUSIBLE_BYTES:
                    plausible += count
                elif count:
                    implausible += count
            offset += len(chunk)
    if implausible > max(8, plausible):
        return "the characters do not look like Dutch or English text"
    return None


def detect_encoding(path: Path) -> str:
    """Return a Python codec name for ``path``, or raise InputError for binary/undecodable files.

    Empty files are refused here too, so every reader can assume some text.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if not sample:
        raise InputError(f"{path} is empty.", "Choose a file that contains lyrics.")
    for magic, what in _MAGIC.items():
        if sample.startswith(magic):
            raise _not_text(path, f"it looks like {what}")
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _looks_utf16(sample) or ""
    if encoding.startswith("utf-16"):
        try:
            with open(path, encoding=encoding) as handle:
                while handle.read(_CHUNK):
                    pass
        except UnicodeDecodeError as error:
            raise _undecodable(path, f"broken UTF-16 at byte {error.start}") from None
        return encoding
    if b"\x00" in sample:
        raise _not_text(path, "it contains NUL bytes")
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f")
    if controls > 0.05 * len(sample):
        raise _not_text(path, "it is mostly control characters")
    broken = _check_utf8(path)
    if encoding == "utf-8-sig":
        if broken is not None:
            raise _undecodable(path, f"a UTF-8 BOM, but not UTF-8 at {broken}")
    elif broken is None:
        encoding = "utf-8"
    else:
        not_cp1252 = _check_cp1252(path)
        if not_cp1252 is not None:
            raise _undecodable(path, f"not UTF-8 at {broken}, not cp1252: {not_cp1252}")
        encoding = "cp1252"
    return encoding


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """Open for reading with universal newlines off (the csv module wants ``newline=''``)."""
    return open(path, encoding=encoding, newline="")


def read_sample(path: Path, encoding: str, chars: int = SAMPLE_BYTES) -> str:
    with open(path, encoding=encoding, newline="") as handle:
        return handle.read(chars)
