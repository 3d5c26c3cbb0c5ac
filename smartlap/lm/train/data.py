"""Songs to training blocks: tokenize, join with EOS, pack into fixed-length blocks.

Packing instead of padding each song means no compute is spent on pad tokens. Each song
ends with EOS, so the model learns where a song stops. Only the last block of a split can
be short; its padded positions get label -100 (ignored by the loss) and attention mask 0,
so pad tokens (which are EOS for GPT-2) never teach the model to stop early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler

from smartlap.errors import NotFoundError, TrainingError

IGNORE_INDEX = -100


def load_song_texts(dataset: str, split: str, max_songs: int | None = None) -> list[str]:
    """The lyrics of one split of a stored dataset, in stored order."""
    from smartlap.store.datasets import iter_songs

    texts = []
    for song in iter_songs(dataset, split=split):
        lyrics = (song.lyrics or "").strip()
        if lyrics:
            texts.append(lyrics)
        if max_songs is not None and len(texts) >= max_songs:
            break
    return texts


def load_splits(dataset: str, max_songs: int | None = None) -> tuple[list[str], list[str]]:
    """Train and validation lyrics; a dataset without a val split lends 10% of train."""
    val_limit = None if max_songs is None else max(1, max_songs // 5)
    try:
        train = load_song_texts(dataset, "train", max_songs)
        val = load_song_texts(dataset, "val", val_limit)
    except FileNotFoundError:
        raise NotFoundError(f"There is no dataset {dataset!r}.",
                            "See 'smartlap datasets list', or import one with "
                            "'smartlap datasets import FILE'.") from None
    if not train:
        raise TrainingError(f"The dataset {dataset!r} has no training songs.",
                            "Import a dataset with lyrics ('smartlap datasets import FILE').")
    if not val and len(train) >= 2:
        cut = max(1, len(train) // 10)
        train, val = train[:-cut], train[-cut:]
    return train, val


def token_stream(tokenizer, texts: Sequence[str]) -> list[int]:
    """All songs as one token list, each song followed by EOS."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise TrainingError("The model's tokenizer has no end-of-text token.",
                            "Use a GPT-2-family model whose tokenizer defines eos_token.")
    stream: list[int] = []
    # verbose=False: a song longer than the context is expected here (it is packed into
    # blocks), so transformers' "sequence length is longer than..." warning would mislead.
    for ids in tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]:
        stream.extend(ids)
        stream.append(eos)
    return stream


@dataclass
class Blocks:
    """Packed blocks of one split, ready to batch."""

    input_ids: torch.Tensor  # (n, block) long
    labels: torch.Tensor  # (n, block) long, IGNORE_INDEX on padding
    attention_mask: torch.Tensor  # (n, block) long
    real_tokens: int  # tokens that are not padding

    def __len__(self) -> int:
        return self.input_ids.shape[0]


def summed_block_loss(blocks: Blocks, indices: Sequence[int], batch_size: int, device: Any,
                      mean_loss: Callable[[dict[str, torch.Tensor]], torch.Tensor]
                      ) -> tuple[float, int]:
    """(sum of each batch's mean loss x its scored tokens, scored tokens) over the blocks at
    ``indices``: the token-weighted validation loss a run records and ``compare`` reports,
    one loop for both; ``mean_loss`` is how the caller scores a batch (its model, autocast)."""
    total, count = 0.0, 0
    for start in range(0, len(indices), batch_size):
        chunk = list(indices[start:start + batch_size])
        batch = {"input_ids": blocks.input_ids[chunk], "labels": blocks.labels[chunk],
                 "attention_mask": blocks.attention_mask[chunk]}
        batch = {key: value.to(device) for key, value in batch.items()}
        tokens = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
        total += float(mean_loss(batch)) * tokens
        count += tokens
    return total, count


def pack(stream: Sequence[int], block_size: int, pad_id: int) -> Blocks:
    """Cut the stream into ``block_size`` blocks; pad only the final remainder."""
    full, rest = divmod(len(stream), block_size)
    rows = [list(stream[i * block_size:(i + 1) * block_size]) for i in range(full)]
    masks = [[1] * block_size for _ in range(full)]
    if rest >= 2:  # a single leftover token predicts nothing
        tail = list(stream[full * block_size:])
        rows.append(tail + [pad_id] * (block_size - rest))
        masks.append([1] * rest + [0] * (block_size - rest))
    input_ids = torch.tensor(rows, dtype=torch.long).reshape(-1, block_size)
    attention_mask = torch.tensor(masks, dtype=torch.long).reshape(-1, block_size)
    labels = input_ids.masked_fill(attention_mask == 0, IGNORE_INDEX)
    return Blocks(input_ids, labels, attention_mask, int(attention_mask.sum()))


def build_blocks(tokenizer, train_texts: Sequence[str], val_texts: Sequence[str],
                 block_size: int) -> tuple[Blocks, Blocks]:
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    train_stream = token_stream(tokenizer, train_texts)
    if len(train_stream) < block_size:
        raise TrainingError(
            f"The training split has {len(train_stream)} tokens, fewer than one block of "
            f"{block_size}.",
            f"Use a smaller --block-size (at most {max(8, len(train_stream) // 2)}), or a "
            "bigger dataset.")
    train = pack(train_stream, block_size, pad_id)
    val = pack(token_stream(tokenizer, val_texts), block_size, pad_id) if val_texts \
        else pack([], block_size, pad_id)
    return train, val


class BlockDataset(Dataset):
    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.blocks.input_ids[index],
                "labels": self.blocks.labels[index],
                "attention_mask": self.blocks.attention_mask[index]}


class EpochShuffle(Sampler[int]):
    """A shuffle that depends only on (seed, epoch): resuming replays the same order.

    Uses its own generator, so it neither consumes nor depends on the global RNG.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())
