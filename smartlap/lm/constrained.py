"""Constrained next lines and song structure from a style.

"Write a line that rhymes with line k and has about n syllables": the model proposes several
candidate next lines (ordinary sampling, each stopped as soon as its line is complete) and
they are reranked by a documented score::

    score = logprob + RHYME_WEIGHT * rhyme + SYLLABLE_WEIGHT * fit - COPY_PENALTY * copied

- ``logprob``: mean log-probability per token of the line (with its newline) given the
  context, under the model without temperature or top-k — how natural the line is.
- ``rhyme``: 1 for a perfect rhyme with the target (smartlap.craft.rhymes), 0.5 when only
  the stressed vowel matches (assonance), 0 otherwise; 0 for all when no target is asked.
- ``fit``: minus the number of syllables the line is away from the target (or from the
  style's syllable range); 0 when there is no target.
- ``copied``: 1 when the originality check finds the line (near-)verbatim in the dataset
  the model was fine-tuned on.

Structure: ``song_plan`` lays out a style's sections (couplet/refrein order) with markers,
``write_song`` writes them line by line — the refrein is written once and then repeated
word for word — with the style's rhyme scheme and syllables steering the reranking.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from smartlap.craft import rhyme_key, rhymes, syllables
from smartlap.craft.rhyme import last_word, same_word
from smartlap.craft.scheme import is_section_marker
from smartlap.craft.syllables import tokens
from smartlap.errors import UsageError

if TYPE_CHECKING:
    from smartlap.craft.originality import OriginalityIndex
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.loading import LoadedModel
    from smartlap.styles import Style

RHYME_WEIGHT = 3.0
SYLLABLE_WEIGHT = 0.5
COPY_PENALTY = 2.0
ASSONANCE = 0.5
CANDIDATES = 16  # lines sampled per request: enough that the best few rhyme and scan
_HEADER = re.compile(r"^\W*(refrein|refrain|chorus|couplet|brug|bridge|intro|outro|verse)\b",
                     re.IGNORECASE)

MARKERS = {"intro": "Intro", "couplet": "Couplet", "refrein": "Refrein", "brug": "Brug",
           "outro": "Outro"}


@dataclass
class Candidate:
    """One proposed next line, its score and the parts the score is made of."""

    text: str
    score: float
    logprob: float
    rhyme: float
    syllables: int
    fit: float
    copied: bool = False
    source: str | None = None  # the dataset line it copies, when copied

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def combine(logprob: float, rhyme: float, fit: float, copied: bool) -> float:
    """The documented score (see the module docstring)."""
    return logprob + RHYME_WEIGHT * rhyme + SYLLABLE_WEIGHT * fit - COPY_PENALTY * float(copied)


def rhyme_score(line: str, target: str | None) -> float:
    """1 perfect rhyme, 0.5 same stressed vowel, 0 otherwise (or without a target)."""
    if not target or not target.strip():
        return 0.0
    if rhymes(line, target):
        return 1.0
    word, goal = last_word(line), last_word(target)
    if not word or not goal or same_word(word, goal):
        return 0.0
    key, goal_key = rhyme_key(word), rhyme_key(goal)
    vowel = re.match(r"[^bcdfghjklmnpqrstvwxzNSZ]+", key or "")
    goal_vowel = re.match(r"[^bcdfghjklmnpqrstvwxzNSZ]+", goal_key or "")
    if vowel and goal_vowel and vowel.group() == goal_vowel.group():
        return ASSONANCE
    return 0.0


def syllable_fit(count: int, target: int | tuple[int, int] | None) -> float:
    """Minus the distance from the target count or range (0 inside it, or without one)."""
    if target is None:
        return 0.0
    low, high = (target, target) if isinstance(target, int) else target
    if count < low:
        return float(count - low)
    if count > high:
        return float(high - count)
    return 0.0


# --- the stanza and the style ---------------------------------------------------------------

def current_stanza(context: str) -> list[str]:
    """The lines of the stanza being written: after the last blank line or section marker."""
    stanza: list[str] = []
    for line in context.splitlines():
        if not line.strip() or is_section_marker(line) or (_HEADER.match(line) and len(
                line.split()) <= 3):
            stanza = []
        else:
            stanza.append(line)
    return stanza


def rhyme_partner(scheme: str, stanza: list[str]) -> str | None:
    """The earlier line of the stanza the next line should rhyme with under ``scheme``.

    The scheme repeats over longer stanzas (AABB over eight lines is AABB AABB) and a
    partner is only looked for inside the current repetition.
    """
    letters = [ch for ch in scheme.upper() if ch.isalpha() or ch == "-"]
    if not letters:
        return None
    index = len(stanza)
    size = len(letters)
    letter = letters[index % size]
    if letter == "-":
        return None
    block_start = index - index % size
    for earlier in range(index - 1, block_start - 1, -1):
        if letters[earlier % size] == letter:
            return stanza[earlier]
    return None


@dataclass(frozen=True)
class SectionPlan:
    """One section of a song: its kind, the marker line that opens it, and its length."""

    kind: str
    marker: str
    lines: int


def song_plan(style: Style, lines_per_section: int = 4) -> list[SectionPlan]:
    """The style's sections in order, numbered couplets, one marker per section."""
    if lines_per_section < 1:
        raise UsageError("A section needs at least one line.", "Use --lines 1 or more.")
    plan: list[SectionPlan] = []
    counts: dict[str, int] = {}
    for kind in style.structure:
        counts[kind] = counts.get(kind, 0) + 1
        name = MARKERS.get(kind, kind.capitalize())
        numbered = kind == "couplet" or (style.structure.count(kind) > 1 and kind != "refrein")
        marker = f"[{name} {counts[kind]}]" if numbered else f"[{name}]"
        plan.append(SectionPlan(kind, marker, lines_per_section))
    return plan


