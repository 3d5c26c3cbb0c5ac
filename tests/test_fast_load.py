"""The lean path: GPT-2 and GPT-Neo read from their files without transformers, with the
same tokens, logits and refusals as through transformers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap.errors import ModelError
from smartlap.lm.fast_decode import FAST_DECODE_VARIABLE, fast_decoder_for
from smartlap.lm.fast_load import lean_reason
from smartlap.lm.generation import GenerationSettings, generate_text, stream_generate
from smartlap.lm.loading import load_model
from smartlap.lm.session import GenerationSession, demo_notice
from smartlap.store import models as registry

torch = pytest.importorskip("torch")

ARCHS = ["gpt2", "gpt_neo"]
TEXTS = ["ik mis je", "", "In de kroeg op de hoek brandt nog licht,\nmoeder wacht <|endoftext|> "
         "café één, twee — zij zweeg. 😀", "  spaties  \n\n"]


def _folder(arch: str, request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"tiny_{arch.replace('_', '')}_dir")


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(source, target)
    return target


def _both(folder: Path):
    """The same folder loaded through transformers and the lean way."""
    return load_model(folder, device="cpu"), load_model(folder, device="cpu", lean=True)


@pytest.mark.parametrize("arch", ARCHS)
def test_the_lean_model_is_read_without_a_transformers_model(
        arch: str, request: pytest.FixtureRequest) -> None:
    hf, lean = _both(_folder(arch, request))
    assert not hf.lean and lean.lean
    assert type(lean.model).__name__ == "LeanModel"
    assert type(lean.tokenizer).__name__ == "FastTokenizer"
    assert lean.context_length == hf.context_length == 128
    assert lean.vocab_surplus_ids == hf.vocab_surplus_ids


@pytest.mark.parametrize("arch", ARCHS)
def test_lean_logits_match_transformers_forward(arch: str, request: pytest.FixtureRequest) -> None:
    hf, lean = _both(_folder(arch, request))
    ids = torch.randint(0, len(hf.tokenizer), (1, 40),
                        generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        expected = hf.model(input_ids=ids).logits[0].float()
        every = lean.model(input_ids=ids).logits[0]
        decoder = fast_decoder_for(lean.model, 40)
        stepped = [decoder(ids[0, :5].tolist())] + [decoder([t]) for t in ids[0, 5:].tolist()]
    assert torch.allclose(every, expected, atol=1e-5)
    assert torch.allclose(torch.stack(stepped), expected[4:], atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_seeded_generation_gives_the_same_tokens_both_ways(
        arch: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean path against transformers' model and forward (SMARTLAP_FAST_DECODE=0)."""
    folder = _folder(arch, request)
    lean = load_model(folder, device="cpu", lean=True)
    monkeypatch.setenv(FAST_DECODE_VARIABLE, "0")
    hf = load_model(folder, device="cpu", lean=True)  # the switch sends it to transformers
    assert not hf.lean and type(hf.model).__name__ != "LeanModel"
    runs = [GenerationSettings(max_new_tokens=40, seed=7, samples=2, temperature=0.8),
            GenerationSettings(max_new_tokens=40, temperature=0)]
    got = {}
    for name, loaded in (("lean", lean), ("transformers", hf)):
        got[name] = [(e.text, e.tokens, e.reason) for s in runs
                     for e in generate_text(loaded, "In de kroeg", s)]
    assert got["lean"] == got["transformers"]
    assert all(text for text, _, _ in got["lean"])


@pytest.mark.parametrize("arch", ARCHS)
def test_next_line_scores_are_the_same_on_the_lean_model(arch: str,
                                                         request: pytest.FixtureRequest) -> None:
    from smartlap.lm.constrained import line_logprob

    hf, lean = _both(_folder(arch, request))
    for context, line in (("In de kroeg", "brandt nog licht"), ("", "moeder wacht")):
        assert line_logprob(lean, context, line) == pytest.approx(
            line_logprob(hf, context, line), abs=1e-5)


