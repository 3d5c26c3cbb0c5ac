"""Models built from nothing: a tokenizer trained on the dataset plus a random-init GPT-2.

``mini`` is the bundled model: sized so its weights stay under ~25 MB (fp16) and it trains
in minutes on a 2-core CPU, yet learns enough Dutch song shape to be fun. ``tiny`` is for
tests and quick tries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smartlap.errors import UsageError


@dataclass(frozen=True)
class Preset:
    vocab_size: int
    context: int
    n_embd: int
    n_layer: int
    n_head: int
    dropout: float = 0.1


PRESETS: dict[str, Preset] = {
    "tiny": Preset(vocab_size=512, context=128, n_embd=64, n_layer=2, n_head=2),
    "mini": Preset(vocab_size=8000, context=256, n_embd=192, n_layer=4, n_head=4),
}


def get_preset(name: str | None) -> Preset:
    if name not in PRESETS:
        raise UsageError(f"Unknown preset {name!r}.",
                         f"Use --preset {' or '.join(PRESETS)}.")
    return PRESETS[name]


def build_scratch_model(preset_name: str, train_texts: Sequence[str],
                        seed: int) -> tuple[Any, Any]:
    """(model, tokenizer): BPE trained on the train split, GPT-2 initialised from ``seed``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from smartlap.lm.tokenizer import train_bpe_tokenizer

    preset = get_preset(preset_name)
    tokenizer = train_bpe_tokenizer(train_texts, vocab_size=preset.vocab_size)
    tokenizer.model_max_length = preset.context
    eos = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=preset.context, n_embd=preset.n_embd,
        n_layer=preset.n_layer, n_head=preset.n_head, resid_pdrop=preset.dropout,
        embd_pdrop=preset.dropout, attn_pdrop=preset.dropout, bos_token_id=eos,
        eos_token_id=eos, pad_token_id=eos)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    return model, tokenizer
