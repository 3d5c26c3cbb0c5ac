"""Safe loading: both architectures, every refusal and every broken-folder error; devices."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap.errors import ModelError, UsageError
from smartlap.lm.device import choose_device, choose_placement, choose_precision
from smartlap.lm.loading import load_model, save_model
from smartlap.store.models import register_model


def _copy(source: Path, tmp_path: Path, name: str = "model") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("fixture,cls", [("tiny_gpt2_dir", "GPT2LMHeadModel"),
                                         ("tiny_gptneo_dir", "GPTNeoForCausalLM")])
def test_both_architectures_load_on_cpu_with_pad_token(fixture: str, cls: str,
                                                       request: pytest.FixtureRequest) -> None:
    loaded = load_model(request.getfixturevalue(fixture))
    assert type(loaded.model).__name__ == cls
    assert loaded.device == "cpu" and loaded.precision == "fp32"
    assert not loaded.model.training
    tokenizer = loaded.tokenizer
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    assert loaded.model.generation_config.pad_token_id == tokenizer.eos_token_id
    assert loaded.context_length == 128
    assert loaded.vocab_surplus_ids == []


def test_registered_model_loads_by_name(tiny_gptneo_dir: Path) -> None:
    register_model(tiny_gptneo_dir, "neo")
    loaded = load_model("neo")
    assert loaded.info.name == "neo" and loaded.info.origin == "local"


def test_missing_config_is_one_error(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "config.json").unlink()
    with pytest.raises(Exception) as info:
        load_model(folder)
    assert "config.json" in str(info.value) and info.value.hint


def test_missing_weights(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no weights"):
        load_model(folder)


def test_missing_tokenizer(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="no tokenizer"):
        load_model(folder)


def test_truncated_weights(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated") as info:
        load_model(folder)
    assert info.value.hint


def test_garbage_weights_file(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(ModelError, match="damaged"):
        load_model(folder)


def test_nan_weights_are_corrupt(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = _copy(tiny_gpt2_dir, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    name = next(k for k in tensors if k.endswith("c_fc.weight"))
    tensors[name][0, 0] = float("nan")
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelError, match=r"corrupt.*NaN"):
        load_model(folder)


def test_weights_of_another_architecture(tiny_gpt2_dir: Path, tiny_gptneo_dir: Path,
                                         tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    shutil.copy(tiny_gptneo_dir / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(ModelError, match="do not match"):
        load_model(folder)


def test_tokenizer_that_does_not_fit_the_vocabulary(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from helpers import SAMPLE_LYRICS

    from smartlap.lm.tokenizer import train_bpe_tokenizer

    folder = _copy(tiny_gpt2_dir, tmp_path)
    bigger = train_bpe_tokenizer(SAMPLE_LYRICS * 8, vocab_size=420, min_frequency=1)
    assert len(bigger) > 300
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    bigger.save_pretrained(folder)
    with pytest.raises(ModelError, match="do not belong together"):
        load_model(folder)


def test_pickled_weights_refused_unless_allowed(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    folder = _copy(tiny_gpt2_dir, tmp_path)
    tensors = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(tensors, folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match="pickled") as info:
        load_model(folder)
    assert "--allow-pickle" in info.value.hint
    loaded = load_model(folder, allow_pickle=True)
    assert type(loaded.model).__name__ == "GPT2LMHeadModel"


@pytest.mark.parametrize("change", [{"auto_map": {"AutoModelForCausalLM": "x.Model"}},
                                    {"model_type": "my-own-arch"}])
def test_remote_code_refused_unless_asked(change: dict, tiny_gpt2_dir: Path,
                                          tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config.update(change)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="custom Python code") as info:
        load_model(folder)
    assert "--trust-remote-code" in info.value.hint


def test_unreadable_config(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_gpt2_dir, tmp_path)
    (folder / "config.json").write_text("{ not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(folder)


def test_unknown_model_name_has_hint() -> None:
    with pytest.raises(Exception) as info:
        load_model("no-such-model")
    assert "models list" in info.value.hint


@pytest.mark.slow
def test_saved_checkpoint_loads_in_plain_transformers_pipeline(tiny_gpt2_dir: Path,
                                                               smartlap_home: Path) -> None:
    loaded = load_model(tiny_gpt2_dir)
    info = save_model(loaded.model, loaded.tokenizer, "fijn-getuned", origin="fine-tuned",
                      training={"best_epoch": 1, "best_val_loss": 2.5})
    assert info.origin == "fine-tuned" and info.training["best_epoch"] == 1
    assert (smartlap_home / "models" / "fijn-getuned" / "smartlap.json").is_file()
    code = (
        "import sys\n"
        "from transformers import pipeline\n"
        f"generator = pipeline('text-generation', model={str(info.path)!r}, device='cpu')\n"
        "out = generator('In de kroeg', max_new_tokens=5, do_sample=False)\n"
        "assert not [m for m in sys.modules if m.startswith('smartlap')]\n"
        "text = out[0]['generated_text']\n"
        "print(type(generator.model).__name__, text.startswith('In de kroeg'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=str(info.path), timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["GPT2LMHeadModel", "True"]


# --- device and dtype choice, with fake hardware ----------------------------------------------

class FakeBackends:
    def __init__(self, cuda: int = 0, bf16: bool = False, mps: bool = False) -> None:
        self.cuda, self.bf16, self.mps = cuda, bf16, mps

    def cuda_available(self) -> bool:
        return self.cuda > 0

    def cuda_device_count(self) -> int:
        return self.cuda

    def cuda_bf16_supported(self) -> bool:
        return self.bf16

    def mps_available(self) -> bool:
        return self.mps


@pytest.mark.parametrize("backends,expected", [
    (FakeBackends(cuda=1, bf16=True, mps=True), ("cuda", "bf16")),
    (FakeBackends(cuda=1, bf16=False), ("cuda", "fp16")),
    (FakeBackends(mps=True), ("mps", "fp16")),
    (FakeBackends(), ("cpu", "fp32")),
])
def test_automatic_device_order_and_dtype(backends: FakeBackends, expected: tuple) -> None:
    placement = choose_placement(None, "auto", backends)
    assert (placement.device, placement.precision) == expected


def test_explicit_devices() -> None:
    two_gpus = FakeBackends(cuda=2, bf16=True)
    assert choose_device("cpu", two_gpus) == "cpu"
    assert choose_device("CUDA:1", two_gpus) == "cuda:1"
    with pytest.raises(ModelError, match="no GPU cuda:2"):
        choose_device("cuda:2", two_gpus)
    with pytest.raises(ModelError, match="no CUDA GPU"):
        choose_device("cuda", FakeBackends())
    with pytest.raises(ModelError, match="MPS"):
        choose_device("mps", FakeBackends())
    with pytest.raises(UsageError):
        choose_device("tpu", FakeBackends())
    assert choose_precision("cpu", "bf16", FakeBackends()) == "bf16"
    with pytest.raises(ModelError, match="bf16"):
        choose_precision("cuda", "bf16", FakeBackends(cuda=1))
    with pytest.raises(UsageError):
        choose_precision("cpu", "int4", FakeBackends())


def test_real_machine_without_gpu_picks_cpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert choose_device() in {"cpu", "mps"}