def test_steered_next_lines_are_the_same_on_the_lean_model(tiny_gpt2_dir: Path) -> None:
    from smartlap.lm.constrained import next_line_candidates

    hf, lean = _both(tiny_gpt2_dir)
    settings = GenerationSettings(seed=2, temperature=0.9, max_new_tokens=24)
    found = [[(c.text, round(c.score, 4)) for c in next_line_candidates(
        loaded, "In de kroeg op de hoek brandt nog licht,\n", rhyme_with="licht", candidates=4,
        settings=settings)] for loaded in (hf, lean)]
    assert found[0] == found[1] and found[0]


def test_untied_head_and_layer_scaled_attention_match_too(tmp_path: Path,
                                                          tiny_gpt2_dir: Path) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = _copy(tiny_gpt2_dir, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    torch.manual_seed(1)
    model = GPT2LMHeadModel(GPT2Config(
        vocab_size=config["vocab_size"], n_positions=128, n_embd=32, n_layer=2, n_head=2,
        tie_word_embeddings=False, scale_attn_by_inverse_layer_idx=True))
    model.save_pretrained(folder, safe_serialization=True)
    hf, lean = _both(folder)
    ids = torch.tensor([list(range(1, 30))])
    with torch.inference_mode():
        assert torch.allclose(lean.model(input_ids=ids).logits, hf.model(input_ids=ids).logits,
                              atol=1e-5)


@pytest.mark.parametrize("folder", ["tiny_gpt2_dir", "bundled", "GPT2Tokenizer",
                                    "GPT2TokenizerFast"])
def test_the_tokenizer_read_directly_matches_transformers(
        folder: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from smartlap.lm.tokenizer import read_fast_tokenizer

    if folder == "bundled":
        path = registry.bundled_models_dir() / registry.DEFAULT_MODEL
        if not (path / "tokenizer.json").is_file():
            pytest.skip("smartlap-mini is not built in this checkout")
    elif folder.startswith("GPT2"):  # as GPT-2 and GPT-Neo checkpoints name their tokenizer
        path = _copy(request.getfixturevalue("tiny_gpt2_dir"), tmp_path)
        config = json.loads((path / "tokenizer_config.json").read_text())
        (path / "tokenizer_config.json").write_text(json.dumps(
            {**config, "tokenizer_class": folder}))
    else:
        path = request.getfixturevalue(folder)
    hf, fast = AutoTokenizer.from_pretrained(path), read_fast_tokenizer(path)
    assert fast is not None
    assert len(fast) == len(hf) and fast.all_special_ids == hf.all_special_ids
    assert (fast.eos_token_id, fast.bos_token_id, fast.pad_token) == \
        (hf.eos_token_id, hf.bos_token_id, hf.pad_token or hf.eos_token)
    for text in TEXTS:
        ids = hf.encode(text, add_special_tokens=False)
        assert fast.encode(text, add_special_tokens=False) == ids
        for skip in (True, False):
            assert fast.decode(ids, skip_special_tokens=skip) == hf.decode(
                ids, skip_special_tokens=skip, clean_up_tokenization_spaces=False)
    for token in range(len(hf)):
        assert fast.decode([token], skip_special_tokens=True) == hf.decode(
            [token], skip_special_tokens=True, clean_up_tokenization_spaces=False)
    every = list(range(len(hf)))
    assert fast.convert_ids_to_tokens(every) == hf.convert_ids_to_tokens(every)
    singles = [[token] for token in every]
    assert fast.batch_decode(singles, skip_special_tokens=True) == hf.batch_decode(
        singles, skip_special_tokens=True, clean_up_tokenization_spaces=False)


def test_another_tokenizer_class_goes_through_transformers(tiny_gpt2_dir: Path,
                                                           tmp_path: Path) -> None:
    from smartlap.lm.tokenizer import read_fast_tokenizer

    folder = _copy(tiny_gpt2_dir, tmp_path)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {**config, "tokenizer_class": "LlamaTokenizer"}))
    assert read_fast_tokenizer(folder) is None
    assert read_fast_tokenizer(tmp_path) is None  # no tokenizer.json at all


