"""Streaming generation: tokens as the model produces them, for the CLI and the studio alike.

A worker thread runs a lean decode loop (KV cache, one forward per token) and puts token ids
on a queue; ``stream_generate`` — in the caller's thread — turns them into text and yields
``events.Token`` and ``events.SampleEnd``. The loop is ours rather than ``model.generate``
so that each call has its own ``torch.Generator`` (same seed, same text, even with other
generations running in other threads), a stop request is seen before every token, and
nothing runs per step that is not needed.

Output hygiene: special tokens are never sampled (EOS ends the sample instead), embedding
rows the tokenizer cannot decode are masked, text is released only at whole UTF-8
characters, and a line that comes back more than the style allows outside its refrein is
held back and cut (see ``LineGuard``), so the concatenated stream always equals the final
text.
"""

from __future__ import annotations

import atexit
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from smartlap.errors import ModelError
from smartlap.events import Event, SampleEnd, Token
from smartlap.limits import check_samples, check_seed, limit_problem, out_of_range
from smartlap.lm.device import is_out_of_memory

if TYPE_CHECKING:
    from smartlap.lm.loading import LoadedModel
    from smartlap.styles import Style

DEFAULT_MAX_LINE_REPEATS = 2
REFREIN_HEADER = re.compile(r"^\W*(refrein|refrain|chorus)\b", re.IGNORECASE)
_POLL_SECONDS = 0.05


# setting -> (is it usable, the range in words): the one table of sampling limits, worded
# without a CLI flag so every front end (CLI, studio dialog, config.toml) says the same.
GENERATION_LIMITS: dict[str, tuple[Callable[[float], bool], str]] = {
    "temperature": (lambda v: v >= 0, "0 or more (0 = greedy)"),
    "top_k": (lambda v: v >= 0, "0 (off) or more"),
    "top_p": (lambda v: 0 < v <= 1, "above 0 and at most 1"),
    "repetition_penalty": (lambda v: v > 0, "above 0 (1 = off)"),
    "no_repeat_ngram_size": (lambda v: v >= 0, "0 (off) or more"),
    "max_new_tokens": (lambda v: v >= 1, "at least 1"),
}
WHOLE_GENERATION_SETTINGS = frozenset({"top_k", "no_repeat_ngram_size", "max_new_tokens"})


def generation_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the sampling setting ``key``, in words without a flag; None
    when it can, or when it is None (not set)."""
    return limit_problem(GENERATION_LIMITS, WHOLE_GENERATION_SETTINGS, key, value,
                         integral_floats=True)


@dataclass
class GenerationSettings:
    """Sampling settings; ``temperature == 0`` means greedy decoding."""

    temperature: float = 0.9
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.1
    no_repeat_ngram_size: int = 0
    max_new_tokens: int = 200
    seed: int | None = None
    samples: int = 1

    def validate(self) -> GenerationSettings:
        """Itself, or a UsageError naming the first setting out of range (its flag in the
        hint: the words are ``generation_problem``'s, which the studio's dialog shows too)."""
        for key in GENERATION_LIMITS:
            problem = generation_problem(key, getattr(self, key))
            if problem:
                raise out_of_range(key, problem, "generate")
        check_samples(self.samples)
        check_seed(self.seed)
        return self

    @classmethod
    def from_style(cls, style: Style | None = None, **overrides: Any) -> GenerationSettings:
        """Defaults, then the style's sampling defaults, then explicit (non-None) overrides."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        if style is not None:
            values.update({k: v for k, v in style.sampling.items() if k in known})
        values.update({k: v for k, v in overrides.items() if k in known and v is not None})
        return cls(**values).validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- text hygiene -----------------------------------------------------------------------------

