"""Line endings that rhyme and scan: the last word of a sampled line, steered through the logits.

A next line is sampled token by token like any text while its syllables are counted. Near
the target count, the tokens that start a word rhyming with the partner line get a boost
(``BOOST_EXACT`` when the word's syllables bring the line to the target, ``BOOST_NEAR``
when within one); when one more free word would overshoot, only they are allowed. Once a
rhyme word has begun, only the tokens that continue it are (``TokenTrie``: with BPE a word
may span several tokens, " verdriet" = " ver" "dr" "iet"), and once it is whole the line
ends, a punctuation mark allowed. Free words that would jump past the count are masked.
Newlines, brackets and end-of-text cannot cut a line short.

The rhyme words come from a rhyme dictionary (``craft.rhyme.RhymeIndex``) of the model's
dataset, the demo corpus, the smartlap lexicon and the song so far, most used first; when
those give fewer than ``FEW_RHYME_WORDS``, the common words of the whole Dutch word list
that rhyme (``craft.dictionary``, Zipf >= ``DICTIONARY_MIN_ZIPF``) join them; the
tokenizer's whole-word tokens only when none of those rhyme (they include pieces of words).
With no rhyming word at all (a rare ending, a tokenizer that cannot spell them), lines are
steered to the syllable count only and a note says so.

Cost: the prompt runs through the model once for all candidates (``PromptCache`` rewinds
its key/value cache for each), then each candidate costs its own tokens and one forward
to score it.
"""

from __future__ import annotations

import math
import re
import unicodedata
import weakref
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from smartlap.craft.rhyme import RhymeIndex, last_word
from smartlap.craft.scheme import is_section_marker
from smartlap.craft.syllables import syllables, tokens, word_syllables

if TYPE_CHECKING:
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.loading import LoadedModel

LINE_TOKEN_LIMIT = 48  # tokens: a sung line is rarely longer
BOOST_EXACT = 3.0  # nats added to a rhyme word's first token when it lands on the target
BOOST_NEAR = 1.5  # ... when it lands one syllable off
SPLIT_COST = 1.0  # nats per extra token of a rhyme word (see TokenTrie)
USE_GAIN = 0.3  # nats per log-use of a rhyme word in the lyrics
MAX_RHYME_WORDS = 64  # the most used rhyme words a line may end with
FEW_RHYME_WORDS = 8  # fewer rhymes than this in the lyrics: ask the whole word list too
DICTIONARY_MIN_ZIPF = 3.0  # ... for its words at least this common (not names, typos)
LOOKAHEAD = 96  # free word starts checked per step for overshooting the count
DEFAULT_RANGE = (6, 10)  # when a rhyme is asked without any syllable target
_PARTIAL = re.compile(r"[\w'’-]+$")
_END_MARKS = set(",.;:!?…\"'”’»)-–—")  # what may follow a line's last word


# --- the trie of rhyme words' token sequences -------------------------------------------------

@dataclass
class TrieNode:
    """Tokens that continue a rhyme word; ``word`` when a whole word ends here."""

    children: dict[int, TrieNode] = field(default_factory=dict)
    word: str | None = None
    counts: set[int] = field(default_factory=set)  # syllables of the words at or below
    prior: dict[int, float] = field(default_factory=dict)  # best word prior per syllables


class TokenTrie:
    """The token sequences of words as they follow a space, whatever the tokenizer.

    Names (``names``: Jordaan, Mien) are spelled capitalised. A word the tokenizer cannot
    spell back exactly is left out. Each word gets a prior, in
    nats, that the steering adds to its first token: the model sees only that token, and a
    likely first piece (" m") would otherwise drag in a rare word (" m" "ien"), so words in
    more pieces cost ``SPLIT_COST`` a piece and often used ones (``uses``) gain a little.
    """

    def __init__(self, tokenizer: Any, words: list[str],
                 uses: dict[str, int] | None = None,
                 names: frozenset[str] = frozenset()) -> None:
        self.root = TrieNode()
        self.words: list[str] = []
        self.depth = 0  # tokens in the longest word
        for norm in words:
            word = norm[:1].upper() + norm[1:] if norm in names else norm
            ids = tokenizer.encode(" " + word, add_special_tokens=False)
            text = tokenizer.decode(ids, skip_special_tokens=True,
                                    clean_up_tokenization_spaces=False)
            if not ids or text.strip() != word:
                continue
            count = word_syllables(word)
            prior = USE_GAIN * math.log1p((uses or {}).get(norm, 0)) - SPLIT_COST * (len(ids) - 1)
            node = self.root
            node.counts.add(count)
            for token in ids:
                node = node.children.setdefault(token, TrieNode())
                node.counts.add(count)
                node.prior[count] = max(node.prior.get(count, prior), prior)
            node.word = word
            self.words.append(word)
            self.depth = max(self.depth, len(ids))

    def __bool__(self) -> bool:
        return bool(self.root.children)

    def starts(self, counts: set[int]) -> list[int]:
        """First tokens of the words with one of these syllable counts."""
        return [token for token, node in self.root.children.items() if node.counts & counts]

    def priors(self, counts: set[int]) -> tuple[list[int], list[float]]:
        """First tokens of the words with these syllable counts, and their best prior."""
        found = [(token, max(p for c, p in node.prior.items() if c in counts))
                 for token, node in self.root.children.items() if node.counts & counts]
        return [t for t, _ in found], [p for _, p in found]

    def spell(self, word: str) -> list[int] | None:
        """The token path of a word in the trie (None when it is not there)."""
        def walk(node: TrieNode, path: list[int]) -> list[int] | None:
            if node.word == word:
                return path
            for token, child in node.children.items():
                found = walk(child, [*path, token])
                if found is not None:
                    return found
            return None
        return walk(self.root, [])


