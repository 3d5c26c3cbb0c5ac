"""What a training run is: its options, and defaults that fit the model on a 12 GB GPU.

The person names only a model and a dataset; everything else gets a default chosen from the
model's size and the training mode, so ``smartlap train --model gpt2-medium-dutch`` does not
run out of memory on an RTX 3060. No torch here: the CLI builds a config before the heavy
imports happen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smartlap.errors import UsageError
from smartlap.limits import check_seed, limit_problem, out_of_range

MODES = ("full", "embeddings", "lora")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEFAULT_SAMPLE_PROMPT = "ferry is een grappige man\nsmartlappen maken is zijn plan"
# What ``--resume`` may change: none of them alters what the saved state means. ``epochs``
# lengthens or shortens the run, ``patience`` only decides when it stops, ``device`` lets a
# run move to another GPU (or the CPU) when the old one is gone or busy.
RESUME_CHANGES = ("epochs", "patience", "device")
LORA_OPTIONS = ("lora_rank", "lora_alpha", "lora_dropout", "lora_targets")

# The numeric settings' limits, worded without any front end's spelling: ``validate`` says
# "lora dropout must be from 0 to below 1, e.g. 0.05." (the CLI's flag goes in the hint) and
# the studio's Train form shows the same words under its field (``setting_problem``).
WHOLE_SETTINGS = ("epochs", "batch_size", "grad_accum", "block_size", "sample_tokens",
                  "patience", "lora_rank")
SETTING_LIMITS: dict[str, tuple[Callable[[float], bool], str]] = {
    "epochs": (lambda v: v >= 1, "at least 1"),
    "batch_size": (lambda v: v >= 1, "at least 1"),
    "grad_accum": (lambda v: v >= 1, "at least 1"),
    "block_size": (lambda v: v >= 8, "at least 8 tokens"),
    "sample_tokens": (lambda v: v >= 1, "at least 1"),
    "lr": (lambda v: 0 < v < 1, "between 0 and 1, e.g. 5e-5"),
    "patience": (lambda v: v >= 1, "at least 1"),
    "lora_rank": (lambda v: 1 <= v <= 1024, "from 1 to 1024 (8-64 is usual)"),
    "lora_alpha": (lambda v: 0 < v <= 4096, "above 0 and at most 4096 (usually 1-2x the rank)"),
    "lora_dropout": (lambda v: 0 <= v < 1, "from 0 to below 1, e.g. 0.05"),
}


def setting_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the run setting ``key`` (``SETTING_LIMITS`` or the seed's
    range), in words without a flag; None when it can, or when it is None (not set)."""
    return limit_problem(SETTING_LIMITS, WHOLE_SETTINGS, key, value)


def _check_setting(config: Any, key: str) -> None:
    problem = setting_problem(key, getattr(config, key))
    if problem:
        raise out_of_range(key, problem, "train")


