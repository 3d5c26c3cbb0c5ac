"""Checkpoint comparison: one prompt, one seed, one set of sampling settings, many models.

What training bought a person is only visible side by side: the same prompt and seed
through the base model and each checkpoint, beside each model's validation loss on one
dataset. The CLI (``smartlap compare``) and the studio's Compare view both run
``compare_models``; it loads one model at a time (a 12 GB card holds one medium model,
not three), and a model that fails to load or generate becomes a result with an error
while the others still run.

Token losses are only comparable between models that share a tokenizer, so each result
also carries bits per character of the same validation text, which is comparable across
tokenizers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from smartlap.errors import NotFoundError, SmartlapError, UsageError

if TYPE_CHECKING:
    from smartlap.events import Token
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.loading import LoadedModel
    from smartlap.store.models import ModelInfo
    from smartlap.styles import Style

DEFAULT_SEED = 42
DEFAULT_DATASET = "demo"
MAX_EVAL_SONGS = 64  # validation songs scored per model: enough to rank, quick on a CPU
EVAL_BLOCK_SIZE = 256


@dataclass
class ModelResult:
    """One model's column: its figures, its samples and the lines it copied."""

    model: str
    origin: str | None = None
    base: str | None = None
    trained_on: str | None = None
    val_loss: float | None = None
    perplexity: float | None = None
    bits_per_char: float | None = None
    eval_tokens: int = 0
    samples: list[str] = field(default_factory=list)
    copied_lines: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None

    @property
    def tokens_per_second(self) -> float | None:
        return round(self.tokens / self.seconds, 1) if self.seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens_per_second"] = self.tokens_per_second
        return data

    def figure_lines(self) -> list[str]:
        """The plain figure lines of this model's column (the CLI table and the studio)."""
        from smartlap.units import table_cell

        if self.error:
            return [f"failed: {self.error}"] + ([self.hint] if self.hint else [])
        lines = [f"val loss {table_cell(self.val_loss, 3)} · ppl {table_cell(self.perplexity, 1)}",
                 f"bits/char {table_cell(self.bits_per_char, 3)}",
                 f"{table_cell(self.tokens_per_second, 1)} tokens/s"]
        if self.trained_on:
            lines.append(f"trained on {self.trained_on}")
        copied = len(self.copied_lines)
        lines.append(f"{copied} copied line{'s' if copied != 1 else ''}" if copied
                     else "no copied lines")
        return lines


@dataclass
class Comparison:
    """What every model gets: the same prompt, settings (seed included) and dataset."""

    prompt: str
    settings: GenerationSettings
    dataset: str
    style: Style | None = None
    device: str | None = None
    precision: str | None = "auto"
    trust_remote_code: bool = False
    allow_pickle: bool = False
    originality: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "dataset": self.dataset,
                "style": self.style.name if self.style is not None else None,
                "settings": self.settings.to_dict()}


def resolve_models(names: Sequence[str]) -> list[ModelInfo]:
    """Every named model, found before any is loaded: a typo should not cost a long load."""
    from smartlap.store.models import get_model

    if len(names) < 2:
        raise UsageError("A comparison needs at least two models.",
                         "Name a base model and a checkpoint, e.g. 'smartlap compare "
                         "smartlap-mini my-checkpoint'; 'smartlap models list' shows them.")
    infos = [get_model(name) for name in names]
    seen: dict[str, str] = {}
    for name, info in zip(names, infos, strict=True):
        if info.name in seen:
            raise UsageError(f"{name!r} names the same model as {seen[info.name]!r}.",
                             "Name each model once.")
        seen[info.name] = name
    return infos


def default_dataset(infos: Sequence[ModelInfo]) -> str:
    """The dataset the checkpoints were trained on (the first still stored), else demo.

    One dataset for every column, so the losses are comparable.
    """
    from smartlap.store.datasets import get_dataset

    for info in infos:
        if info.dataset:
            try:
                return get_dataset(info.dataset).name
            except NotFoundError:
                continue
    return DEFAULT_DATASET


def validation_texts(dataset: str, max_songs: int = MAX_EVAL_SONGS) -> list[str]:
    """The validation songs every model is scored on (train songs lent if there are none)."""
    from smartlap.lm.train.data import load_splits

    _, val = load_splits(dataset)
    return val[:max_songs]


