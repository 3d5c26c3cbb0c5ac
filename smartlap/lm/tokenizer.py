"""Training a byte-level BPE tokenizer on lyrics, for models built from scratch.

Byte-level BPE (as GPT-2 uses) can spell any UTF-8 text, so ë, é and ï never become
unknown tokens. ``<|endoftext|>`` separates songs and doubles as the padding token.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

EOS_TOKEN = "<|endoftext|>"


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 8000,
                        min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """Train a GPT-2-style tokenizer that ``AutoTokenizer.from_pretrained`` can load back."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=min_frequency,
                            special_tokens=[EOS_TOKEN], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token=EOS_TOKEN, eos_token=EOS_TOKEN, unk_token=EOS_TOKEN, pad_token=EOS_TOKEN,
    )
    tokenizer.model_max_length = 1024
    return tokenizer