# --- what each token of the vocabulary is ------------------------------------------------------

@dataclass
class Vocabulary:
    """Per token: its text and the classes the steering needs (built once per tokenizer)."""

    texts: list[str]
    word_start: list[bool]  # begins a new word (a space before letters)
    blocked: Any  # ids that may not appear inside a line: newlines, control bytes, brackets
    newline: Any  # ids that end a line (a newline in them)
    ends: Any  # ids that may follow a finished rhyme word: punctuation, newlines
    continues: Any  # ids that go on with the current word (letters, no space before)


_VOCABULARIES: weakref.WeakKeyDictionary[Any, Vocabulary] = weakref.WeakKeyDictionary()


def vocabulary(loaded: LoadedModel) -> Vocabulary:
    """The token classes of the model's tokenizer (cached per tokenizer)."""
    import torch

    tokenizer = loaded.tokenizer
    size = loaded.model.get_input_embeddings().num_embeddings
    cached = _VOCABULARIES.get(tokenizer)
    if cached is not None and len(cached.texts) == size:
        return cached
    known = min(size, len(tokenizer))
    texts = tokenizer.batch_decode([[i] for i in range(known)], skip_special_tokens=True,
                                   clean_up_tokenization_spaces=False)
    pieces = tokenizer.convert_ids_to_tokens(list(range(known)))
    texts += [""] * (size - known)
    pieces += [""] * (size - known)
    word_start = [text.startswith(" ") or str(piece or "").startswith(("Ġ", "▁"))
                  for text, piece in zip(texts, pieces, strict=True)]
    blocked, newline, ends, continues = [], [], [], []
    for token, text in enumerate(texts):
        if not text or "\ufffd" in text:
            continue
        if "\n" in text:
            newline.append(token)
        if "[" in text or "]" in text or any(
                unicodedata.category(ch) == "Cc" for ch in text):  # newlines included
            blocked.append(token)
        has_word = any(ch.isalnum() for ch in text)
        mark = text.split("\n", 1)[0].strip()
        if not has_word and (mark or "\n" in text) and set(mark) <= _END_MARKS:
            ends.append(token)
        elif has_word and not word_start[token] and text[0].isalnum():
            continues.append(token)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id < size:
        blocked.append(tokenizer.eos_token_id)
        newline.append(tokenizer.eos_token_id)
        ends.append(tokenizer.eos_token_id)
    device = loaded.device

    def ids(values: list[int]) -> Any:
        return torch.tensor(sorted(set(values)), dtype=torch.long, device=device)

    table = Vocabulary(texts, word_start, ids(blocked), ids(newline), ids(ends), ids(continues))
    _VOCABULARIES[tokenizer] = table
    return table


# --- the rhyme dictionary ----------------------------------------------------------------------

@dataclass
class RhymeDictionaries:
    """Lyrics words (the datasets, the lexicon) and, as a fallback, the tokenizer's words.

    A tokenizer's "words" include pieces of words (" verk" of "verkocht"), so a line only
    ends on one when no lyrics word rhymes.
    """

    lyrics: RhymeIndex
    tokenizer: RhymeIndex
    names: frozenset[str] = frozenset()  # mostly capitalised inside a line: Jordaan, Mien

    @property
    def known(self) -> frozenset[str]:
        return self.lyrics.words | self.tokenizer.words


_DICTIONARIES: weakref.WeakKeyDictionary[Any, RhymeDictionaries] = weakref.WeakKeyDictionary()


