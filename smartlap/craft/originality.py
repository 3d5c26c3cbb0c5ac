"""Originality check: flag generated lines copied (near-)verbatim from the training lyrics.

Small datasets make models recite their training songs. The dataset's lines are indexed
once — a set of normalised-line hashes for exact copies, and word-trigram shingles pointing
at the lines that contain them for near copies — so checking a line costs a few dictionary
look-ups plus one string comparison per likely source line: cheap enough for every sample.

A line is ``copied`` when its normalised text (case, accents, punctuation and spacing
ignored) equals a dataset line, and ``near`` when it shares most of its word trigrams with
one and their character similarity is at least ``near_threshold``. Lines shorter than
``min_words`` words are never flagged: "ik hou van jou" is the language, not a quote.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

DEFAULT_MIN_WORDS = 5
DEFAULT_NEAR_THRESHOLD = 0.85
_MAX_POSTINGS = 200  # trigrams in more lines than this are stock phrases, not evidence
_CANDIDATES = 8


_COMBINING = re.compile(r"[\u0300-\u036f]+")
_NON_WORD = re.compile(r"[\W_]+")


def normalise_line(line: str) -> str:
    """Casefolded words without accents or punctuation, single-spaced."""
    text = unicodedata.normalize("NFKD", line.casefold())
    if not text.isascii():
        text = _COMBINING.sub("", text)
    return _NON_WORD.sub(" ", text).strip()


def _shingles(words: list[str]) -> set[str]:
    """Word trigrams of a line (the whole line when it is shorter)."""
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {f"{a} {b} {c}" for a, b, c in zip(words, words[1:], words[2:], strict=False)}


@dataclass(frozen=True)
class Match:
    """Why a line was flagged: ``copied`` or ``near``, the source line and the similarity.

    ``title`` is the source song's title when the index was built from songs.
    """

    kind: str
    line: str
    source: str
    similarity: float
    title: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "line": self.line, "source": self.source,
                "similarity": round(self.similarity, 3), "title": self.title}

    def describe(self, dataset: str | None = None) -> str:
        """One plain line for a person: what was copied, from which dataset and song."""
        where = ", ".join(part for part in (dataset, f"“{self.title}”" if self.title else "")
                          if part)
        where = f" ({where})" if where else ""
        if self.kind == "copied":
            return f"copied from training data{where}: {self.line}"
        return (f"near copy of training data{where}, {self.similarity:.0%} like "
                f"“{self.source}”: {self.line}")


class OriginalityIndex:
    """The lines of a dataset, indexed for exact and near-copy look-ups."""

    def __init__(self, lines: Iterable[str], *, min_words: int = DEFAULT_MIN_WORDS,
                 near_threshold: float = DEFAULT_NEAR_THRESHOLD) -> None:
        self.min_words = min_words
        self.near_threshold = near_threshold
        self._exact: dict[int, int] = {}
        self._lines: list[str] = []
        self._originals: list[str] = []
        self._titles: list[str | None] = []
        self._postings: dict[str, list[int]] = {}
        self._add(lines, None)

    def _add(self, lines: Iterable[str], title: str | None) -> None:
        min_words = self.min_words
        for original in lines:
            norm = normalise_line(original)
            if not norm or len(norm.split()) < min_words:
                continue
            key = hash(norm)
            if key in self._exact:
                continue
            line_id = len(self._lines)
            self._exact[key] = line_id
            self._lines.append(norm)
            self._originals.append(original.strip())
            self._titles.append(title)
            postings_of = self._postings
            for gram in _shingles(norm.split()):
                postings = postings_of.get(gram)
                if postings is None:
                    postings_of[gram] = [line_id]
                elif len(postings) <= _MAX_POSTINGS:
                    postings.append(line_id)

    def __len__(self) -> int:
        return len(self._lines)

    @classmethod
    def from_texts(cls, texts: Iterable[str], **options: object) -> OriginalityIndex:
        """Index every line of every text (song lyrics, one line per line)."""
        return cls((line for text in texts for line in text.splitlines()), **options)  # type: ignore[arg-type]

    @classmethod
    def from_songs(cls, songs: Iterable[object], **options: object) -> OriginalityIndex:
        """Index the lyrics of songs (objects with ``lyrics`` and ``title``), titles kept."""
        index = cls((), **options)  # type: ignore[arg-type]
        for song in songs:
            index._add(str(getattr(song, "lyrics", "")).splitlines(),
                       getattr(song, "title", None) or None)
        return index

    def check(self, line: str) -> Match | None:
        """The reason ``line`` looks copied from the dataset, or None if it looks original."""
        norm = normalise_line(line)
        words = norm.split()
        if len(words) < self.min_words:
            return None
        exact = self._exact.get(hash(norm))
        if exact is not None and self._lines[exact] == norm:
            return Match("copied", line.strip(), self._originals[exact], 1.0,
                         self._titles[exact])
        grams = _shingles(words)
        hits: Counter[int] = Counter()
        for gram in grams:
            for line_id in self._postings.get(gram, ()):
                hits[line_id] += 1
        best: Match | None = None
        for line_id, shared in hits.most_common(_CANDIDATES):
            if shared * 2 < len(grams):
                break  # shares less than half of its trigrams: not a copy
            similarity = SequenceMatcher(None, norm, self._lines[line_id],
                                         autojunk=False).ratio()
            if similarity >= self.near_threshold and (best is None
                                                      or similarity > best.similarity):
                best = Match("near", line.strip(), self._originals[line_id], similarity,
                             self._titles[line_id])
        return best

    def check_text(self, text: str) -> list[Match]:
        """Every flagged line of a generated text, in order."""
        return [m for m in (self.check(line) for line in text.splitlines()) if m]

    def check_sample(self, text: str, prompt: str = "") -> list[tuple[int, Match]]:
        """Flagged lines of a generated continuation as (line number in ``text``, match).

        When the prompt ends mid-line, the first generated line finishes the prompt's last
        line, so that whole line is what gets checked: a model completing a line the person
        began is still quoting it.
        """
        lines = text.split("\n")
        if prompt and not prompt.endswith("\n") and lines:
            head = prompt.rsplit("\n", 1)[-1]
            lines = [head + lines[0], *lines[1:]]
        return [(row, match) for row, match in
                ((row, self.check(line)) for row, line in enumerate(lines)) if match]


_CACHE: dict[tuple[str, str, float, int], OriginalityIndex] = {}
_BUILDING = threading.Lock()  # the studio's workers may ask at once: build only once


def index_for_dataset(name: str, split: str | None = "train") -> OriginalityIndex:
    """The index of a stored dataset's lyrics, built once per process and dataset version.

    By default the ``train`` split: the lyrics a model fine-tuned on this dataset has seen.
    """
    from smartlap.paths import get_paths
    from smartlap.store.datasets import get_dataset, iter_songs

    info = get_dataset(name)
    songs_file = Path(info.path or get_paths().datasets / info.name) / "songs.jsonl"
    try:
        stat = songs_file.stat()
        version = (stat.st_mtime, stat.st_size)
    except OSError:
        version = (0.0, 0)
    key = (info.name, split or "", *version)
    with _BUILDING:
        if key not in _CACHE:
            _CACHE[key] = OriginalityIndex.from_songs(iter_songs(info.name, split=split))
        return _CACHE[key]


def index_for_model(model_info: object) -> OriginalityIndex | None:
    """The index of the dataset a model was fine-tuned on (None when none is recorded).

    ``model_info`` is a ``smartlap.store.models.ModelInfo``; its ``dataset`` names the
    dataset recorded with the checkpoint. A recorded dataset that was since deleted gives
    None rather than an error: the check is a help, not a gate.
    """
    from smartlap.errors import NotFoundError

    dataset = getattr(model_info, "dataset", None)
    if not dataset:
        return None
    try:
        return index_for_dataset(str(dataset))
    except NotFoundError:
        return None


class CopyCheck:
    """Checks generated text against the dataset a model was trained on, for every front end.

    The dataset is the one recorded with the checkpoint; its index is built on the first
    check and reused after. No recorded dataset, or one no longer in the store, means no
    check and no message; a damaged one means no check and one reason in ``skipped``: the
    check is a help, not a gate.
    """

    def __init__(self, model_info: object) -> None:
        self.dataset: str | None = getattr(model_info, "dataset", None) or None
        self.skipped: str | None = None  # why a recorded dataset could not be checked
        self._info = model_info
        self._index: OriginalityIndex | None = None
        self._ready = False
        self._lock = threading.Lock()

    def index(self) -> OriginalityIndex | None:
        with self._lock:
            if not self._ready:
                self._ready = True
                from smartlap.errors import SmartlapError

                try:
                    self._index = index_for_model(self._info)
                except (SmartlapError, OSError, ValueError) as error:
                    message = getattr(error, "message", None) or str(error)
                    self.skipped = (f"originality check skipped: dataset {self.dataset}: "
                                    f"{message}")
        return self._index

    def rows(self, text: str, prompt: str = "") -> list[tuple[int, Match]]:
        """(line number in ``text``, match) for each (near-)copied line, in order."""
        index = self.index()
        return [] if index is None else index.check_sample(text, prompt)

    def matches(self, text: str, prompt: str = "") -> list[Match]:
        return [match for _, match in self.rows(text, prompt)]
