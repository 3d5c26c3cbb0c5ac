"""One canonical form for lyrics, so duplicates are found and the model sees clean text.

- Unicode NFC; control and zero-width characters removed; CRLF/CR become LF.
- Each line stripped of leading/trailing space; runs of spaces/tabs become one space.
- Any run of blank lines becomes one blank line (one stanza break); no blank lines at the
  start or end.
- Section tags become structure markers in one form, on a line of their own:
  ``[Refrein]``, ``[Couplet 1]``, ``[Brug]``, ``[Intro]``, ``[Pre-refrein]``, ``[Slot]``,
  ``[Tussenspel]``. ``Chorus:``, ``(refrein 2x)``, ``[Verse 2]``, ``Couplet 1:``,
  ``Bridge``, ``Outro`` and friends are recognised; repeat counts (2x, x2) are dropped.

``normalise_lyrics`` is idempotent (a property test checks it).
"""

from __future__ import annotations

import re
import unicodedata

SECTION_NAMES = {
    "refrein": "Refrein", "refr": "Refrein", "chorus": "Refrein", "koor": "Refrein",
    "couplet": "Couplet", "verse": "Couplet", "vers": "Couplet", "strofe": "Couplet",
    "brug": "Brug", "bridge": "Brug", "middle 8": "Brug",
    "intro": "Intro", "pre-chorus": "Pre-refrein", "prechorus": "Pre-refrein",
    "pre-refrein": "Pre-refrein", "outro": "Slot", "slot": "Slot", "coda": "Slot",
    "einde": "Slot", "tussenspel": "Tussenspel", "instrumentaal": "Tussenspel",
    "instrumental": "Tussenspel", "solo": "Tussenspel",
}
_NAMES = "|".join(sorted((re.escape(n) for n in SECTION_NAMES), key=len, reverse=True))
_SECTION = re.compile(
    rf"^[\[(]?\s*(?P<name>{_NAMES})\.?\s*(?P<number>\d{{1,2}})?\s*"
    r"(?:\(?\s*(?:\d\s*[x×]|[x×]\s*\d)\s*\)?)?\s*[\])]?\s*:?$",
    re.IGNORECASE | re.ASCII,
)
_LONGEST_TAG = 32
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_BLANK_RUNS = re.compile(r"\n{3,}")


def section_tag(line: str) -> str | None:
    """The canonical marker if ``line`` is a section tag ("Refrein:" -> "[Refrein]")."""
    if len(line) > _LONGEST_TAG:
        return None
    match = _SECTION.match(line)
    if not match:
        return None
    name = SECTION_NAMES[match["name"].lower()]
    return f"[{name} {int(match['number'])}]" if match["number"] else f"[{name}]"


def _control_table() -> dict[int, str | None]:
    """Line-like controls become newlines; other controls and lone surrogates go."""
    table: dict[int, str | None] = {}
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0xD800, 0xE000)]:
        table[code] = None
    for char in "\r\x0b\x0c\x1c\x1d\x1e\x85":
        table[ord(char)] = "\n"
    del table[ord("\n")], table[ord("\t")]
    table.update(_INVISIBLE)
    return table


_CONTROLS = _control_table()
_NEEDS_CLEANING = re.compile("[" + "".join(
    re.escape(chr(code)) for code in sorted(_CONTROLS) if code < 0xD800) + "\ud800-\udfff]")


def normalise_lyrics(text: str) -> str:
    """Return ``text`` in canonical form (see the module docstring)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    if _NEEDS_CLEANING.search(text):
        text = text.translate(_CONTROLS)
    lines = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        lines.append(line if len(line) > _LONGEST_TAG else section_tag(line) or line)
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return unicodedata.normalize("NFC", text)


def normalise_field(text: str | None) -> str:
    """A title or artist: one line, NFC, single spaces."""
    if not text:
        return ""
    cleaned = unicodedata.normalize("NFC", str(text)).translate(_INVISIBLE)
    return unicodedata.normalize("NFC", " ".join(cleaned.split()))


def is_section_tag(line: str) -> bool:
    return line.startswith("[") and section_tag(line) == line


def text_lines(lyrics: str) -> list[str]:
    """The sung lines of normalised lyrics: no blank lines, no section markers."""
    lines = [line for line in lyrics.split("\n") if line]
    if "[" not in lyrics:
        return lines
    return [line for line in lines if not is_section_tag(line)]
