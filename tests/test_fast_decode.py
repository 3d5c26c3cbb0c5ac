"""The lean decoder reproduces transformers' forward for GPT-2 and GPT-Neo, on shared weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartlap.lm.fast_decode import FAST_DECODE_VARIABLE, enabled, fast_decoder_for
from smartlap.lm.generation import GenerationSettings, generate_text
from smartlap.lm.loading import load_model

torch = pytest.importorskip("torch")


def _model(arch: str, dtype: str = "float32"):
    """A fresh tiny model; GPT-Neo's local window (4) is far shorter than the sequences."""
    from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoConfig, GPTNeoForCausalLM

    torch.manual_seed(0)
    if arch == "gpt2":
        config = GPT2Config(vocab_size=97, n_positions=96, n_embd=32, n_layer=3, n_head=4)
        model = GPT2LMHeadModel(config)
    else:
        config = GPTNeoConfig(vocab_size=97, max_position_embeddings=96, hidden_size=32,
                              num_layers=3, num_heads=4, window_size=4,
                              attention_types=[[["global", "local"], 1], [["local"], 1]])
        model = GPTNeoForCausalLM(config)
    return model.to(getattr(torch, dtype)).eval()


def _reference(model, ids: list[int]):
    with torch.inference_mode():
        return model(torch.tensor([ids])).logits[0].float()


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
@pytest.mark.parametrize("prompt_length", [1, 3, 11])
def test_logits_match_transformers_token_by_token(arch: str, prompt_length: int) -> None:
    model = _model(arch)
    ids = torch.randint(0, 97, (40,), generator=torch.Generator().manual_seed(1)).tolist()
    expected = _reference(model, ids)
    decoder = fast_decoder_for(model, max_length=len(ids))
    assert decoder is not None
    with torch.inference_mode():
        got = [decoder(ids[:prompt_length])]
        got += [decoder([token]) for token in ids[prompt_length:]]
    assert torch.allclose(torch.stack(got), expected[prompt_length - 1:], atol=1e-5)


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_a_prompt_longer_than_the_local_window_prefills_exactly(arch: str) -> None:
    model = _model(arch)
    ids = list(range(5, 35))
    decoder = fast_decoder_for(model, max_length=len(ids))
    with torch.inference_mode():
        got = decoder(ids)
    assert torch.allclose(got, _reference(model, ids)[-1], atol=1e-5)


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_half_precision_stays_close_to_transformers(arch: str) -> None:
    """On a GPU the weights are bf16; GPT-Neo's attention is upcast to fp32 as transformers does."""
    model = _model(arch, "bfloat16")
    ids = list(range(3, 23))
    decoder = fast_decoder_for(model, max_length=len(ids))
    with torch.inference_mode():
        got = torch.stack([decoder(ids[:5])] + [decoder([t]) for t in ids[5:]]).float()
    expected = _reference(model, ids)[4:]
    assert got.dtype == torch.float32 and torch.isfinite(got).all()
    assert (got - expected).abs().max() < 0.05 * expected.abs().max()


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_re_layout_shares_the_weights_and_keeps_the_model_intact(arch: str) -> None:
    model = _model(arch)
    ids = list(range(20))
    before = _reference(model, ids)

    def weight_bytes() -> int:
        storages = {p.untyped_storage().data_ptr(): p.untyped_storage().nbytes()
                    for p in model.parameters()}
        return sum(storages.values())

    bytes_before = weight_bytes()
    assert fast_decoder_for(model, 8) is not None
    assert model.lm_head.weight is model.transformer.wte.weight  # the tie survives
    assert weight_bytes() == bytes_before  # re-laid out, not copied
    assert torch.equal(_reference(model, ids), before)
    decoded = [p for p in model.parameters() if not p.is_contiguous()]
    assert decoded, "some weights should now be transposed views of the faster layout"


def test_weights_off_the_cpu_are_used_as_they_are() -> None:
    """The layout only matters for CPU GEMV; elsewhere the parameters stay untouched."""
    with torch.device("meta"):
        model = _model("gpt_neo")
    parameters = {name: p for name, p in model.named_parameters()}
    assert fast_decoder_for(model, 8) is not None
    assert all(p is parameters[name] for name, p in model.named_parameters())


def test_what_it_does_not_reproduce_goes_to_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    llama = LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2)).eval()
    assert fast_decoder_for(llama, 8) is None
    cross = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2,
                                       add_cross_attention=True)).eval()
    assert fast_decoder_for(cross, 8) is None
    training = _model("gpt2").train()
    assert fast_decoder_for(training, 8) is None
    monkeypatch.setenv(FAST_DECODE_VARIABLE, "0")
    assert not enabled() and fast_decoder_for(_model("gpt2"), 8) is None


def test_asking_past_its_length_is_an_error_not_a_silent_overwrite() -> None:
    decoder = fast_decoder_for(_model("gpt2"), max_length=4)
    with torch.inference_mode():
        decoder([1, 2, 3])
        decoder([4])
        with pytest.raises(ValueError, match="4 positions"):
            decoder([5])


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_stream_generate_writes_the_same_songs_either_way(arch: str,
                                                          request: pytest.FixtureRequest,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder: Path = request.getfixturevalue(f"tiny_{arch.replace('_', '')}_dir")
    settings = GenerationSettings(max_new_tokens=40, seed=7, samples=2, temperature=0.8)
    greedy = GenerationSettings(max_new_tokens=40, temperature=0)
    texts = {}
    for fast in ("1", "0"):
        monkeypatch.setenv(FAST_DECODE_VARIABLE, fast)
        loaded = load_model(folder, device="cpu")
        texts[fast] = [e.text for s in (settings, greedy)
                       for e in generate_text(loaded, "In de kroeg", s)]
    assert texts["1"] == texts["0"]
    assert all(texts["1"])


@pytest.mark.parametrize("arch_fixture", ["tiny_gpt2_dir", "tiny_gptneo_dir"])
def test_a_model_generated_with_saves_like_any_other(arch_fixture, request, tmp_path) -> None:
    """The fast layout is the decoder's business: save_pretrained and state_dict() consumers
    get ordinary contiguous weights with the same values, ties kept."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from smartlap.lm.generation import GenerationSettings, generate_text
    from smartlap.lm.loading import load_model

    source = request.getfixturevalue(arch_fixture)
    loaded = load_model(source, device="cpu")
    assert not type(loaded.model).__name__.startswith("Lean")  # the transformers model
    settings = GenerationSettings(max_new_tokens=12, seed=3)
    before = generate_text(loaded, "de kroeg", settings)[0].text
    state = loaded.model.state_dict()
    assert all(value.is_contiguous() for value in state.values())
    loaded.model.save_pretrained(tmp_path / "saved")
    original, saved = load_file(str(source / "model.safetensors")), \
        load_file(str(tmp_path / "saved" / "model.safetensors"))
    for key, value in saved.items():
        assert torch.equal(value, original[key]), key
    again = AutoModelForCausalLM.from_pretrained(tmp_path / "saved")
    assert again.get_output_embeddings().weight.data_ptr() == \
        again.get_input_embeddings().weight.data_ptr()  # still tied
    assert generate_text(loaded, "de kroeg", settings)[0].text == before  # decoder unharmed