@dataclass
class TrainConfig:
    """Every knob of a run; ``None`` means "choose from the model size" (see ``resolve``)."""

    model: str
    dataset: str
    name: str | None = None
    epochs: int = 10
    lr: float | None = None
    batch_size: int | None = None
    grad_accum: int | None = None
    block_size: int | None = None
    mode: str = "full"
    precision: str = "auto"
    gradient_checkpointing: bool | None = None
    patience: int | None = 3
    seed: int = 42
    sample_prompt: str = DEFAULT_SAMPLE_PROMPT
    sample_tokens: int = 48
    device: str | None = None
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    max_grad_norm: float = 1.0
    lora_rank: int = 8
    lora_alpha: float | None = None  # None: twice the rank
    lora_dropout: float = 0.05
    lora_targets: list[str] | None = None  # None: the architecture's projections
    max_songs: int | None = None  # train on a slice of the dataset (tests, quick tries)
    from_scratch: bool = False
    preset: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_resume_changes(self, changes: dict[str, Any]) -> TrainConfig:
        """This saved config with the few settings a resume may change (``RESUME_CHANGES``)."""
        unknown = sorted(set(changes) - set(RESUME_CHANGES))
        if unknown:
            raise UsageError(f"A resumed run cannot change {', '.join(unknown)}.",
                             "Start a new run to use other settings.")
        return dataclasses.replace(self, **changes)

    def validate(self) -> TrainConfig:
        if self.mode not in MODES:
            raise UsageError(f"Unknown mode {self.mode!r}.", f"Use one of {', '.join(MODES)}.")
        if self.precision not in PRECISIONS:
            raise UsageError(f"Unknown precision {self.precision!r}.",
                             f"Use one of {', '.join(PRECISIONS)}.")
        for key in SETTING_LIMITS:
            if key not in LORA_OPTIONS:
                _check_setting(self, key)
        self._validate_lora()
        check_seed(self.seed)
        return self

    def _validate_lora(self) -> None:
        defaults = TrainConfig(model="", dataset="")
        changed = [f"--{key.replace('_', '-')}" for key in LORA_OPTIONS
                   if getattr(self, key) != getattr(defaults, key)]
        if changed and self.mode != "lora":
            verb = "only applies" if len(changed) == 1 else "only apply"
            raise UsageError(f"{', '.join(changed)} {verb} with --mode lora.",
                             "Add --mode lora, or drop them.")
        for key in ("lora_rank", "lora_alpha", "lora_dropout"):
            _check_setting(self, key)
        if self.lora_targets is not None and not [t for t in self.lora_targets if t.strip()]:
            raise UsageError("--lora-targets needs at least one module name.",
                             "e.g. --lora-targets c_attn,c_proj for GPT-2.")


@dataclass(frozen=True)
class SizeDefaults:
    batch_size: int
    grad_accum: int
    block_size: int
    gradient_checkpointing: bool
    lr_full: float


# Upper parameter bound -> defaults. Memory for full fine-tuning with AdamW in mixed precision
# is ~18 bytes/parameter plus activations: 124M ~ 2.2 GB + activations fits batch 8 x 512;
# 355M ~ 6.4 GB needs gradient checkpointing to keep batch 4 x 512 inside 12 GB.
SIZE_TABLE: tuple[tuple[float, SizeDefaults], ...] = (
    (50e6, SizeDefaults(8, 1, 256, False, 5e-4)),
    (200e6, SizeDefaults(8, 1, 512, False, 5e-5)),
    (500e6, SizeDefaults(4, 2, 512, True, 3e-5)),
    (float("inf"), SizeDefaults(1, 8, 512, True, 2e-5)),
)
LR_BY_MODE = {"embeddings": 5e-4, "lora": 2e-4}


def size_defaults(params: int) -> SizeDefaults:
    for bound, defaults in SIZE_TABLE:
        if params <= bound:
            return defaults
    return SIZE_TABLE[-1][1]


def resolve(config: TrainConfig, params: int, context_length: int) -> TrainConfig:
    """Fill every ``None`` from the model's size; the block never exceeds the context."""
    defaults = size_defaults(params)
    lr = config.lr
    if lr is None:
        lr = max(LR_BY_MODE.get(config.mode, 0.0), defaults.lr_full) \
            if config.mode != "full" else defaults.lr_full
    block = min(config.block_size or defaults.block_size, context_length)
    if config.block_size and config.block_size > context_length:
        raise UsageError(
            f"--block-size {config.block_size} is longer than the model's context "
            f"({context_length} tokens).", f"Use --block-size {context_length} or less.")
    checkpointing = config.gradient_checkpointing
    if checkpointing is None:
        checkpointing = defaults.gradient_checkpointing and config.mode == "full"
    return dataclasses.replace(
        config, lr=lr, block_size=block, batch_size=config.batch_size or defaults.batch_size,
        grad_accum=config.grad_accum or defaults.grad_accum,
        gradient_checkpointing=checkpointing)
