"""The studio's CPU thread budget and the sampler's lean repetition penalty."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from smartlap.errors import UsageError
from smartlap.lm.generation import GenerationSettings, _Sampler
from smartlap.lm.threads import (
    THREADS_VARIABLE,
    one_thread,
    studio_generation_threads,
    use_threads,
)


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (4, 1), (8, 3), (16, 7)])
def test_studio_leaves_a_core_for_the_ui_and_half_the_rest_for_training(cores: int,
                                                                         threads: int) -> None:
    assert studio_generation_threads(cores=cores, environ={}) == threads


def test_the_setting_overrides_the_choice() -> None:
    assert studio_generation_threads(cores=2, environ={THREADS_VARIABLE: " 3 "}) == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_is_a_usage_error_with_a_hint(value: str) -> None:
    with pytest.raises(UsageError) as caught:
        studio_generation_threads(cores=2, environ={THREADS_VARIABLE: value})
    assert THREADS_VARIABLE in caught.value.message and caught.value.hint


def test_use_threads_sizes_torchs_pool() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        use_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_one_thread_is_one_thread_for_a_while_then_what_it_was() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(RuntimeError), one_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("a load that fails")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_studio_backend_applies_the_setting_when_it_loads(
        tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from smartlap.tui.write import GenerationBackend

    before = torch.get_num_threads()
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    try:
        torch.set_num_threads(2)
        GenerationBackend().load(str(tiny_gpt2_dir))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _sampler(vocab: int, prompt: list[int], **settings) -> _Sampler:
    embeddings = types.SimpleNamespace(num_embeddings=vocab)
    loaded = types.SimpleNamespace(
        model=types.SimpleNamespace(get_input_embeddings=lambda: embeddings),
        tokenizer=types.SimpleNamespace(all_special_ids=[vocab - 1], eos_token_id=vocab - 1),
        vocab_surplus_ids=[], device="cpu")
    return _Sampler(loaded, GenerationSettings(**settings), seed=0, prompt_ids=prompt)


def test_repetition_penalty_divides_positive_and_multiplies_negative_seen_logits() -> None:
    import torch

    sampler = _sampler(8, [2], temperature=0, repetition_penalty=2.0)
    # Seen id 2 leads (4.0) but halves to 2.0, below unseen id 3 (3.0).
    assert sampler.pick(torch.tensor([0.0, 0.0, 4.0, 3.0, 0.0, 0.0, 0.0, 0.0])) == 3
    sampler.observe(3)  # now 3 is seen too: 4.0 -> 2.0 and 3.0 -> 1.5, unseen 5 (2.5) wins
    assert sampler.pick(torch.tensor([0.0, 0.0, 4.0, 3.0, 0.0, 2.5, 0.0, 0.0])) == 5
    # Negative seen logits are multiplied (pushed further down), unseen ones untouched.
    assert sampler.pick(torch.tensor([-2.0, -2.0, -0.6, -2.0, -2.0, -2.0, -0.9, -2.0])) == 6
    assert sampler.pick(torch.tensor([-2.0, -2.0, -0.6, -2.0, -2.0, -2.0, -1.3, -2.0])) == 2


def test_observing_a_token_twice_penalises_it_once() -> None:
    import torch

    sampler = _sampler(8, [], temperature=0, repetition_penalty=2.0)
    for _ in range(3):
        sampler.observe(4)
    # Once: 4.0 / 2 = 2.0 beats 1.9; penalised twice it would be 1.0 and lose.
    assert sampler.pick(torch.tensor([0.0, 1.9, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0])) == 4