def _dataset_words(name: str) -> tuple[Counter[str], Counter[str]]:
    """How often each word occurs in a dataset, and how often capitalised inside a line."""
    from smartlap.craft.phonetics import normalize_word
    from smartlap.store.datasets import iter_songs

    counts: Counter[str] = Counter()
    capitals: Counter[str] = Counter()
    try:
        for song in iter_songs(name):
            for line in song.lyrics.splitlines():
                for position, token in enumerate(tokens(line)):
                    word = normalize_word(token)
                    if word and any(ch.isalpha() for ch in word):
                        counts[word] += 1
                        capitals[word] += position > 0 and token[:1].isupper()
    except Exception:  # a deleted or damaged dataset leaves the other sources
        pass
    return counts, capitals


def rhyme_dictionary(loaded: LoadedModel) -> RhymeDictionaries:
    """The words a line may end on for this model (cached per model)."""
    cached = _DICTIONARIES.get(loaded.model)
    if cached is not None:
        return cached
    from smartlap.craft.phonetics import lexicon
    from smartlap.lm.constrained import vocabulary_words

    counts: Counter[str] = Counter()
    capitals: Counter[str] = Counter()
    dataset = getattr(getattr(loaded, "info", None), "dataset", None)
    for name in dict.fromkeys([dataset, "demo"]):
        if name:
            words, capitalised = _dataset_words(str(name))
            counts.update(words)
            capitals.update(capitalised)
    lyrics = RhymeIndex([*counts.items(), *((word, 0) for word in lexicon())])
    pieces = RhymeIndex((word, 0) for word in vocabulary_words(loaded))
    names = frozenset(w for w, n in capitals.items() if 2 * n > counts[w])
    found = RhymeDictionaries(lyrics, pieces, names)
    _DICTIONARIES[loaded.model] = found
    return found


# --- what a line should end like ---------------------------------------------------------------

@dataclass
class LineEnding:
    """The target of one request: rhyme words (as a trie) and a syllable range."""

    trie: TokenTrie | None
    low: int | None
    high: int | None
    known: frozenset[str] = frozenset()  # whole words: where a forced ending may begin
    notes: list[str] = field(default_factory=list)


def plan_ending(loaded: LoadedModel, rhyme_with: str | None,
                target: int | tuple[int, int] | None, context: str = "") -> LineEnding:
    """Rhyme words for ``rhyme_with`` and the syllable range to land them in."""
    low, high = (target, target) if isinstance(target, int) else (target or (None, None))
    if not rhyme_with or not rhyme_with.strip():
        return LineEnding(None, low, high)
    if low is None or high is None:
        lines = [line for line in context.splitlines() if tokens(line)]
        guess = syllables(lines[-1]) if lines else 0
        low, high = (guess, guess) if guess > 1 else DEFAULT_RANGE
    books = rhyme_dictionary(loaded)
    sung = [line for line in context.splitlines() if not is_section_marker(line)]
    own = RhymeIndex(Counter(word for line in sung for word in tokens(line)).items())
    words = list(dict.fromkeys(books.lyrics.rhymes_for(rhyme_with, MAX_RHYME_WORDS)
                               + own.rhymes_for(rhyme_with)))
    goal = last_word(rhyme_with) or rhyme_with.strip()
    if len(words) < FEW_RHYME_WORDS:
        words = list(dict.fromkeys(words + _dictionary_rhymes(goal)))[:MAX_RHYME_WORDS]
    uses = {**own.counts, **books.lyrics.counts}
    trie = TokenTrie(loaded.tokenizer, words, uses, books.names) if words else None
    if not trie:
        trie = TokenTrie(loaded.tokenizer, books.tokenizer.rhymes_for(rhyme_with,
                                                                      MAX_RHYME_WORDS))
    notes: list[str] = []
    if not trie:
        where = ("the model's dataset, the demo corpus, the lexicon, the Dutch word list or "
                 "its tokenizer")
        notes.append(f"no word in {where} rhymes with {goal!r}: the candidates are steered "
                     "to the syllable count only, not to a rhyme")
    return LineEnding(trie or None, low, high, books.known | own.words, notes)


def _dictionary_rhymes(word: str) -> list[str]:
    """Common Dutch words that rhyme with ``word``, commonest first (none for a word the
    dictionary cannot look up). The word list loads once, on the first rare ending."""
    from smartlap.craft.dictionary import dictionary_rhymes
    from smartlap.errors import SmartlapError

    try:
        found = dictionary_rhymes(word)
    except SmartlapError:
        return []
    return [r.word for r in found if r.zipf >= DICTIONARY_MIN_ZIPF][:MAX_RHYME_WORDS]