# --- sampling and scoring ---------------------------------------------------------------------

def line_logprob(loaded: LoadedModel, context: str, line: str) -> float:
    """Mean log-probability per token of ``line`` plus its newline, given ``context``."""
    import torch

    tokenizer = loaded.tokenizer
    context_ids = tokenizer.encode(context, add_special_tokens=False) if context else []
    if not context_ids:
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None \
            else tokenizer.eos_token_id
        context_ids = [start]
    line_ids = tokenizer.encode(line + "\n", add_special_tokens=False)
    if not line_ids:
        return float("-inf")
    room = max(1, loaded.context_length - len(line_ids))
    context_ids = context_ids[-room:]
    ids = torch.tensor([context_ids + line_ids], dtype=torch.long, device=loaded.device)
    with torch.inference_mode():
        logits = loaded.model(input_ids=ids).logits[0].float()
    log_probs = torch.log_softmax(logits[len(context_ids) - 1:-1], dim=-1)
    targets = ids[0, len(context_ids):]
    picked = log_probs.gather(1, targets.unsqueeze(1)).squeeze(1)
    return float(picked.mean())


def _originality_index(loaded: LoadedModel) -> OriginalityIndex | None:
    from smartlap.craft.originality import index_for_model

    try:
        return index_for_model(loaded.info)
    except Exception:  # the check helps; a damaged dataset must not break generation
        return None


class NextLines(list):
    """Candidates best first (a list), with ``notes`` on how they were made."""

    def __init__(self, candidates: list[Candidate] = (), notes: list[str] | None = None
                 ) -> None:
        super().__init__(candidates)
        self.notes: list[str] = list(notes or [])


def syllable_target(rhyme_with: str | None, syllables: int | tuple[int, int] | None,
                    style: Style | None) -> int | tuple[int, int] | None:
    """What a next line should count: the asked number, else the partner line's own count
    (the song's meter), else the style's range."""
    if syllables is not None:
        return syllables
    if rhyme_with and len(tokens(rhyme_with)) > 1 and _count(rhyme_with) > 1:
        return _count(rhyme_with)
    return tuple(style.syllables) if style is not None else None  # type: ignore[return-value]


