"""Tokenizers: training a byte-level BPE one on lyrics, and reading tokenizer.json fast.

Byte-level BPE (as GPT-2 uses) can spell any UTF-8 text, so ë, é and ï never become
unknown tokens. ``<|endoftext|>`` separates songs and doubles as the padding token.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


# --- reading a tokenizer without transformers ---------------------------------------------------

# tokenizer_config.json classes whose tokenizer.json transformers reproduces as it is: the
# generic ones, and GPT-2's byte-level BPE (GPT-Neo uses it too), which v5 rebuilds from the
# same vocabulary and merges with the same pre-tokenizer (tested equal). Anything else may
# change it, so it goes through transformers.
FAST_TOKENIZER_CLASSES = {None, "TokenizersBackend", "PreTrainedTokenizerFast", "GPT2Tokenizer",
                          "GPT2TokenizerFast"}
_NAMED_SPECIAL = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                  "mask_token")
_EXTRA_SPECIAL = ("extra_special_tokens", "additional_special_tokens")


def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or {"content": ...}."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


class FastTokenizer:
    """tokenizer.json through ``tokenizers`` alone: the part of transformers' tokenizer that
    generation and scoring use (the call, encode, decode, the special tokens, ``len``), with
    the same results.

    As transformers does on loading, the named special tokens are registered as special
    added tokens, so decoding with ``skip_special_tokens`` drops exactly them.
    """

    def __init__(self, backend: Any, special: dict[str, str], extra: list[str]) -> None:
        from tokenizers import AddedToken

        self.backend = backend
        self._special = dict(special)
        self._extra = list(extra)
        wanted = list(dict.fromkeys([*self._special.values(), *self._extra]))
        if wanted:
            backend.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                        for t in wanted])
        if "pad_token" not in self._special and "eos_token" in self._special:
            self._special["pad_token"] = self._special["eos_token"]  # as loading.py does

    def __len__(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def _id(self, name: str) -> int | None:
        token = self._special.get(name)
        return None if token is None else self.backend.token_to_id(token)

    eos_token = property(lambda self: self._special.get("eos_token"))
    bos_token = property(lambda self: self._special.get("bos_token"))
    pad_token = property(lambda self: self._special.get("pad_token"))
    eos_token_id = property(lambda self: self._id("eos_token"))
    bos_token_id = property(lambda self: self._id("bos_token"))
    pad_token_id = property(lambda self: self._id("pad_token"))

    @property
    def all_special_ids(self) -> list[int]:
        tokens = dict.fromkeys([*self._special.values(), *self._extra])
        ids = (self.backend.token_to_id(token) for token in tokens)
        return [i for i in ids if i is not None]

    def __call__(self, text: str | list[str], add_special_tokens: bool = True,
                 **_: Any) -> dict[str, Any]:
        """``{"input_ids": ...}`` for one text or a list of them, as transformers' call gives
        (its other options, such as ``verbose``, change nothing here)."""
        if isinstance(text, str):
            return {"input_ids": self.encode(text, add_special_tokens)}
        return {"input_ids": [list(e.ids) for e in self.backend.encode_batch(
            list(text), add_special_tokens=add_special_tokens)]}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return list(self.backend.encode(text, add_special_tokens=add_special_tokens).ids)

    def decode(self, ids: list[int], skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool = False) -> str:
        """``clean_up_tokenization_spaces`` is accepted and ignored: transformers skips that
        clean-up for BPE tokenizers, the only ones read this way."""
        return str(self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def batch_decode(self, sequences: list[list[int]], skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool = False) -> list[str]:
        return [str(text) for text in self.backend.decode_batch(
            [list(ids) for ids in sequences], skip_special_tokens=skip_special_tokens)]

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str | None]:
        """The vocabulary's pieces (``Ġ`` marks a leading space), as transformers gives them."""
        return [self.backend.id_to_token(int(i)) for i in ids]


def read_fast_tokenizer(path: Path) -> FastTokenizer | None:
    """The folder's tokenizer.json without transformers, or None when transformers' own
    loading could differ (another tokenizer class, no tokenizer.json, not BPE)."""
    from smartlap.fsutil import read_json

    file = path / "tokenizer.json"
    config_file = path / "tokenizer_config.json"
    if not file.is_file():
        return None
    try:
        config = read_json(config_file) if config_file.is_file() else {}
    except (ValueError, UnicodeDecodeError):
        return None  # let transformers say what is wrong with it
    if not isinstance(config, dict) or config.get("tokenizer_class") not in FAST_TOKENIZER_CLASSES:
        return None
    if config.get("add_prefix_space") or config.get("add_bos_token"):
        return None
    from tokenizers import Tokenizer

    try:
        backend = Tokenizer.from_file(str(file))
    except Exception:  # transformers then says what is wrong, in its words
        return None
    if type(backend.model).__name__ != "BPE":
        return None
    special = {name: text for name in _NAMED_SPECIAL
               if (text := _token_text(config.get(name))) is not None}
    extra: list[str] = []
    for key in _EXTRA_SPECIAL:
        values = config.get(key) or []
        if isinstance(values, dict):
            values = list(values.values())
        extra += [t for v in values if (t := _token_text(v)) is not None]
    return FastTokenizer(backend, special, extra)
