"""A plain peft adapter from elsewhere: `models add ADAPTER` and `generate --model ADAPTER`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from smartlap.cli import main
from smartlap.errors import ModelError, NotFoundError


def _adapter(base_dir: Path, target: Path, base_name: str) -> Path:
    """A LoRA adapter on the tiny GPT-2 with non-zero weights, saved as peft saves it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True,
                        init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(target)
    settings = json.loads((target / "adapter_config.json").read_text())
    settings["base_model_name_or_path"] = base_name
    (target / "adapter_config.json").write_text(json.dumps(settings))
    return target


def _generated(capsys, model: str) -> str:
    assert main(["generate", "--model", model, "--prompt", "de kroeg", "--seed", "5",
                 "--max-new-tokens", "16", "--json", "--no-originality"]) == 0
    ends = [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if '"sample_end"' in line]
    return ends[0]["text"]


def test_an_adapter_is_added_and_generates_on_its_base(tiny_gpt2_dir: Path, tmp_path: Path,
                                                       capsys) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from smartlap.lm.generation import GenerationSettings, generate_text
    from smartlap.lm.loading import LoadedModel, load_model
    from smartlap.store.models import get_model, register_model

    register_model(tiny_gpt2_dir, "klein", transfer="link")
    folder = _adapter(tiny_gpt2_dir, tmp_path / "kroeg-lora", "klein")
    assert main(["models", "add", str(folder), "--name", "kroeg-lora", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)["model"]
    assert added["base"] == "klein" and added["architecture"] == "GPT2LMHeadModel + adapter"
    assert added["weights"] == "safetensors" and added["params"] > 0
    assert get_model("kroeg-lora").metadata["kind"] == "adapter"

    text = _generated(capsys, "kroeg-lora")
    # the same as applying the adapter by hand with peft and generating from that
    base = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir)
    merged = PeftModel.from_pretrained(base, str(folder)).merge_and_unload().eval()
    plain = load_model("klein", device="cpu")
    by_hand = LoadedModel(model=merged, tokenizer=plain.tokenizer, info=plain.info,
                          device="cpu")
    settings = GenerationSettings(seed=5, max_new_tokens=16)
    assert text == generate_text(by_hand, "de kroeg", settings)[0].text
    loaded = load_model("kroeg-lora", device="cpu")
    base_weight = plain.model.transformer.h[0].attn.c_attn.weight
    assert not torch.equal(loaded.model.transformer.h[0].attn.c_attn.weight, base_weight)


def test_an_adapter_without_its_base_is_refused_with_the_way_to_get_it(
        tiny_gpt2_dir: Path, tmp_path: Path, capsys) -> None:
    from smartlap.store.models import register_model

    folder = _adapter(tiny_gpt2_dir, tmp_path / "wees", "GroNLP/gpt2-small-dutch")
    with pytest.raises(NotFoundError) as caught:
        register_model(folder, "wees")
    assert "applies to 'GroNLP/gpt2-small-dutch', which is not here" in caught.value.message
    assert "smartlap models pull GroNLP/gpt2-small-dutch" in caught.value.hint
    assert main(["generate", "--model", str(folder)]) != 0
    assert "which is not here" in " ".join(capsys.readouterr().err.split())


def test_a_pickled_adapter_needs_allow_pickle(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from smartlap.lm.loading import load_model
    from smartlap.store.models import register_model

    register_model(tiny_gpt2_dir, "klein", transfer="link")
    folder = _adapter(tiny_gpt2_dir, tmp_path / "oud", "klein")
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(str(folder / "adapter_model.safetensors")),
               folder / "adapter_model.bin")
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(ModelError, match="pickled weights"):
        load_model(folder, device="cpu")
    assert load_model(folder, device="cpu", allow_pickle=True).model is not None
    shutil.rmtree(folder)
