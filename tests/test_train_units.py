"""Small parts of the engine: packing, shuffles, defaults, memory (with fakes), modes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from smartlap.errors import TrainingError, UsageError
from smartlap.lm.train import memory
from smartlap.lm.train.config import TrainConfig, resolve, size_defaults
from smartlap.lm.train.data import IGNORE_INDEX, EpochShuffle, build_blocks, pack, token_stream


class FakeTokenizer:
    """Splits on spaces; id = word length. EOS is 0, no pad token."""

    eos_token_id = 0
    pad_token_id = None

    def __call__(self, texts, add_special_tokens=False, verbose=True):
        return {"input_ids": [[len(w) for w in text.split()] for text in texts]}


def test_songs_are_joined_with_eos_and_packed_without_padding() -> None:
    stream = token_stream(FakeTokenizer(), ["aa bbb", "c dddd e"])
    assert stream == [2, 3, 0, 1, 4, 1, 0]
    blocks = pack([*stream, *stream, 5, 6], 4, pad_id=0)
    assert blocks.input_ids.tolist() == [[2, 3, 0, 1], [4, 1, 0, 2], [3, 0, 1, 4], [1, 0, 5, 6]]
    assert (blocks.labels == blocks.input_ids).all()  # full blocks: nothing is ignored
    assert blocks.real_tokens == 16


def test_the_short_tail_is_padded_with_ignored_labels() -> None:
    blocks = pack([7, 8, 9, 0, 7, 8], 4, pad_id=0)
    assert blocks.input_ids.tolist() == [[7, 8, 9, 0], [7, 8, 0, 0]]
    assert blocks.labels.tolist() == [[7, 8, 9, 0], [7, 8, IGNORE_INDEX, IGNORE_INDEX]]
    assert blocks.attention_mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert blocks.labels[0, 3] == 0  # a real EOS is still learned: the model learns to stop


def test_dataset_smaller_than_a_block_is_refused_with_a_hint() -> None:
    with pytest.raises(TrainingError) as info:
        build_blocks(FakeTokenizer(), ["een twee"], [], block_size=64)
    assert "--block-size" in info.value.hint


def test_shuffle_depends_only_on_seed_and_epoch() -> None:
    first, again, other_seed = EpochShuffle(50, 1), EpochShuffle(50, 1), EpochShuffle(50, 2)
    orders = []
    for epoch in (1, 2):
        first.set_epoch(epoch)
        again.set_epoch(epoch)
        orders.append(list(first))
        assert list(first) == list(again)
    assert orders[0] != orders[1] and sorted(orders[0]) == list(range(50))
    other_seed.set_epoch(1)
    assert list(other_seed) != orders[0]
    before = torch.get_rng_state()
    list(first)
    assert torch.equal(before, torch.get_rng_state())  # the global RNG is untouched


@pytest.mark.parametrize(("params", "batch", "checkpointing"),
                         [(3e6, 8, False), (124e6, 8, False), (355e6, 4, True),
                          (774e6, 1, True)])
def test_defaults_follow_model_size(params, batch, checkpointing) -> None:
    defaults = size_defaults(int(params))
    assert defaults.batch_size == batch
    assert defaults.gradient_checkpointing is checkpointing
    resolved = resolve(TrainConfig(model="m", dataset="d"), int(params), 1024)
    assert resolved.batch_size * resolved.grad_accum >= 8  # same effective batch


def test_resolve_keeps_explicit_choices_and_checks_the_context() -> None:
    config = TrainConfig(model="m", dataset="d", batch_size=2, lr=1e-4, block_size=64,
                         mode="lora")
    resolved = resolve(config, int(124e6), 128)
    assert (resolved.batch_size, resolved.lr, resolved.block_size) == (2, 1e-4, 64)
    assert resolve(TrainConfig(model="m", dataset="d", mode="lora"), 10**8, 1024).lr == 2e-4
    with pytest.raises(UsageError):
        resolve(TrainConfig(model="m", dataset="d", block_size=2048), 10**8, 1024)
    with pytest.raises(UsageError):
        TrainConfig(model="m", dataset="d", mode="adapters").validate()


class FakeCuda:
    def get_device_properties(self, index):
        return SimpleNamespace(total_memory=12 * 1024**3)

    def memory_allocated(self, index):
        return 3 * 1024**3

    def memory_reserved(self, index):
        return 4 * 1024**3

    def max_memory_allocated(self, index):
        return 5 * 1024**3

    def max_memory_reserved(self, index):
        return 6 * 1024**3


class FakeProcess:
    def memory_info(self):
        return SimpleNamespace(rss=300 * 1024**2)


def test_gpu_memory_is_read_from_torch_cuda() -> None:
    snapshot = memory.memory_snapshot("cuda", cuda=FakeCuda(), process=FakeProcess())
    assert snapshot.device == "cuda"
    assert (snapshot.allocated_mb, snapshot.reserved_mb, snapshot.peak_mb,
            snapshot.peak_reserved_mb, snapshot.total_mb) == (
        3072.0, 4096.0, 5120.0, 6144.0, 12288.0)
    assert snapshot.rss_mb == 300.0
    assert memory.table_memory_mb(snapshot) == 5120.0
    assert memory.table_memory_mb(snapshot.to_dict()) == 5120.0  # a model history's object


def test_cpu_memory_reports_rss_and_peak() -> None:
    snapshot = memory.memory_snapshot("cpu", process=FakeProcess())
    assert snapshot.rss_mb == 300.0 and snapshot.peak_rss_mb >= 300.0
    assert snapshot.peak_mb is None and "peak_mb" not in snapshot.to_dict()
    assert memory.table_memory_mb(snapshot) == snapshot.peak_rss_mb
    real = memory.cpu_memory()
    assert real["rss_mb"] > 10


def test_modes_set_trainable_parameters(tiny_gpt2_dir, recwarn) -> None:
    from transformers import AutoModelForCausalLM

    from smartlap.lm.train.modes import apply_mode, count_parameters

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir)
    total, _ = count_parameters(model)
    apply_mode(model, "embeddings")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"transformer.wte.weight", "transformer.wpe.weight"}
    lora = apply_mode(AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir), "lora", 4)
    names = {n for n, p in lora.named_parameters() if p.requires_grad}
    assert names and all("lora_" in n for n in names)
    assert any("c_attn" in n for n in names) and any("c_fc" in n for n in names)
    assert count_parameters(lora)[1] < total / 2
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]  # none shown


def test_lora_flags_parse_and_only_go_with_lora(capsys) -> None:
    import argparse

    from smartlap.cli import build_parser, main
    from smartlap.cli.train import build_config

    args = build_parser().parse_args(["train", "--model", "m", "--dataset", "demo", "--mode",
                                      "lora", "--lora-rank", "16", "--lora-alpha", "32",
                                      "--lora-dropout", "0.1", "--lora-targets",
                                      "c_attn, c_fc"])
    config = build_config(args)
    assert (config.lora_rank, config.lora_alpha, config.lora_dropout, config.lora_targets) == \
        (16, 32.0, 0.1, ["c_attn", "c_fc"])
    assert isinstance(args, argparse.Namespace)
    assert main(["train", "--model", "m", "--dataset", "demo", "--lora-rank", "16"]) == 2
    assert "--lora-rank only applies with --mode lora" in capsys.readouterr().err
    assert main(["train", "--resume", "20260101-000000-abcd", "--lora-alpha", "8"]) == 2
    assert "--lora-alpha" in capsys.readouterr().err


def test_the_cores_setting_limits_name_no_flag_and_the_train_form_shows_them() -> None:
    from smartlap.lm.train.config import SETTING_LIMITS, setting_problem
    from smartlap.tui.train import FIELDS, LORA_FIELDS

    fields = {**FIELDS, **LORA_FIELDS}
    for key, bad in (("epochs", "0"), ("block_size", "7"), ("lr", "1.5"), ("patience", "0"),
                     ("lora_rank", "2000"), ("lora_alpha", "0"), ("lora_dropout", "1")):
        words = SETTING_LIMITS[key][1]
        assert fields[key][2](bad) == (None, words)  # the studio's words are the core's
        config = TrainConfig(model="m", dataset="d", mode="lora" if "lora" in key else "full",
                             **{key: float(bad) if key.startswith(("lr", "lora_a", "lora_d"))
                                else int(bad)})
        with pytest.raises(UsageError) as caught:
            config.validate()
        assert words in caught.value.message and "--" not in caught.value.message
        assert f"--{key.replace('_', '-')}" in caught.value.hint
    assert setting_problem("epochs", 2.5) == "a whole number"
    assert setting_problem("seed", -1) and fields["seed"][2]("-1")[1] == setting_problem("seed", -1)
    assert fields["lr"][2]("5e-5") == (5e-5, None) and fields["epochs"][2]("") == (None, "required")
