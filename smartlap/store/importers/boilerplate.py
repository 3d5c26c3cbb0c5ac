"""Site credits in scraped lyrics, found as templates that recur at song edges across songs.

A lyric site stamps every song with the same few lines, with details that vary: "14 jaar
geleden toegevoegd" / "door gebruiker12", "Lyrics powered by X", "added on 12-03-2009".
Counting verbatim repeats never catches those, so each line is turned into a *template*
first: digits, dates and a number with its time unit become placeholders ("<n> jaar geleden
toegevoegd"), and the last word of a short credit line ("door X", "added by X", "Bron: X")
becomes "<name>".

Only a song's edges count (its first and last ``EDGE_LINES`` sung lines), and a line that
repeats *within* its song is never a credit: that is a refrein. A template found at the
edges of at least ``TEMPLATE_SHARE`` of the songs (and of ``TEMPLATE_MIN_SONGS``) is dropped
from every song's edges, peeling inwards while the next line is a template too. A refrein
that every song of an album shares sits in the song bodies and repeats in each song, so it
stays. Detection samples the first ``SAMPLE_SONGS`` songs in a first pass; the second pass
drops. Scraped leftovers ("Embed", "You might also like", ...) go first (``leftovers``), so
the credits beneath them are at the edge.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from smartlap.store.importers.leftovers import LABELS, drop_leftovers
from smartlap.store.importers.normalise import section_tag
from smartlap.store.importers.records import Opener, RawSong, Skipped
from smartlap.store.importers.report import ImportReport

EDGE_LINES = 3
TEMPLATE_SHARE = 0.25
TEMPLATE_MIN_SONGS = 3
SAMPLE_SONGS = 3000
CREDIT_WORDS = 5  # a credit line with a name at the end is this short
CREDIT_CUES = frozenset(("door", "by", "via", "from", "von", "par"))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUMBER_WORDS = _words(
    "een één twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien a an one two three four five six seven eight nine ten eleven twelve")
_UNITS = _words(
    "jaar jaren maand maanden mnd week weken dag dagen uur uren minuut minuten min seconde "
    "seconden sec year years month months week weeks day days hour hours minute minutes "
    "second seconds")
_MONTHS = _words(
    "januari februari maart april mei juni juli augustus september oktober november december "
    "jan feb mrt mar apr jun jul aug sep sept okt oct nov dec january february march may "
    "june july august october")
_DIGITS = re.compile(r"\d+")
_MAYBE_NUMBER = re.compile(r"\d|\b(?:" + "|".join(sorted(_NUMBER_WORDS)) + r")\b",
                           re.IGNORECASE)
_EDGE_PUNCTUATION = ".,:;!?()[]\"'"


def _number(core: str) -> bool:
    return core.isdigit() or core in _NUMBER_WORDS


def templates_of(line: str) -> list[tuple[str, str]]:
    """The (key, display) templates a line belongs to: the line with numbers, dates and time
    units generic, and for a short credit line also that with its last word generic."""
    words = line.split()
    if not _MAYBE_NUMBER.search(line):  # most lines: nothing to make generic
        keys, shown = line.casefold().split(), words
    else:
        keys, shown = _generic_words(words)
    found = [(" ".join(keys), " ".join(shown))]
    if 2 <= len(words) <= CREDIT_WORDS and (
            words[-2].casefold() in CREDIT_CUES or words[-2].endswith(":")):
        found.append((" ".join(keys[:-1]) + " <name>", " ".join(shown[:-1]) + " <name>"))
    return found


def _generic_words(words: list[str]) -> tuple[list[str], list[str]]:
    """Keys and display words with numbers, number words before a unit, units after a
    number and months beside one made generic."""
    keys: list[str] = []
    shown: list[str] = []
    previous_number = False
    for position, word in enumerate(words):
        folded = word.casefold()
        core = folded.strip(_EDGE_PUNCTUATION)
        following = words[position + 1].casefold().strip(_EDGE_PUNCTUATION) if (
            position + 1 < len(words)) else ""
        near_number = previous_number or following.isdigit()
        if _DIGITS.search(core) or (_number(core) and following in _UNITS):
            keys.append(_DIGITS.sub("#", core) if _DIGITS.search(core) else "#")
            shown.append(_DIGITS.sub("<n>", word) if _DIGITS.search(core) else "<n>")
            previous_number = True
            continue
        if previous_number and core in _UNITS:
            keys.append("@unit")
        elif near_number and core in _MONTHS:
            keys.append("@month")
            shown.append("<month>")
            previous_number = False
            continue
        else:
            keys.append(folded)
        shown.append(word)
        previous_number = False
    return keys, shown


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def _sung(lines: list[str]) -> list[int]:
    """Indexes of the lines that count: not blank, not a section tag."""
    sung = []
    for index, line in enumerate(lines):
        text = line.strip()
        if text and not section_tag(text):  # None at once for a line longer than any tag
            sung.append(index)
    return sung


def _folded(line: str) -> str:
    return line.strip().casefold()


def _repeats(lines: list[str], sung: list[int]) -> Counter:
    """How often each line is sung in its song (case aside): twice or more is a refrein."""
    return Counter(_folded(lines[index]) for index in sung)


@dataclass
class Finder:
    """First pass: count, per template, the songs that have it at an edge (once); a song
    whose body was seen already is not counted again."""

    songs: int = 0
    counts: Counter = field(default_factory=Counter)
    shown: dict[int, str] = field(default_factory=dict)  # for templates seen twice or more
    bodies: set[int] = field(default_factory=set)

    def observe(self, lines: list[str]) -> None:
        sung = _sung(lines)
        if not sung:
            return
        body = sung[EDGE_LINES:-EDGE_LINES] if len(sung) > 3 * EDGE_LINES else sung
        hashed_body = _hash("\n".join(_folded(lines[index]) for index in body))
        if hashed_body in self.bodies:
            return  # the same song again (a duplicate, or one song from two sites): its
            # lines say nothing about the site, and would look like a template
        self.bodies.add(hashed_body)
        self.songs += 1
        edges = sung[:EDGE_LINES] + sung[EDGE_LINES:][-EDGE_LINES:]
        repeats = _repeats(lines, sung)
        seen: dict[int, str] = {}
        for index in edges:
            if repeats[_folded(lines[index])] > 1:
                continue  # a line sung twice in one song is lyrics
            for key, display in templates_of(lines[index]):
                seen.setdefault(_hash(key), display)
        for hashed, display in seen.items():
            self.counts[hashed] += 1
            if self.counts[hashed] == 2:
                self.shown[hashed] = display
            elif self.counts[hashed] > 2 and self.shown[hashed] != display:
                self.shown[hashed] = _generic(display)

    def templates(self) -> Templates:
        threshold = max(TEMPLATE_MIN_SONGS, math.ceil(TEMPLATE_SHARE * self.songs))
        if self.songs <= TEMPLATE_MIN_SONGS:
            return Templates({})
        return Templates({key: self.shown[key] for key, count in self.counts.items()
                          if count >= threshold})


def _generic(display: str) -> str:
    """When one template shows with different units ("<n> jaar", "<n> weken")."""
    words = display.split()
    return " ".join("<unit>" if i and words[i - 1] == "<n>" and w.casefold() in _UNITS else w
                    for i, w in enumerate(words))


@dataclass(frozen=True)
class Templates:
    """Second pass: the templates found, and dropping them from one song's edges."""

    found: dict[int, str]

    def _hit(self, line: str) -> int | None:
        """The template a line belongs to, the most general first ("door <name>" before
        "door gebruiker<n>"), so one credit is counted under one name."""
        for key, _ in reversed(templates_of(line)):
            hashed = _hash(key)
            if hashed in self.found:
                return hashed
        return None

    def drop(self, text: str) -> tuple[str, set[int]]:
        """``text`` without template lines at its edges, and which templates were dropped."""
        if not self.found:
            return text, set()
        lines = text.splitlines()
        sung = _sung(lines)
        repeats: Counter | None = None
        dropped: set[int] = set()
        for order in (sung, sung[::-1]):
            window = EDGE_LINES
            for position, index in enumerate(order):
                if position >= window or not lines[index]:
                    break
                hit = self._hit(lines[index])
                if hit is None:
                    continue
                repeats = repeats if repeats is not None else _repeats(lines, sung)
                if repeats[_folded(lines[index])] > 1:
                    continue
                lines[index] = ""
                dropped.add(hit)
                window += 1  # the line behind a credit may be one too
        return ("\n".join(lines), dropped) if dropped else (text, dropped)