def test_what_the_lean_path_does_not_cover_goes_to_transformers(
        tiny_gpt2_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    config = registry.read_config(folder)
    assert lean_reason(folder, config) is None
    assert "model type" in lean_reason(folder, {**config, "model_type": "llama"})
    assert "activation" in lean_reason(folder, {**config, "activation_function": "silu"})
    assert "cross-attention" in lean_reason(folder, {**config, "add_cross_attention": True})
    (folder / "adapter_config.json").write_text("{}")
    assert "adapter" in lean_reason(folder, config)
    (folder / "adapter_config.json").unlink()
    monkeypatch.setenv(FAST_DECODE_VARIABLE, "0")
    assert "SMARTLAP_FAST_DECODE" in lean_reason(folder, config)


def test_lean_loading_refuses_what_transformers_loading_refuses(
        tiny_gpt2_dir: Path, tiny_gptneo_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = _copy(tiny_gpt2_dir, tmp_path)
    shutil.copy(tiny_gptneo_dir / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(ModelError, match=r"do not match its config: \d+ tensor\(s\) missing"):
        load_model(folder, lean=True)

    shutil.copy(tiny_gpt2_dir / "model.safetensors", folder / "model.safetensors")
    tensors = load_file(folder / "model.safetensors")
    name = next(k for k in tensors if k.endswith("c_fc.weight"))
    tensors[name][0, 0] = float("nan")
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelError, match=r"corrupt.*NaN"):
        load_model(folder, lean=True)

    tensors[name] = tensors[name][:, :-1].contiguous()
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelError, match="tensor shapes differ"):
        load_model(folder, lean=True)


def test_pickled_weights_are_never_read_lean(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not even a pickle")
    with pytest.raises(ModelError, match="pickled"):
        load_model(folder, lean=True)
    assert "no safetensors" in lean_reason(folder, registry.read_config(folder))


def test_the_demo_notice_is_for_the_bundled_model_only(tiny_gpt2_dir: Path) -> None:
    from types import SimpleNamespace

    bundled = SimpleNamespace(name=registry.DEFAULT_MODEL, origin="bundled")
    said = demo_notice(bundled)
    assert said and "models pull gpt2-small-dutch" in said and "models add" in said
    assert demo_notice(SimpleNamespace(name=registry.DEFAULT_MODEL, origin="local")) is None
    session = GenerationSession.open(tiny_gpt2_dir, device="cpu")
    assert session.demo_notice is None and session.loaded.lean


def test_the_session_streams_what_stream_generate_streams(tiny_gpt2_dir: Path) -> None:
    session = GenerationSession.open(tiny_gpt2_dir, device="cpu")
    settings = session.settings(None, max_new_tokens=20, seed=3, temperature=None)
    assert settings.temperature == GenerationSettings().temperature  # None: not set here
    direct = [e.to_dict() for e in stream_generate(session.loaded, "Mijn hart", settings)]
    through = [e.to_dict() for e in session.stream("Mijn hart", settings)]
    for events in (direct, through):
        for event in events:
            for clock in ("time", "seconds", "time_to_first_token"):
                event.pop(clock, None)
    assert through == direct
    assert session.copy_check is session.copy_check  # one check, its index built once


@pytest.mark.slow
def test_generate_on_the_bundled_model_imports_no_transformers() -> None:
    if registry.DEFAULT_MODEL not in registry.bundled_entries():
        pytest.skip("smartlap-mini is not built in this checkout")
    code = ("import sys; from smartlap.cli import main; "
            "rc = main(['generate', '--prompt', 'ik mis je', '--max-new-tokens', '20', "
            "'--seed', '1']); "
            "print('imported:', sorted(m for m in ('transformers', 'accelerate', 'peft') "
            "if m in sys.modules), file=sys.stderr); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=os.environ.copy(), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "imported: []" in result.stderr
    assert result.stderr.count("tiny demo model") == 1  # said once, on stderr
    assert "smartlap models pull gpt2-small-dutch" in result.stderr
    assert "SAMPLE 1" in result.stdout and "demo model" not in result.stdout
