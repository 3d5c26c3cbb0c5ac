"""What scraping leaves in lyrics, recognised by its shape: dropped from every song, reported.

Lyric sites wrap songs in the same few kinds of debris: Genius's "Embed" tail, "You might
also like" and "12 Contributors" / "Translations" header, "Lyrics licensed by ..." footers,
"Songtekst van ..." headers, bare URLs, and the title printed again above the first stanza.
These are found by pattern, in the place they sit (headers in a song's first lines, footers
in its last), so a sung line that merely mentions "lyrics" or a website stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

EDGE_LINES = 3
LABELS = {
    "embed": "'Embed' tail (Genius)",
    "also-like": "'You might also like'",
    "licensed": "'Lyrics licensed/powered by ...' line",
    "header": "'Songtekst'/'Lyrics' header",
    "contributors": "contributor count ('12 Contributors')",
    "url": "bare URL",
    "translations": "'Translations' and its language list",
    "title": "title repeated as the first line",
}
_EMBED = re.compile(r"\d*Embed$")
_ALSO_LIKE = re.compile(r"^\s*you might also like", re.IGNORECASE)
_LICENSED = re.compile(r"^\s*(?:lyrics\s+)?(?:licen[cs]ed|provided|powered)\b.{0,40}\bby\b",
                       re.IGNORECASE)
_HEADER = re.compile(r"^\s*(?:de\s+)?songtekst(?:en)?\b|\bsongtekst(?:en)?\s*:?\s*$|"
                     r"^\s*lyrics\s*:?\s*$", re.IGNORECASE)
_CONTRIBUTORS = re.compile(r"^\s*\d[\d,.]*\s*contributors?", re.IGNORECASE)
_URL = re.compile(r"^\s*<?(?:(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)*\.(?:nl|be|com|org|net|"
                  r"de|fr|eu|info|io|co\.uk)(?:/\S*)?)>?\s*$", re.IGNORECASE)
_TRANSLATIONS = re.compile(r"^\s*(?:translations|vertalingen)", re.IGNORECASE)
_LANGUAGE_NAMES = (
    "english nederlands deutsch français francais español espanol italiano português portugues "
    "polski türkçe turkce svenska dansk norsk suomi română magyar čeština slovenčina hrvatski "
    "srpski ελληνικά русский українська العربية עברית हिन्दी 日本語 한국어 中文 简体中文 繁體中文 "
    "bahasa indonesia tiếng việt azərbaycanca afrikaans frysk limburgs")
LANGUAGES = frozenset(_LANGUAGE_NAMES.split())
_WORD = re.compile(r"\w+")


def _key(line: str) -> str:
    return " ".join(_WORD.findall(line.casefold()))


def _content(lines: list[str], reverse: bool = False) -> Iterator[int]:
    """Indexes of the non-blank lines, lazily from the start (or the end): only a song's
    edges are looked at, so a long song costs no more than a short one."""
    indexes = range(len(lines) - 1, -1, -1) if reverse else range(len(lines))
    return (index for index in indexes if lines[index].strip())


def _is_language_list(line: str) -> bool:
    words = line.casefold().split()
    return bool(words) and all(word.strip(",;·|") in LANGUAGES for word in words)


# plain substring tests first (a fraction of a microsecond, unlike regexes over every line)
_INLINE_HINTS = (".", "/", "might", "Might", "MIGHT")
_HEAD_HINTS = ("contributor", "translation", "vertaling", "songtekst", "lyrics", "licen",
               "provided", "powered")


def _drop_inline(lines: list[str], found: set[str]) -> None:
    """Leftovers that may sit anywhere: bare URLs and "You might also like" (often glued to
    the next lyric line, as Genius pages copy out: "You might also likeIk zag je")."""
    for index, line in enumerate(lines):
        if ("." in line or "/" in line) and _URL.match(line):
            lines[index] = ""
            found.add("url")
        elif "ight" in line.casefold() and _ALSO_LIKE.match(line):
            rest = _ALSO_LIKE.sub("", line, count=1).strip()
            if not rest or rest[0].isupper():  # "... like me" is a sung line: kept
                lines[index] = rest
                found.add("also-like")


def _drop_tail(lines: list[str], found: set[str]) -> None:
    last = next(_content(lines, reverse=True), None)
    if last is not None and "Embed" in lines[last]:
        match = _EMBED.search(lines[last].rstrip())
        if match:
            lines[last] = lines[last].rstrip()[:match.start()].rstrip()
            found.add("embed")
    for index in islice(_content(lines, reverse=True), EDGE_LINES):
        if _LICENSED.match(lines[index]) and len(lines[index].split()) <= 10:
            lines[index] = ""
            found.add("licensed")


def _head_kind(line: str, title: str, in_translations: bool) -> tuple[str | None, bool]:
    """Which header leftover ``line`` is (or None), and whether a language list follows."""
    if _CONTRIBUTORS.match(line):
        return "contributors", "translat" in line.casefold()
    if _TRANSLATIONS.match(line):
        return "translations", True
    if in_translations and _is_language_list(line):
        return "translations", True
    if len(line.split()) <= 12 and (_HEADER.search(line) or _genius_title(line, title)):
        return "header", False
    if _LICENSED.match(line) and len(line.split()) <= 10:
        return "licensed", False
    return None, False


def _drop_head(lines: list[str], title: str, found: set[str]) -> None:
    """Headers in the song's first lines; lines dropped here do not count towards them."""
    in_translations = False
    kept = 0
    for index in _content(lines):
        line = lines[index]
        kind = None
        if in_translations or any(hint in line.casefold() for hint in _HEAD_HINTS):
            kind, in_translations = _head_kind(line, title, in_translations)
        if kind is None:
            in_translations = False
            kept += 1
            if kept >= EDGE_LINES:
                return
            continue
        lines[index] = ""
        found.add(kind)


def _genius_title(line: str, title: str) -> bool:
    """Genius's "<Title> Lyrics" heading."""
    key = _key(line)
    return bool(title) and key.endswith(" lyrics") and key[: -len(" lyrics")] == _key(title)


def _drop_title(lines: list[str], title: str, found: set[str]) -> None:
    """The title standing alone above the first stanza (a sung first line keeps its stanza)."""
    content = list(islice(_content(lines), 2))
    if not title or len(content) < 2:
        return
    first = content[0]
    alone = first + 1 < len(lines) and not lines[first + 1].strip()
    if alone and _key(lines[first]) == _key(title) and _key(title):
        lines[first] = ""
        found.add("title")


def drop_leftovers(text: str, title: str = "") -> tuple[str, set[str]]:
    """``text`` without scraped-site leftovers, and which kinds (``LABELS`` keys) were found."""
    lines = text.splitlines()
    found: set[str] = set()
    if any(hint in text for hint in _INLINE_HINTS):
        _drop_inline(lines, found)
    _drop_tail(lines, found)
    _drop_head(lines, title, found)
    _drop_title(lines, title, found)
    return ("\n".join(lines), found) if found else (text, found)