def _clean_leftovers(song: RawSong) -> tuple[RawSong, set[str]]:
    text, kinds = drop_leftovers(song.lyrics, song.title)
    if not kinds:
        return song, kinds
    return RawSong(lyrics=text, where=song.where, title=song.title, artist=song.artist), kinds


def find_templates(open_items: Opener) -> Templates:
    """First pass over a fresh stream: the templates of its first ``SAMPLE_SONGS`` songs."""
    finder = Finder()
    for item in open_items():
        if isinstance(item, RawSong):
            finder.observe(_clean_leftovers(item)[0].lyrics.splitlines())
            if finder.songs >= SAMPLE_SONGS:
                break
    return finder.templates()


def clean_stream(open_items: Opener, report: ImportReport) -> Iterator[RawSong | Skipped]:
    """Every song of the source without its leftovers and site templates; both reported.

    ``open_items`` opens the source again from the start (it is read twice).
    """
    templates = find_templates(open_items)
    by_template: Counter = Counter()
    by_kind: Counter = Counter()
    for item in open_items():
        if isinstance(item, RawSong):
            item, kinds = _clean_leftovers(item)
            text, dropped = templates.drop(item.lyrics)
            by_kind.update(kinds)
            by_template.update(dropped)
            if kinds or dropped:
                if not any(line.strip() for line in text.splitlines()):
                    yield Skipped(item.where, "empty", "only site boilerplate, no lyrics")
                    continue
                item = RawSong(lyrics=text, where=item.where, title=item.title,
                               artist=item.artist)
        yield item
    _report(report, templates, by_template, by_kind)


def _report(report: ImportReport, templates: Templates, by_template: Counter,
            by_kind: Counter) -> None:
    for key, count in by_template.most_common():
        report.boilerplate.append({"line": templates.found[key], "songs": count,
                                   "kind": "template"})
    for kind, count in by_kind.most_common():
        report.boilerplate.append({"line": LABELS[kind], "songs": count, "kind": "leftover"})
    if by_template or by_kind:
        top = report.boilerplate[0]
        report.warn(f"dropped site boilerplate from the songs: {len(by_template)} templated "
                    f"credit line(s), {len(by_kind)} kind(s) of scraped leftovers (most: "
                    f"{top['line']!r}, {top['songs']} songs); each is listed under boilerplate")