class IncrementalDecoder:
    """Turn token ids into text deltas that never split a multi-byte character.

    Decodes a short window of recent ids and releases only the part that grew and does not
    end in U+FFFD (an incomplete UTF-8 sequence); works for byte-level BPE and
    sentencepiece tokenizers alike.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.prefix_offset = 0
        self.read_offset = 0

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True,
                                     clean_up_tokenization_spaces=False)

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        before = self._decode(self.ids[self.prefix_offset:self.read_offset])
        after = self._decode(self.ids[self.prefix_offset:])
        if len(after) > len(before) and not after.endswith("\ufffd"):
            self.prefix_offset = self.read_offset
            self.read_offset = len(self.ids)
            return after[len(before):]
        return ""

    def flush(self) -> str:
        """Whatever is still held back at the end (a truly broken byte sequence, if any)."""
        before = self._decode(self.ids[self.prefix_offset:self.read_offset])
        after = self._decode(self.ids[self.prefix_offset:])
        self.prefix_offset = self.read_offset = len(self.ids)
        return after[len(before):]


def _normalise_line(line: str) -> str:
    text = unicodedata.normalize("NFC", line).casefold()
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    return " ".join(text.split())


class LineGuard:
    """Song-aware repetition: a line may occur ``max_repeats`` times outside the refrein.

    Text passes through ``feed``; the current unfinished line is held back only while it
    could still become a line that already reached its limit, so ordinary text streams
    at once. When such a line completes, it is dropped and ``cut`` says why. Lines inside a
    refrein (after a ``Refrein:`` header, up to a blank line) may repeat across refreinen,
    but not more than ``max_repeats`` times within one.
    """

    def __init__(self, max_repeats: int = DEFAULT_MAX_LINE_REPEATS,
                 refrein_allowed: bool = True) -> None:
        self.max_repeats = max_repeats
        self.refrein_allowed = refrein_allowed
        self.counts: dict[str, int] = {}
        self.refrein_counts: dict[str, int] = {}
        self.in_refrein = False
        self.line = ""  # the current unfinished line
        self.held = ""  # its tail not shown yet
        self.cut: str | None = None

    def _table(self) -> dict[str, int]:
        return self.refrein_counts if self.in_refrein else self.counts

    def _at_limit(self) -> list[str]:
        return [line for line, n in self._table().items() if n >= self.max_repeats]

    def _finish_line(self, line: str) -> bool:
        """Account for a completed line; False if it must be cut."""
        key = _normalise_line(line)
        if not key:
            self.in_refrein = False
            self.refrein_counts = {}
            return True
        if self.refrein_allowed and REFREIN_HEADER.match(line) and len(key.split()) <= 2:
            self.in_refrein = True
            self.refrein_counts = {}
            return True
        table = self._table()
        if table.get(key, 0) >= self.max_repeats:
            self.cut = line.strip()
            return False
        table[key] = table.get(key, 0) + 1
        return True

    def _could_repeat(self, partial: str) -> bool:
        key = _normalise_line(partial)
        return bool(key) and any(line.startswith(key) for line in self._at_limit())

    def feed(self, text: str) -> str:
        """Take new text; return what may be shown now (nothing more once a line is cut)."""
        if self.cut is not None:
            return ""
        released: list[str] = []
        for piece in re.split(r"(\n)", text):
            if piece == "\n":
                if not self._finish_line(self.line):
                    self.line = self.held = ""
                    return "".join(released)
                released.append(self.held + "\n")
                self.line = self.held = ""
            elif piece:
                self.line += piece
                self.held += piece
                if not self._could_repeat(self.line):
                    released.append(self.held)
                    self.held = ""
        return "".join(released)

    def close(self) -> str:
        """The end of the sample: the last unfinished line, unless it is a cut repeat."""
        if self.cut is not None or not self.line:
            return ""
        key = _normalise_line(self.line)
        if key and self._table().get(key, 0) >= self.max_repeats:
            self.cut = self.line.strip()
            return ""
        tail, self.line, self.held = self.held, "", ""
        return tail


# --- the decode loop ---------------------------------------------------------------------------

@dataclass
class _Plan:
    """What one sample feeds the model and how far it may go."""

    prompt_ids: list[int]
    max_new_tokens: int
    notes: list[str]


def _plan(loaded: LoadedModel, prompt: str, settings: GenerationSettings) -> _Plan:
    tokenizer = loaded.tokenizer
    context = loaded.context_length
    notes: list[str] = []
    max_new = settings.max_new_tokens
    if max_new >= context:
        max_new = context - 1
        notes.append(f"max new tokens lowered to {max_new}: the model's context is {context} "
                     "tokens")
    ids = tokenizer.encode(prompt, add_special_tokens=False) if prompt else []
    if not ids:  # unconditional: start from end-of-text, as GPT-2 was trained
        ids = [tokenizer.bos_token_id if tokenizer.bos_token_id is not None
               else tokenizer.eos_token_id]
    room = context - max_new
    if len(ids) > room:
        notes.append(f"prompt left-truncated: kept its last {room} of {len(ids)} tokens "
                     f"(context {context}, max new tokens {max_new})")
        ids = ids[-room:]
    return _Plan(ids, max_new, notes)


class _Sampler:
    """Temperature, top-k, top-p, repetition penalty and n-gram blocking on one logit row."""

    def __init__(self, loaded: LoadedModel, settings: GenerationSettings, seed: int,
                 prompt_ids: list[int]) -> None:
        import torch

        self.torch = torch
        self.settings = settings
        vocab = loaded.model.get_input_embeddings().num_embeddings
        device = loaded.device
        self.generator = torch.Generator(device=device).manual_seed(seed)
        tokenizer = loaded.tokenizer
        banned = {i for i in tokenizer.all_special_ids if i != tokenizer.eos_token_id}
        banned.update(loaded.vocab_surplus_ids)
        banned = {i for i in banned if 0 <= i < vocab}
        self.banned = torch.tensor(sorted(banned), dtype=torch.long, device=device)
        self.device = device
        self.history = list(prompt_ids)
        # Seen ids as a short list: the penalty touches those rows, not the whole vocabulary.
        self.seen = set(self.history)
        self.seen_ids = torch.tensor(sorted(self.seen), dtype=torch.long, device=device)
        self.ngrams: dict[tuple[int, ...], set[int]] = {}
        n = settings.no_repeat_ngram_size
        if n > 0:
            for end in range(n, len(self.history) + 1):
                self._add_ngram(self.history[end - n:end])

    def _add_ngram(self, gram: list[int]) -> None:
        self.ngrams.setdefault(tuple(gram[:-1]), set()).add(gram[-1])

    def observe(self, token_id: int) -> None:
        self.history.append(token_id)
        if token_id not in self.seen:
            self.seen.add(token_id)
            self.seen_ids = self.torch.cat(
                [self.seen_ids, self.torch.tensor([token_id], device=self.device)])
        n = self.settings.no_repeat_ngram_size
        if n > 0 and len(self.history) >= n:
            self._add_ngram(self.history[-n:])

    def pick(self, logits: Any) -> int:
        torch = self.torch
        s = self.settings
        logits = logits.float()
        if self.banned.numel():
            logits[self.banned] = -float("inf")
        if s.repetition_penalty != 1.0 and self.seen_ids.numel():
            seen = logits[self.seen_ids]
            logits[self.seen_ids] = torch.where(seen < 0, seen * s.repetition_penalty,
                                                seen / s.repetition_penalty)
        n = s.no_repeat_ngram_size
        if n > 0 and len(self.history) >= n - 1:
            blocked = self.ngrams.get(tuple(self.history[len(self.history) - n + 1:]))
            if blocked:
                logits[list(blocked)] = -float("inf")
        if s.temperature == 0:
            return int(torch.argmax(logits))
        if s.top_k > 0 and s.top_k < logits.numel():
            values, indices = torch.topk(logits, s.top_k)
        else:
            values, indices = torch.sort(logits, descending=True)
        values = values / s.temperature  # after top-k: the same order, k values not all
        if s.top_p < 1.0:
            probs = torch.softmax(values, dim=-1)
            keep = torch.cumsum(probs, dim=-1) - probs < s.top_p  # always keeps the best
            values, indices = values[keep], indices[keep]
        probs = torch.softmax(values, dim=-1)
        if not bool(torch.isfinite(probs).all()) or float(probs.sum()) <= 0:
            return int(indices[0])
        choice = torch.multinomial(probs, 1, generator=self.generator)
        return int(indices[choice])


_DONE = object()


def _next_token_logits(loaded: LoadedModel, max_length: int) -> Callable[[list[int]], Any]:
    """A function from new token ids to the next token's logits, keeping its own cache.

    smartlap's lean decoder for GPT-2 and GPT-Neo (``fast_decode``), else transformers'
    forward with its KV cache.
    """
    import torch

    from smartlap.lm.fast_decode import fast_decoder_for

    decoder = fast_decoder_for(loaded.model, max_length)
    if decoder is not None:
        return decoder
    model = loaded.model
    cache: list[Any] = [None]

    def forward(ids: list[int]) -> Any:
        input_ids = torch.tensor([ids], dtype=torch.long, device=loaded.device)
        result = model(input_ids=input_ids, past_key_values=cache[0], use_cache=True,
                       logits_to_keep=1)
        cache[0] = result.past_key_values
        return result.logits[0, -1]

    return forward


def _decode_loop(loaded: LoadedModel, plan: _Plan, sampler: _Sampler, out: queue.Queue,
                 halt: threading.Event, stop: threading.Event) -> None:
    """The worker: prefill, then one forward per token; ids (or an error) go to ``out``.

    ``stop`` (the caller's) and ``halt`` (this sample's: a cut or an abandoned stream) are
    checked before and after every token, so a request ends it within one token.
    """
    import torch

    eos = loaded.tokenizer.eos_token_id
    try:
        with torch.inference_mode():
            forward = _next_token_logits(loaded, len(plan.prompt_ids) + plan.max_new_tokens)
            logits = forward(plan.prompt_ids)
            for _ in range(plan.max_new_tokens):
                if halt.is_set() or stop.is_set():
                    out.put(("stopped", None))
                    return
                token_id = sampler.pick(logits)
                if token_id == eos:
                    out.put(("eos", None))
                    return
                sampler.observe(token_id)
                out.put(("token", token_id))
                if halt.is_set() or stop.is_set():
                    out.put(("stopped", None))
                    return
                logits = forward([token_id])
            out.put(("length", None))
    except BaseException as exc:  # handed to the consumer, which raises it as a ModelError
        out.put(("error", exc))
    finally:
        out.put((_DONE, None))


def _sample_seed(settings: GenerationSettings, index: int) -> int:
    if settings.seed is None:
        import random

        return random.SystemRandom().randrange(2**31)
    return settings.seed + index


def _raise_worker_error(exc: BaseException) -> None:
    if is_out_of_memory(exc):
        raise ModelError("Ran out of memory while generating.",
                         "Lower --max-new-tokens, use a smaller model, or --device cpu.")
    raise ModelError(f"Generation failed: {exc}", "Run with --debug for the details.") from exc


def stream_generate(loaded: LoadedModel, prompt: str = "",
                    settings: GenerationSettings | None = None,
                    stop: threading.Event | None = None,
                    style: Style | None = None) -> Iterator[Event]:
    """Yield ``Token`` events as text appears and one ``SampleEnd`` per sample.

    ``stop`` (a ``threading.Event``, settable from any thread) ends the current sample
    within one token with reason ``stopped`` and skips the remaining samples. With a
    ``style``, its prompt scaffold is applied and its refrein/repetition rule is used.
    Closing the iterator early also stops the worker.
    """
    settings = (settings or GenerationSettings()).validate()
    stop = stop or threading.Event()
    full_prompt = style.scaffold_prompt(prompt) if style is not None else prompt
    max_repeats = style.max_line_repeats if style is not None else DEFAULT_MAX_LINE_REPEATS
    refrein = style.has_refrein if style is not None else True
    for index in range(settings.samples):
        if stop.is_set():
            return
        number = index + 1
        plan = _plan(loaded, full_prompt, settings)
        seed = _sample_seed(settings, index)
        sampler = _Sampler(loaded, settings, seed, plan.prompt_ids)
        yield from _one_sample(loaded, plan, sampler, number, stop,
                               LineGuard(max_repeats, refrein))


# Decode threads still running, each with its halt event. A thread left inside torch when the
# interpreter exits aborts the process ("terminate called without an active exception",
# exit -6), so an abandoned stream's thread is stopped and joined at exit, whoever forgot
# to close it.
_LIVE_DECODES: dict[threading.Thread, threading.Event] = {}


@atexit.register
def _stop_decodes_at_exit() -> None:
    live = list(_LIVE_DECODES.items())
    for _, halt in live:
        halt.set()
    for worker, _ in live:
        worker.join(timeout=10)


def _join_through_interrupts(worker: threading.Thread, stop: threading.Event) -> None:
    """Wait for the decode thread even through Ctrl+C or SIGTERM, then re-raise them.

    A thread still inside torch when the interpreter exits aborts the whole process
    ("terminate called without an active exception", exit -6) instead of the clean stop.
    """
    interrupted: BaseException | None = None
    while worker.is_alive():
        try:
            worker.join()
        except BaseException as exc:  # KeyboardInterrupt (or Terminated) during the wait
            stop.set()
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _one_sample(loaded: LoadedModel, plan: _Plan, sampler: _Sampler, number: int,
                stop: threading.Event, guard: LineGuard) -> Iterator[Event]:
    out: queue.Queue = queue.Queue()
    halt = threading.Event()  # stop for this sample only: user stop, cut, or abandoned
    started = time.perf_counter()
    worker = threading.Thread(target=_decode_loop, args=(loaded, plan, sampler, out, halt, stop),
                              name=f"smartlap-generate-{number}", daemon=True)
    _LIVE_DECODES[worker] = halt
    worker.start()
    decoder = IncrementalDecoder(loaded.tokenizer)
    pieces: list[str] = []
    first: float | None = None
    tokens = 0
    reason = "length"
    try:
        while True:
            try:
                kind, value = out.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if kind is _DONE:
                break
            if kind == "error":
                _raise_worker_error(value)
            if kind != "token":
                reason = kind
                continue
            tokens += 1
            if guard.cut is not None:
                continue  # the worker is stopping; drop what it made meanwhile
            shown = guard.feed(decoder.push(value))
            if guard.cut is not None:
                halt.set()
            if shown:
                if first is None:
                    first = time.perf_counter() - started
                pieces.append(shown)
                yield Token(text=shown, sample=number)
        tail = guard.feed(decoder.flush()) + guard.close()
        if tail:
            if first is None:
                first = time.perf_counter() - started
            pieces.append(tail)
            yield Token(text=tail, sample=number)
    finally:
        halt.set()
        _join_through_interrupts(worker, stop)
        _LIVE_DECODES.pop(worker, None)
    notes = list(plan.notes)
    if guard.cut is not None:
        reason = "repetition"
        notes.append(f"cut the line {guard.cut!r}: it came more than {guard.max_repeats} "
                     "times outside the refrein")
    yield SampleEnd(reason=reason, tokens=tokens, seconds=time.perf_counter() - started,
                    time_to_first_token=first, sample=number, text="".join(pieces),
                    notes=notes)


def generate_text(loaded: LoadedModel, prompt: str = "",
                  settings: GenerationSettings | None = None,
                  style: Style | None = None) -> list[SampleEnd]:
    """Non-streaming convenience: run ``stream_generate`` and return the SampleEnd events."""
    return [e for e in stream_generate(loaded, prompt, settings, style=style)
            if isinstance(e, SampleEnd)]