# --- one prompt, many continuations ------------------------------------------------------------

class PromptCache:
    """The model's state after the prompt, rewound for each continuation."""

    def __init__(self, loaded: LoadedModel, prompt_ids: list[int], room: int) -> None:
        import torch

        from smartlap.lm.fast_decode import fast_decoder_for

        self.torch = torch
        self.loaded = loaded
        self.prompt_ids = prompt_ids
        self.length = len(prompt_ids)
        self.max_length = self.length + room
        self.fast = fast_decoder_for(loaded.model, self.max_length)
        self.cache: Any = None
        self.first = self._forward(prompt_ids)[-1].clone()

    def _forward(self, ids: list[int]) -> Any:
        """Logits after each of ``ids`` (rows), appended to what the cache holds."""
        torch = self.torch
        with torch.inference_mode():
            if self.fast is not None:
                return self.fast(ids, every=True)
            input_ids = torch.tensor([ids], dtype=torch.long, device=self.loaded.device)
            result = self.loaded.model(input_ids=input_ids, past_key_values=self.cache,
                                       use_cache=True)
            self.cache = result.past_key_values
            return result.logits[0]

    def rewind(self) -> Any:
        """Back to the end of the prompt; its next-token logits."""
        if self.fast is not None:
            self.fast.rewind(self.length)
        elif self.cache is not None:
            extra = self.cache.get_seq_length() - self.length
            if extra > 0:
                self.cache.crop(-extra)  # negative: remove this many (every version reads it)
        return self.first.clone()

    def step(self, token: int) -> Any:
        return self._forward([token])[-1]

    def mean_logprob(self, ids: list[int]) -> float | None:
        """Mean log-probability of ``ids`` after the prompt (None when they do not fit)."""
        torch = self.torch
        if not ids or self.length + len(ids) > self.max_length:
            return None
        rows = [self.rewind().unsqueeze(0)]
        if len(ids) > 1:
            rows.append(self._forward(ids[:-1]))
        logits = torch.cat(rows).float()
        picked = torch.log_softmax(logits, dim=-1).gather(
            1, torch.tensor(ids, device=logits.device).unsqueeze(1))
        return float(picked.mean())


# --- sampling one line -------------------------------------------------------------------------

@dataclass
class SampledLine:
    text: str
    logprob: float
    steered: bool  # its last word was chosen from the rhyme words


def _partial_word(text: str) -> str:
    match = _PARTIAL.search(text)
    return match.group().lower() if match else ""