def next_line_candidates(loaded: LoadedModel, context: str, *, rhyme_with: str | None = None,
                         syllables: int | tuple[int, int] | None = None,
                         candidates: int = CANDIDATES,
                         settings: GenerationSettings | None = None,
                         style: Style | None = None,
                         originality: OriginalityIndex | None = None) -> NextLines:
    """Sample ``candidates`` next lines after ``context`` and return them best first.

    With a ``style`` and no explicit targets, its rhyme scheme picks the line to rhyme with
    (from the stanza being written). The syllable target is ``syllable_target``'s. Each
    line's ending is steered to a rhyme word that lands it on the target
    (``smartlap.lm.line_ending``). Duplicate lines are proposed once. ``originality``
    defaults to the index of the model's dataset.
    """
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.line_ending import plan_ending, sample_lines

    if candidates < 1:
        raise UsageError("--candidates must be at least 1.", "Try --candidates 16.")
    if isinstance(syllables, int) and syllables < 1:
        raise UsageError("--syllables must be at least 1.", "A sung line has 4 to 14.")
    settings = (settings or GenerationSettings.from_style(style)).validate()
    if style is not None and rhyme_with is None:
        rhyme_with = rhyme_partner(style.rhyme_scheme, current_stanza(context))
    syllables = syllable_target(rhyme_with, syllables, style)
    prompt = context if not context or context.endswith("\n") else context + "\n"
    if originality is None:
        originality = _originality_index(loaded)
    model_context = style.scaffold_prompt(prompt) if style is not None else prompt
    ending = plan_ending(loaded, rhyme_with, syllables, prompt)
    seen: set[str] = set()
    result = NextLines(notes=ending.notes)
    for sampled in sample_lines(loaded, model_context, settings, candidates, ending):
        line = sampled.text
        key = " ".join(line.casefold().split())
        if key in seen:
            continue
        seen.add(key)
        rhyme = rhyme_score(line, rhyme_with)
        count = _count(line)
        fit = syllable_fit(count, syllables)
        match = originality.check(line) if originality is not None else None
        copied = match is not None
        result.append(Candidate(line, combine(sampled.logprob, rhyme, fit, copied),
                                sampled.logprob, rhyme, count, fit, copied,
                                match.source if match else None))
    result.sort(key=lambda c: c.score, reverse=True)
    return result


def _count(line: str) -> int:
    return syllables(line)


# --- whole songs --------------------------------------------------------------------------------

def write_song(loaded: LoadedModel, style: Style, prompt: str = "", *,
               settings: GenerationSettings | None = None, candidates: int = 8,
               lines_per_section: int = 4, rerank: bool = True,
               on_line: Callable[[str], None] | None = None) -> str:
    """Write a song in the style's structure: markers, a consistent refrein, reranked lines.

    The prompt's lines open the first section. With ``rerank`` each line is the best of
    ``candidates`` under the style's scheme and syllables; without, the first sample.
    ``on_line`` sees every line (markers and blanks included) as it is decided.
    """
    out: list[str] = []

    def emit(line: str) -> None:
        out.append(line)
        if on_line is not None:
            on_line(line)

    opening = [line for line in prompt.splitlines() if line.strip()]
    refrein: list[str] | None = None
    for number, section in enumerate(song_plan(style, lines_per_section)):
        if number:
            emit("")
        emit(section.marker)
        if section.kind == "refrein" and refrein is not None:
            for line in refrein:
                emit(line)
            continue
        written: list[str] = []
        while opening and len(written) < section.lines:
            line = opening.pop(0)
            written.append(line)
            emit(line)
        while len(written) < section.lines:
            context = "\n".join(out) + "\n"
            found = next_line_candidates(
                loaded, context, candidates=candidates if rerank else 1,
                settings=settings, style=style if rerank else None,
                rhyme_with=None if rerank else "", syllables=None)
            line = found[0].text if found else "..."
            written.append(line)
            emit(line)
        if section.kind == "refrein":
            refrein = written
    return "\n".join(out) + "\n"


def word_logprobs(loaded: LoadedModel, words: list[str], context: str = "") -> dict[str, float]:
    """Mean log-probability of each word ending a line after ``context`` (higher = likelier).

    Used to rank rhyme suggestions by how naturally this model would write them.
    """
    prefix = context if not context or context.endswith((" ", "\n")) else context + " "
    return {word: line_logprob(loaded, prefix, word) if prefix else
            line_logprob(loaded, "", " " + word) for word in words}


def vocabulary_words(loaded: LoadedModel, limit: int = 20000) -> list[str]:
    """Whole words the model's tokenizer knows as single tokens (after a space)."""
    tokenizer = loaded.tokenizer
    words: list[str] = []
    for token_id in range(min(len(tokenizer), limit * 4)):
        text = tokenizer.decode([token_id], skip_special_tokens=True,
                                clean_up_tokenization_spaces=False)
        if text.startswith(" ") and text[1:].isalpha() and len(text) > 2:
            words.append(text[1:].lower())
        if len(words) >= limit:
            break
    return words