def validation_loss(loaded: LoadedModel, texts: Sequence[str],
                    block_size: int = EVAL_BLOCK_SIZE) -> tuple[float | None, float | None, int]:
    """(token-weighted loss, bits per character, scored tokens) of ``texts`` under a model.

    Songs are packed into blocks as in training, so a checkpoint's figure here matches the
    validation loss its run recorded on the same split.
    """
    import torch

    from smartlap.lm.train.data import IGNORE_INDEX, pack, summed_block_loss, token_stream

    if not texts:
        return None, None, 0
    tokenizer = loaded.tokenizer
    size = max(8, min(block_size, loaded.context_length))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    blocks = pack(token_stream(tokenizer, texts), size, pad_id)
    model = loaded.model

    def mean_loss(batch: dict[str, Any]) -> Any:  # from the logits: every loaded model gives them
        logits = model(input_ids=batch["input_ids"],
                       attention_mask=batch["attention_mask"]).logits
        return torch.nn.functional.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(), batch["labels"][:, 1:].flatten(),
            ignore_index=IGNORE_INDEX)

    with torch.no_grad():
        nll, count = summed_block_loss(blocks, range(len(blocks)), 8, loaded.device, mean_loss)
    if not count:
        return None, None, 0
    chars = sum(len(text) + 1 for text in texts)  # +1: the end of each song is predicted too
    return nll / count, nll / math.log(2) / chars, count


def _record_sample(result: ModelResult, copies: Any, prompt: str, number: int,
                   text: str) -> None:
    result.samples.append(text)
    if copies is None:
        return
    for row, match in copies.rows(text, prompt):
        result.copied_lines.append({"sample": number, "row": row, **match.to_dict()})
    if copies.skipped and copies.skipped not in result.notes:
        result.notes.append(copies.skipped)


def compare_one(info: ModelInfo, comparison: Comparison, texts: Sequence[str], *,
                stop: threading.Event | None = None,
                on_token: Callable[[Token], None] | None = None) -> ModelResult:
    """Load one model, score it, generate from it; a failure becomes the result's error."""
    from smartlap.craft.originality import CopyCheck
    from smartlap.events import SampleEnd, Token
    from smartlap.lm.device import release_memory
    from smartlap.lm.generation import stream_generate
    from smartlap.lm.loading import load_model

    result = ModelResult(model=info.name, origin=info.origin, base=info.base,
                         trained_on=info.dataset)
    loaded = None
    try:
        # lean, as generate loads: a comparison only scores and generates
        loaded = load_model(info.name, device=comparison.device,
                            precision=comparison.precision,
                            trust_remote_code=comparison.trust_remote_code,
                            allow_pickle=comparison.allow_pickle, lean=True)
        loss, bits, count = validation_loss(loaded, texts)
        if loss is not None:
            result.val_loss = round(loss, 4)
            result.perplexity = round(math.exp(min(loss, 50)), 2)
            result.bits_per_char = round(bits, 4) if bits is not None else None
        result.eval_tokens = count
        copies = CopyCheck(info) if comparison.originality else None
        stream = stream_generate(loaded, comparison.prompt, comparison.settings, stop=stop,
                                 style=comparison.style)
        with closing(stream):  # a Ctrl+C mid-model joins the decode thread here
            for event in stream:
                if isinstance(event, Token):
                    if on_token is not None:
                        on_token(event)
                elif isinstance(event, SampleEnd):
                    result.tokens += event.tokens
                    result.seconds += event.seconds
                    result.notes.extend(note for note in event.notes if note not in result.notes)
                    _record_sample(result, copies, comparison.prompt, event.sample,
                                   event.text or "")
    except SmartlapError as error:
        result.error, result.hint = error.message, error.hint
    except Exception as error:  # one model's failure must not end the others
        from smartlap.lm.device import is_out_of_memory

        if not is_out_of_memory(error):
            raise
        result.error = f"{info.name} ran out of memory."
        result.hint = "Use --device cpu, or compare smaller models."
    finally:
        loaded = None  # the last reference: one model on the card at a time
        release_memory()
    result.seconds = round(result.seconds, 3)
    return result


def compare_models(infos: Sequence[ModelInfo], comparison: Comparison, *,
                   stop: threading.Event | None = None,
                   on_start: Callable[[int, ModelInfo], None] | None = None,
                   on_token: Callable[[int, Token], None] | None = None,
                   ) -> Iterator[tuple[int, ModelResult]]:
    """(column, result) for each model in order; stops between models once ``stop`` is set."""
    texts = validation_texts(comparison.dataset)
    for column, info in enumerate(infos):
        if stop is not None and stop.is_set():
            return
        if on_start is not None:
            on_start(column, info)

        def token_sink(token: Token, column: int = column) -> None:
            if on_token is not None:
                on_token(column, token)

        yield column, compare_one(info, comparison, texts, stop=stop, on_token=token_sink)
