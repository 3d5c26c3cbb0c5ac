"""The chunked LM-head cross-entropy equals transformers' loss and gradients, without all logits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from smartlap.lm.train.loss import HiddenStates, linear_cross_entropy  # noqa: E402


def _model(arch: str):
    from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoConfig, GPTNeoForCausalLM

    torch.manual_seed(0)
    if arch == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=101, n_positions=64, n_embd=32,
                                           n_layer=2, n_head=4))
    else:
        model = GPTNeoForCausalLM(GPTNeoConfig(vocab_size=101, max_position_embeddings=64,
                                               hidden_size=32, num_layers=2, num_heads=4,
                                               attention_types=[[["global", "local"], 1]],
                                               window_size=8))
    return model.eval()  # no dropout: both passes must see the same network


def _batch(padded_rows: int = 1):
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 101, (3, 24), generator=generator)
    labels = ids.clone()
    mask = torch.ones_like(ids)
    labels[-padded_rows:, 17:] = -100  # the last block is padded, as packing leaves it
    mask[-padded_rows:, 17:] = 0
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _grads(model) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
@pytest.mark.parametrize("chunk_rows", [5, 1024])
def test_loss_and_every_gradient_match_transformers(arch: str, chunk_rows: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    model, batch = _model(arch), _batch()
    expected = model(**batch).loss
    expected.backward()
    expected_grads = _grads(model)
    model.zero_grad(set_to_none=True)

    import smartlap.lm.train.loss as loss_module

    monkeypatch.setattr(loss_module, "CHUNK_BYTES", chunk_rows * 4 * 101)  # vocabulary 101
    monkeypatch.setattr(loss_module, "MIN_CHUNK_ROWS", 1)
    hidden = HiddenStates(model)
    got = hidden.loss(model, batch)
    got.backward()
    hidden.close()
    assert torch.allclose(got, expected, atol=1e-6)
    got_grads = _grads(model)
    assert got_grads.keys() == expected_grads.keys()
    for name, grad in expected_grads.items():
        assert torch.allclose(got_grads[name], grad, atol=1e-6), name


def test_a_frozen_head_gets_no_gradient_and_costs_none() -> None:
    model, batch = _model("gpt2"), _batch()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    model.transformer.h[0].mlp.c_fc.weight.requires_grad_(True)  # like an adapter
    hidden = HiddenStates(model)
    loss = hidden.loss(model, batch)
    loss.backward()
    assert model.lm_head.weight.grad is None
    assert model.transformer.h[0].mlp.c_fc.weight.grad is not None


def test_ignored_positions_do_not_count_and_an_all_ignored_batch_is_zero() -> None:
    weight = torch.randn(11, 4, requires_grad=True)
    hidden = torch.randn(2, 6, 4, requires_grad=True)
    labels = torch.randint(0, 11, (2, 6))
    labels[1] = -100
    full = torch.nn.functional.cross_entropy((hidden[:1, :-1] @ weight.t()).reshape(-1, 11),
                                             labels[:1, 1:].reshape(-1))
    assert torch.allclose(linear_cross_entropy(hidden, weight, labels), full, atol=1e-6)
    nothing = linear_cross_entropy(hidden, weight, torch.full((2, 6), -100))
    nothing.backward()
    assert float(nothing.detach()) == 0.0 and float(weight.grad.abs().sum()) == 0.0


def test_no_grad_validation_computes_the_loss_only() -> None:
    model, batch = _model("gpt_neo"), _batch()
    with torch.no_grad():
        expected = model(**batch).loss
        hidden = HiddenStates(model)
        got = hidden.loss(model, batch)
    assert torch.allclose(got, expected, atol=1e-6) and not got.requires_grad


@pytest.mark.parametrize("vocab", [11, 128])  # padded to 64-row multiples; already one
def test_far_off_targets_give_the_exact_finite_loss_and_gradients(vocab: int) -> None:
    # Logits hundreds apart: the target's softmax probability underflows to 0 in fp32, yet
    # the loss is logsumexp - picked, finite and equal to torch's cross-entropy.
    generator = torch.Generator().manual_seed(4)
    weight = (torch.randn(vocab, 8, generator=generator) * 30).requires_grad_()
    hidden = (torch.randn(2, 7, 8, generator=generator) * 30).requires_grad_()
    labels = torch.randint(0, vocab, (2, 7), generator=generator)
    expected = torch.nn.functional.cross_entropy(
        (hidden[:, :-1] @ weight.t()).reshape(-1, vocab), labels[:, 1:].reshape(-1))
    expected_grads = torch.autograd.grad(expected, (hidden, weight))
    got = linear_cross_entropy(hidden, weight, labels, chunk_rows=5)
    got_grads = torch.autograd.grad(got, (hidden, weight))

    assert float(expected.detach()) > 100 and torch.isfinite(got)
    assert torch.allclose(got, expected, rtol=1e-5)
    for g, e in zip(got_grads, expected_grads, strict=True):
        assert g.shape == e.shape and torch.allclose(g, e, atol=1e-5)
