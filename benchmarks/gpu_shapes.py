"""The models the GPU check trains and samples: the seeds' shapes, random init, built here.

There is no network on a lent GPU machine, so nothing is downloaded: each model is a
random-init GPT-2 or GPT-Neo with the architecture of the seeds' checkpoints, saved as a
plain Hugging Face folder that smartlap loads like any other. The tokenizer is a
byte-level BPE trained on the demo songs (so a song is as many tokens as a Dutch
tokenizer makes of it, ~385), its vocabulary padded with entries no merge can produce up
to the checkpoint's size (40,000 for GroNLP's GPT-2s, 50,257 for GPT-Neo), minus
``SURPLUS`` rows: the model's embedding is that much larger than the tokenizer, as in
checkpoints padded for speed, so the generation check has rows that must never be sampled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SURPLUS = 8  # embedding rows past the tokenizer (masked in generation)
BPE_TOKENS = 8000  # the real merges' cap; the demo corpus runs out of pairs below it


@dataclass(frozen=True)
class Shape:
    """One model's architecture; ``arch`` is ``gpt2`` or ``gpt_neo``."""

    label: str
    arch: str
    vocab: int
    d: int
    layers: int
    heads: int
    context: int
    window: int = 256  # GPT-Neo's local attention
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self, eos: int) -> Any:
        if self.arch == "gpt2":
            from transformers import GPT2Config

            return GPT2Config(vocab_size=self.vocab, n_positions=self.context, n_embd=self.d,
                              n_layer=self.layers, n_head=self.heads, bos_token_id=eos,
                              eos_token_id=eos, **self.extra)
        from transformers import GPTNeoConfig

        pairs = max(1, self.layers // 2)  # global, local, global, local, ... as in 125M
        return GPTNeoConfig(vocab_size=self.vocab, max_position_embeddings=self.context,
                            hidden_size=self.d, num_layers=2 * pairs, num_heads=self.heads,
                            attention_types=[[["global", "local"], pairs]],
                            window_size=self.window, bos_token_id=eos, eos_token_id=eos,
                            **self.extra)


# The seeds' checkpoints: GroNLP/gpt2-small-dutch, EleutherAI/gpt-neo-125M and
# GroNLP/gpt2-medium-dutch-embeddings.
GPT2_SMALL = Shape("gpt2-small-dutch", "gpt2", 40_000, 768, 12, 12, 1024)
GPT_NEO_125M = Shape("gpt-neo-125m", "gpt_neo", 50_257, 768, 12, 12, 2048, window=256)
GPT2_MEDIUM = Shape("gpt2-medium-dutch", "gpt2", 40_000, 1024, 24, 16, 1024)
# The dry run's stand-ins: the same code paths at sizes a loaded CPU trains in seconds.
TINY_GPT2 = Shape("tiny-gpt2", "gpt2", 700, 64, 2, 2, 128)
TINY_GPT_NEO = Shape("tiny-gpt-neo", "gpt_neo", 800, 64, 2, 2, 128, window=16)
TINY_GPT2_MEDIUM = Shape("tiny-gpt2-medium", "gpt2", 700, 96, 3, 3, 128)


def padded_tokenizer(trained: Any, size: int) -> Any:
    """``trained`` (a BPE tokenizer) with its vocabulary padded to exactly ``size`` entries.

    The entries past the trained ones (``~pad123~``) have no merge that makes them, so the
    tokenizer splits text exactly as the trained one does; they only give the embedding
    and LM head the checkpoint's shape.
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    from smartlap.lm.tokenizer import EOS_TOKEN

    data = json.loads(trained.backend_tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    if len(vocab) > size:
        raise ValueError(f"the trained tokenizer has {len(vocab)} tokens, more than {size}")
    index = 0
    while len(vocab) < size:
        entry = f"~pad{index}~"
        index += 1
        if entry not in vocab:
            vocab[entry] = len(vocab)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)), bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN, unk_token=EOS_TOKEN, pad_token=EOS_TOKEN)
    tokenizer.model_max_length = 1024
    return tokenizer


def train_tokenizer(texts: list[str], shapes: list[Shape]) -> Any:
    """One BPE for every shape: trained once, at most as large as the smallest needs."""
    from smartlap.lm.tokenizer import train_bpe_tokenizer

    cap = min([BPE_TOKENS, *(shape.vocab - SURPLUS for shape in shapes)])
    return train_bpe_tokenizer(texts, vocab_size=cap)


def build(shape: Shape, folder: Path, trained: Any, seed: int = 0) -> Path:
    """Save a random-init model of ``shape`` with ``trained``, padded, into ``folder``."""
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = padded_tokenizer(trained, shape.vocab - SURPLUS)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(shape.config(tokenizer.eos_token_id))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder

