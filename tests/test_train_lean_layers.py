"""The lean training layers compute what transformers' layers do, and keep less for backward."""

from __future__ import annotations

import copy
import json

import pytest

torch = pytest.importorskip("torch")

from smartlap.lm.train import lean_layers  # noqa: E402
from smartlap.lm.train.lean_layers import LEAN_ATTENTION, make_lean  # noqa: E402


def _gpt2(dropout: float = 0.0, **extra):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=101, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=dropout, **extra)
    return GPT2LMHeadModel(config).train()


def _gptneo(dropout: float = 0.0):
    from transformers import GPTNeoConfig, GPTNeoForCausalLM

    torch.manual_seed(0)
    config = GPTNeoConfig(vocab_size=101, max_position_embeddings=64, hidden_size=32,
                          num_layers=2, num_heads=4, attention_types=[[["global", "local"], 1]],
                          window_size=8, resid_dropout=0.0, embed_dropout=0.0,
                          attention_dropout=dropout)
    return GPTNeoForCausalLM(config).train()


def _batch(padded: bool = True):
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 101, (3, 24), generator=generator)
    mask = torch.ones_like(ids)
    labels = ids.clone()
    if padded:  # the last block is padded, as packing leaves it
        mask[-1, 17:] = 0
        labels[-1, 17:] = -100
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _loss_and_grads(model, batch):
    model.zero_grad(set_to_none=True)
    loss = model(**batch, use_cache=False).loss
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def _reference_attention(query, key, value, allowed, scale, keep):
    """Plain autograd attention with a given (scaled) dropout mask."""
    scores = (query @ key.transpose(-1, -2)) * scale
    scores = scores.masked_fill(~allowed, float("-inf"))
    return (torch.softmax(scores, dim=-1) * keep) @ value


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("length", [10, 150])  # one chunk of queries; three (64, 64, 22)
def test_recomputed_attention_matches_autograd_with_the_same_dropout_mask(
        padded, length, monkeypatch) -> None:
    generator = torch.Generator().manual_seed(1)
    shape = (2, 3, length, 8)
    q, k, v = (torch.randn(shape, generator=generator, requires_grad=True) for _ in range(3))
    allowed = torch.ones(length, length, dtype=torch.bool).tril()[None, None]
    allowed = allowed.expand(2, 1, length, length).clone()
    if padded:
        allowed[1, :, :, length - 3:] = False  # the second row's last keys are padding
    scale, dropout = 0.35, 0.25
    drawn = []
    draw = lean_layers._keep_mask
    monkeypatch.setattr(lean_layers, "_keep_mask", lambda *a: drawn.append(draw(*a)) or drawn[-1])

    got = lean_layers._RecomputedAttention.apply(q, k, v, allowed, scale, dropout)
    grad_out = torch.randn(got.shape, generator=generator)
    got_grads = torch.autograd.grad(got, (q, k, v), grad_out)

    keep = torch.ones(2, 3, length, length)  # the masks the chunks drew, where they drew them
    for (rows, keys), kept in zip(lean_layers._chunks(length, length), drawn, strict=True):
        keep[..., rows, keys] = kept.float().view(2, 3, *kept.shape[1:])
    assert len(drawn) == (1 if length < 64 else 3)
    seen = torch.ones(length, length, dtype=torch.bool).tril()
    assert 0.1 < float((keep == 0)[..., seen].float().mean()) < 0.4  # a real dropout mask
    expected = _reference_attention(q, k, v, allowed, scale, keep / (1 - dropout))
    expected_grads = torch.autograd.grad(expected, (q, k, v), grad_out)

    assert torch.allclose(got, expected, atol=1e-6)
    for name, g, e in zip("qkv", got_grads, expected_grads, strict=True):
        assert torch.allclose(g, e, atol=1e-5), name


def test_half_precision_attention_keeps_its_inputs_and_gives_the_fp32_result() -> None:
    # bf16 inputs (CPU autocast) keep the bf16 q, k, v for backward, not fp32 copies.
    generator = torch.Generator().manual_seed(2)
    shape = (2, 3, 70, 8)
    full = [torch.randn(shape, generator=generator) for _ in range(3)]
    half = [t.bfloat16().requires_grad_() for t in full]
    full = [t.bfloat16().float().requires_grad_() for t in full]  # the same values
    allowed = torch.ones(70, 70, dtype=torch.bool).tril()[None, None]
    grad_out = torch.randn(shape, generator=generator)
    results = []
    for inputs in (full, half):
        saved: list[torch.dtype] = []
        torch.manual_seed(9)
        with torch.autograd.graph.saved_tensors_hooks(
                lambda t, saved=saved: saved.append(t.dtype) or t, lambda t: t):
            out = lean_layers._RecomputedAttention.apply(*inputs, allowed, 0.3, 0.2)
        results.append((out, torch.autograd.grad(out, inputs, grad_out.to(out.dtype)), saved))
    (out32, grads32, saved32), (out16, grads16, saved16) = results

    assert out16.dtype == torch.bfloat16 and saved16.count(torch.bfloat16) == 4  # q, k, v, out
    assert saved32.count(torch.float32) == 4
    assert torch.allclose(out16.float(), out32, atol=2e-2)
    for g16, g32 in zip(grads16, grads32, strict=True):
        assert g16.dtype == torch.bfloat16 and torch.allclose(g16.float(), g32, atol=5e-2)


@pytest.mark.parametrize("padded", [False, True])
def test_lean_gpt2_gives_transformers_loss_and_gradients(padded, monkeypatch) -> None:
    # Attention dropout is on, so the lean attention really runs, but so small (1e-9) that it
    # drops nothing: both models compute the same function.
    reference = _gpt2(dropout=0.0)
    lean = copy.deepcopy(reference)
    for block in lean.transformer.h:
        block.attn.attn_dropout.p = 1e-9
    calls = []
    original = lean_layers._RecomputedAttention.apply
    monkeypatch.setattr(lean_layers._RecomputedAttention, "apply",
                        lambda *a: calls.append(1) or original(*a))

    assert make_lean(lean) == ["gelu", "dropout", "attention"]
    assert isinstance(lean.transformer.h[0].mlp.act, lean_layers.LeanGELU)
    batch = _batch(padded)
    expected_loss, expected_grads = _loss_and_grads(reference, batch)
    got_loss, got_grads = _loss_and_grads(lean, batch)

    assert len(calls) == 2  # one per layer: the recomputing attention, not sdpa
    assert torch.allclose(got_loss, expected_loss, atol=1e-6)
    for name, grad in expected_grads.items():
        assert torch.allclose(got_grads[name], grad, atol=1e-5), name


def test_lean_gptneo_gives_transformers_loss_and_gradients(monkeypatch) -> None:
    # Its local layer (window 8) sees a 24-token block; dropout 1e-9 runs the lean attention
    # but drops nothing, so both models compute the same function.
    reference = _gptneo()
    lean = copy.deepcopy(reference)
    for module in lean.modules():
        if type(module).__name__ == "GPTNeoSelfAttention":
            module.attn_dropout.p = 1e-9
    calls = []
    original = lean_layers._RecomputedAttention.apply
    monkeypatch.setattr(lean_layers._RecomputedAttention, "apply",
                        lambda *a: calls.append(1) or original(*a))

    assert make_lean(lean) == ["gelu", "dropout", "attention"]
    expected_loss, expected_grads = _loss_and_grads(reference, _batch())
    got_loss, got_grads = _loss_and_grads(lean, _batch())

    assert len(calls) == 2  # the global and the local layer
    assert torch.allclose(got_loss, expected_loss, atol=1e-6)
    for name, grad in expected_grads.items():
        assert torch.allclose(got_grads[name], grad, atol=1e-5), name
    lean.eval()
    with torch.no_grad():  # outside training its own attention runs again
        ids = _batch()["input_ids"]
        assert torch.allclose(lean(ids).logits, reference.eval()(ids).logits, atol=1e-5)
    assert len(calls) == 2


def _saved_for_backward(model, batch) -> list[tuple[torch.Size, torch.dtype]]:
    shapes = []

    def pack(tensor):
        shapes.append((tensor.shape, tensor.dtype))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model(**batch, use_cache=False)
    return shapes


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_lean_layers_keep_no_attention_matrix_and_less_overall_for_backward(arch) -> None:
    batch = _batch(padded=False)
    original = _gpt2(dropout=0.1) if arch == "gpt2" else _gptneo(dropout=0.1)
    lean = copy.deepcopy(original)
    make_lean(lean)
    attention_matrix = (torch.Size([3, 4, 24, 24]), torch.float32)  # batch x heads x block^2
    dropout_mask = (torch.Size([3 * 4, 24, 24]), torch.uint8)  # (batch · heads) x block^2
    mlp_wide = (torch.Size([3, 24, 128]), torch.float32)  # batch x block x 4 * n_embd

    before, after = _saved_for_backward(original, batch), _saved_for_backward(lean, batch)

    assert attention_matrix in before and attention_matrix not in after
    assert after.count(dropout_mask) == 2  # one byte mask per layer is all that is kept
    assert before.count(mlp_wide) - after.count(mlp_wide) >= 2 * 3  # GELU: 4+ saved -> 1

    def nbytes(saved):
        return sum(shape.numel() * dtype.itemsize for shape, dtype in saved)

    assert nbytes(after) < 0.7 * nbytes(before)


def test_lean_gelu_is_the_tanh_gelu_with_its_gradient() -> None:
    inputs = torch.linspace(-8, 8, 4001, requires_grad=True)
    expected = torch.nn.functional.gelu(inputs, approximate="tanh")
    (expected_grad,) = torch.autograd.grad(expected.sum(), inputs)
    got = lean_layers.LeanGELU()(inputs)
    (got_grad,) = torch.autograd.grad(got.sum(), inputs)
    assert torch.allclose(got, expected, atol=2e-6)
    assert torch.allclose(got_grad, expected_grad, atol=1e-6)


def test_the_dropout_mask_drops_at_the_asked_rate() -> None:
    torch.manual_seed(0)
    for rate in (0.1, 0.5):
        kept = lean_layers._keep_mask(torch.Size([64, 64, 64]), rate, torch.device("cpu"))
        assert kept.dtype == torch.uint8 and set(kept.unique().tolist()) == {0, 1}
        assert abs(1 - kept.float().mean().item() - rate) < 0.003  # 262,144 draws


def test_lean_dropout_scales_what_it_keeps_and_passes_gradients_the_same_way() -> None:
    layer = lean_layers.LeanDropout(0.2).train()
    inputs = torch.randn(32, 64, requires_grad=True)
    outputs = layer(inputs)
    kept = outputs != 0
    assert 0.15 < 1 - kept.float().mean().item() < 0.25
    assert torch.allclose(outputs[kept], inputs[kept] * 1.25)
    outputs.sum().backward()
    assert torch.equal(inputs.grad, kept.float() * 1.25)
    assert torch.equal(layer.eval()(inputs), inputs)  # eval: no dropout at all


def test_dropout_draws_follow_torch_seed() -> None:
    model = _gpt2(dropout=0.3)
    make_lean(model)
    batch = _batch()
    torch.manual_seed(5)
    first = model(**batch, use_cache=False).loss
    torch.manual_seed(5)
    again = model(**batch, use_cache=False).loss
    torch.manual_seed(6)
    other = model(**batch, use_cache=False).loss
    assert first == again and first != other


def test_eval_and_generation_use_sdpa_and_the_saved_config_does_not_change(tmp_path) -> None:
    from transformers import AutoModelForCausalLM

    model = _gpt2(dropout=0.1)
    reference = copy.deepcopy(model).eval()
    make_lean(model)
    model.eval()
    ids = _batch(padded=False)["input_ids"][:1, :8]
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, reference(ids).logits, atol=1e-5)
        assert torch.equal(model.generate(ids, max_new_tokens=5, do_sample=False),
                           reference.generate(ids, max_new_tokens=5, do_sample=False))

    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert LEAN_ATTENTION not in json.dumps(saved)
    assert saved["activation_function"] == "gelu_new"
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded.config._attn_implementation != LEAN_ATTENTION


def test_models_it_cannot_reproduce_keep_their_layers() -> None:
    model = _gpt2(dropout=0.1, reorder_and_upcast_attn=True)
    model.config._attn_implementation = "eager"
    assert make_lean(model) == ["gelu", "dropout"]
    assert model.config._attn_implementation == "eager"


def test_on_other_devices_gpt2_keeps_the_library_kernels(monkeypatch) -> None:
    # The device boundary, faked with the meta device: GPUs have dropout in sdpa and a fast
    # bernoulli, so GPT-2's attention and dropout hand over to them there.
    import transformers.integrations.sdpa_attention as sdpa_module

    handed_over = []
    monkeypatch.setattr(sdpa_module, "sdpa_attention_forward",
                        lambda *a, **k: handed_over.append(k["dropout"]) or (a[1], None))
    monkeypatch.setattr(lean_layers._RecomputedAttention, "apply",
                        lambda *a: pytest.fail("the CPU attention ran on a GPU"))
    monkeypatch.setattr(lean_layers._Dropout, "apply",
                        lambda *a: pytest.fail("the CPU dropout ran on a GPU"))
    q = torch.empty(2, 4, 16, 8, device="meta", requires_grad=True)
    lean_layers.lean_attention_forward(None, q, q, q, None, dropout=0.1, scaling=0.3)
    assert handed_over == [0.1]
    dropped = lean_layers.LeanDropout(0.1).train()(torch.empty(2, 8, device="meta"))
    assert dropped.shape == (2, 8)
    monkeypatch.setattr(torch, "randint", lambda *a, **k: pytest.fail("16-bit draw on a GPU"))
    mask = lean_layers._keep_mask(torch.Size([4, 4]), 0.1, torch.device("meta"))
    assert mask.dtype == torch.uint8 and mask.device.type == "meta"  # GPT-Neo's, on a GPU


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_lean_attention_runs_under_autocast_and_matches_the_model(arch, monkeypatch) -> None:
    # accelerate's bf16/fp16 runs wrap the forward in autocast; bmm into the fp32 buffers
    # then failed with "expected scalar type Float but found BFloat16". CPU autocast bf16
    # reproduces what a GPU run does.
    reference = _gpt2(dropout=0.0) if arch == "gpt2" else _gptneo()
    lean = copy.deepcopy(reference)
    for module in lean.modules():
        if hasattr(module, "attn_dropout"):
            module.attn_dropout.p = 1e-9  # the lean attention runs, dropping nothing
    make_lean(lean)
    calls = []
    original = lean_layers._RecomputedAttention.apply
    monkeypatch.setattr(lean_layers._RecomputedAttention, "apply",
                        lambda *a: calls.append(a[0].dtype) or original(*a))
    losses = []
    for model in (reference, lean):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(**_batch(), use_cache=False).loss
        loss.backward()
        losses.append(float(loss.detach()))
        assert all(torch.isfinite(p.grad).all() for p in model.parameters()
                   if p.grad is not None)

    assert calls == [torch.bfloat16] * 2  # it ran, on autocast's bf16 q, k, v
    assert abs(losses[0] - losses[1]) < 0.05