class _Line:
    """The steering of one line: which tokens may come next, and with what boost."""

    def __init__(self, ending: LineEnding, vocab: Vocabulary, newline: frozenset[int]) -> None:
        import torch

        self.torch = torch
        self.ending = ending
        self.vocab = vocab
        self.newline = newline
        self.node: TrieNode | None = None  # inside a rhyme word
        self.counts: set[int] = set()  # the syllables that rhyme word may have
        self.window: set[int] = set()  # the rhyme words' syllables that would land the line now
        self.room: int | None = None  # tokens left before the line's token limit
        self.steered = False

    def _only(self, row: Any, keep: Any) -> Any:
        masked = self.torch.full_like(row, -float("inf"))
        masked[keep] = row[keep]
        return masked

    def constrain(self, row: Any, text: str) -> Any:
        """The logit row with this step's masks and boosts."""
        torch = self.torch
        vocab, ending = self.vocab, self.ending
        if self.node is not None:
            keep = [t for t, child in self.node.children.items() if child.counts & self.counts]
            allowed = torch.tensor(keep, dtype=torch.long, device=row.device)
            if self.node.word is not None and word_syllables(self.node.word) in self.counts:
                allowed = torch.cat([allowed, vocab.ends])
            return self._only(row, allowed)
        count = syllables(text)
        partial = _partial_word(text)
        whole = not partial or partial in ending.known
        trie = ending.trie
        shortest = min(trie.root.counts) if trie else 0
        if ending.high is not None:
            self._mask_overshoot(row, count, ending.high + 1 - shortest)
        if trie is None:
            return self._free_ending(row, text, count, whole)
        row[vocab.blocked] = -float("inf")
        low, high = ending.low or 1, ending.high or DEFAULT_RANGE[1]
        lengths = trie.root.counts
        near = {r for r in lengths if low - 1 <= count + r <= high + 1}
        exact = {r for r in lengths if low <= count + r <= high}
        late = self.room is not None and self.room <= trie.depth + 1
        passed = not near and (count + shortest > high + 1 or late)
        self.window = near or ({shortest} if passed else set())
        if self.window and (passed or late or count + 1 + shortest > high):
            # one more free word would overshoot: a rhyme word starts here
            keep = torch.tensor(trie.starts(self.window), dtype=torch.long, device=row.device)
            if not whole and not late:
                keep = torch.cat([keep, vocab.continues])
            row = self._only(row, keep)
        self._boost(row, exact, BOOST_EXACT)
        self._boost(row, near - exact, BOOST_NEAR)
        return row

    def _boost(self, row: Any, counts: set[int], amount: float) -> None:
        if counts and self.ending.trie is not None:
            starts, priors = self.ending.trie.priors(counts)
            if starts:
                row[starts] += self.torch.tensor(priors, dtype=row.dtype,
                                                 device=row.device) + amount

    def _mask_overshoot(self, row: Any, count: int, limit: int) -> None:
        """Free word starts among the likeliest whose syllables alone pass ``limit``."""
        width = min(LOOKAHEAD, row.numel())
        starts = set(self.ending.trie.root.children) if self.ending.trie else set()
        for token in self.torch.topk(row, width).indices.tolist():
            if self.vocab.word_start[token] and token not in starts and \
                    count + word_syllables(self.vocab.texts[token]) > limit:
                row[token] = -float("inf")

    def _free_ending(self, row: Any, text: str, count: int, whole: bool) -> Any:
        """No rhyme to land: end the line on a newline inside the syllable range."""
        vocab, ending = self.vocab, self.ending
        has_words = bool(tokens(text))
        low = ending.low if ending.low is not None else 1
        if ending.high is not None and count >= ending.high and whole and has_words:
            return self._only(row, vocab.newline)
        newline = row[vocab.newline].clone()
        row[vocab.blocked] = -float("inf")
        if has_words and count >= low:
            row[vocab.newline] = newline
        return row

    def advance(self, token: int) -> bool:
        """Take the chosen token; True when it ends the line."""
        if self.node is not None:
            child = self.node.children.get(token)
            if child is None:
                return True  # an end token after a whole rhyme word
            self.node = child
            return False
        trie = self.ending.trie
        if trie is not None and token in trie.root.children:
            counts = trie.root.children[token].counts & self.window
            if counts:
                self.node, self.counts, self.steered = trie.root.children[token], counts, True
                return False
        return token in self.newline


def sample_lines(loaded: LoadedModel, prompt: str, settings: GenerationSettings, count: int,
                 ending: LineEnding) -> list[SampledLine]:
    """``count`` next lines after ``prompt`` (the model's own text), steered to ``ending``.

    A line has at most ``settings.max_new_tokens`` tokens (and ``LINE_TOKEN_LIMIT``); near
    that limit its rhyme word starts whatever the count.
    """
    import torch

    from smartlap.lm.generation import _plan, _sample_seed, _Sampler

    vocab = vocabulary(loaded)
    limit = min(settings.max_new_tokens, LINE_TOKEN_LIMIT)
    plan = _plan(loaded, prompt, replace(settings, max_new_tokens=limit + 8))
    newline_set = frozenset(vocab.newline.tolist())
    tokenizer = loaded.tokenizer
    lines: list[SampledLine] = []
    with torch.inference_mode():
        cache = PromptCache(loaded, plan.prompt_ids, limit + 8)
        for index in range(count):
            sampler = _Sampler(loaded, settings, _sample_seed(settings, index), plan.prompt_ids)
            state = _Line(ending, vocab, newline_set)
            logits = cache.rewind()
            ids: list[int] = []
            text = ""
            tail = ""
            for _ in range(limit):
                state.room = limit - len(ids)
                row = state.constrain(logits.float().clone(), text)
                token = sampler.pick(row.clone())
                if not bool(torch.isfinite(row[token])):
                    token = int(torch.argmax(row))  # the sampler's own filters left nothing
                sampler.observe(token)
                if state.advance(token):
                    tail = vocab.texts[token].split("\n", 1)[0]
                    break
                ids.append(token)
                text = tokenizer.decode(ids, skip_special_tokens=True,
                                        clean_up_tokenization_spaces=False)
                logits = cache.step(token)
            line = " ".join((text + tail).split())
            if not tokens(line):
                continue
            score = cache.mean_logprob(tokenizer.encode(line + "\n", add_special_tokens=False))
            if score is None:
                from smartlap.lm.constrained import line_logprob

                score = line_logprob(loaded, prompt, line)
            lines.append(SampledLine(line, score, state.steered))
    return lines
