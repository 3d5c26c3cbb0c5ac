"""Find a file's text encoding from its bytes, and refuse files that are not text.

Lyric collections arrive as UTF-8, UTF-8 with a BOM (Excel), UTF-16 (Excel "Unicode text")
and cp1252 (old Windows tools). UTF-8 is checked over the whole file in chunks (cheap, and
memory stays flat); cp1252 is the fallback only when the bytes look like Western text. A file
that mixes the two (songs pasted from different tools) is ``MIXED``: read as UTF-8, with each
byte sequence that is not UTF-8 read as cp1252, so neither half turns into mojibake ("CafÃ©").

Lines are read in bounded pieces (``bounded_lines``): a 50 MB line with no newline is
measured and reported, never held in memory whole.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from smartlap.errors import InputError
from smartlap.units import human_bytes

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
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                            rb"|[\xf0-\xf4][\x80-\xbf]{3}")
MIXED = "utf-8+cp1252"
_FALLBACK = "smartlap-cp1252"
MAX_LINE_CHARS = 64 * 1024  # no lyric line is this long; a longer one is measured, not kept


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252 instead."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start:error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


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


def _check_cp1252(path: Path) -> tuple[str | None, bool]:
    """cp1252 decodes nearly anything, so also ask that the high characters look Western.

    Returns (what is wrong or None, whether valid UTF-8 sequences are mixed in). Bytes that
    form valid UTF-8 sequences are left out of the check: they are read as UTF-8 (``MIXED``).
    """
    plausible = implausible = 0
    offset = 0
    mixed = False
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            rest = _UTF8_SEQUENCE.sub(b"", chunk)
            mixed = mixed or len(rest) < len(chunk)
            bad = next((b for b in _CP1252_UNDEFINED if b in rest), None)
            if bad is not None:
                return f"byte {offset + chunk.index(bad)}", mixed
            for byte in range(128, 256):
                count = rest.count(byte)
                if count and byte in _CP1252_PLAUSIBLE_BYTES:
                    plausible += count
                elif count:
                    implausible += count
            offset += len(chunk)
    if implausible > max(8, plausible):
        return "the characters do not look like Dutch or English text", mixed
    return None, mixed


def mixed_lines(path: Path) -> tuple[int, list[int]]:
    """How many lines of a ``MIXED`` file are not UTF-8 (read as cp1252), and the first few."""
    count, first = 0, []
    number, bad = 1, False
    with open(path, "rb") as handle:
        while piece := handle.readline(MAX_LINE_CHARS):  # bounded, like every read here
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = bad or error.reason != "unexpected end of data"  # not a cut piece
            if piece.endswith(b"\n") or len(piece) < MAX_LINE_CHARS:
                if bad:
                    count += 1
                    first += [number] if len(first) < 5 else []
                number, bad = number + 1, False
    return count, first


def mixed_warning(path: Path) -> str:
    """The report's warning for a file read as UTF-8 with cp1252 lines."""
    count, first = mixed_lines(path)
    where = ", ".join(map(str, first)) + (", ..." if count > len(first) else "")
    return (f"{path.name} mixes encodings: {count} of its lines are not UTF-8 and were read "
            f"as cp1252 (Windows) text (line {where}), the rest as UTF-8; check the accents "
            "in those songs.")


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
        not_cp1252, mixed = _check_cp1252(path)
        if not_cp1252 is not None:
            raise _undecodable(path, f"not UTF-8 at {broken}, not cp1252: {not_cp1252}")
        encoding = MIXED if mixed else "cp1252"
    return encoding


def _codec(encoding: str) -> tuple[str, str]:
    return ("utf-8", _FALLBACK) if encoding == MIXED else (encoding, "strict")


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """Open for reading with universal newlines off (the csv module wants ``newline=''``)."""
    codec, errors = _codec(encoding)
    return open(path, encoding=codec, errors=errors, newline="")


def read_sample(path: Path, encoding: str, chars: int = SAMPLE_BYTES) -> str:
    with open_text(path, encoding) as handle:
        return handle.read(chars)


def read_text(path: Path, encoding: str) -> str:
    """A whole (small) file as text, in an encoding ``detect_encoding`` named."""
    codec, errors = _codec(encoding)
    return path.read_text(encoding=codec, errors=errors)


@dataclass(frozen=True)
class LongLine:
    """A line too long to be lyrics, measured but not kept (``chars`` its length)."""

    chars: int

    @property
    def size(self) -> str:
        return human_bytes(self.chars)

    def describe(self) -> str:
        return f"one line of {self.size}"


def is_cut(piece: str, limit: int) -> bool:
    """Whether ``readline(limit)`` stopped at the limit, inside a longer line."""
    return len(piece) == limit and not piece.endswith(("\n", "\r"))


def long_line(handle: io.TextIOBase, piece: str, limit: int) -> LongLine:
    """Measure the rest of a line whose first ``piece`` was cut, reading it in pieces."""
    chars = len(piece)
    while piece := handle.readline(limit):
        chars += len(piece)
        if not is_cut(piece, limit):
            break
    return LongLine(chars)


def bounded_lines(handle: io.TextIOBase,
                  limit: int = MAX_LINE_CHARS) -> Iterator[str | LongLine]:
    """The handle's lines (newlines kept), each over ``limit`` characters as a ``LongLine``.

    Reads at most ``limit`` characters at a time, so memory stays flat whatever the file.
    """
    readline = handle.readline
    while piece := readline(limit):
        yield long_line(handle, piece, limit) if is_cut(piece, limit) else piece
