"""GPT-2 and GPT-Neo read straight from config.json and model.safetensors, for generation.

Importing transformers and building its model costs more than the whole generation of a
small model (seconds, against a fraction of one), and the lean decoder (``fast_decode``)
needs only the tensors. So for the configurations that decoder reproduces, the weights are
read with ``safetensors`` into torch and laid out for it directly; ``lean_reason`` says why
a folder is not one of them (another architecture, an adapter, an activation only
transformers has, ``SMARTLAP_FAST_DECODE=0``), and then ``loading`` uses transformers.

Only safetensors are read here (never pickle), and a folder is checked as strictly as
through transformers: a missing tensor or a shape that does not fit the config is a
``ModelError`` in the same words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smartlap.lm.fast_decode import (
    LEAN_ACTIVATIONS,
    LeanModel,
    _activation,
    _Block,
    _place,
    _Weights,
    enabled,
)
from smartlap.store import models as registry

LEAN_ARCHITECTURES = {"gpt2": "GPT2LMHeadModel", "gpt_neo": "GPTNeoForCausalLM"}
_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


class TensorMismatch(ValueError):
    """The files do not hold the tensors the config describes (``missing`` names them)."""

    def __init__(self, missing: list[str], wrong_shape: list[str]) -> None:
        super().__init__("missing" if missing else "tensor shapes differ")
        self.missing = missing
        self.wrong_shape = wrong_shape


def lean_reason(path: Path, config: dict[str, Any]) -> str | None:
    """Why this folder is not read the lean way (None: it is)."""
    model_type = config.get("model_type")
    architecture = LEAN_ARCHITECTURES.get(str(model_type))
    checks = [
        (enabled(), "SMARTLAP_FAST_DECODE is off"),
        (architecture is not None, f"model type {model_type!r}"),
        (config.get("architectures") in (None, [architecture]),
         f"architectures {config.get('architectures')!r}"),
        (not config.get("auto_map"), "custom code"),
        (not config.get("quantization_config"), "quantised weights"),
        (not config.get("add_cross_attention"), "cross-attention"),
        (config.get("activation_function", "gelu_new") in LEAN_ACTIVATIONS,
         f"activation {config.get('activation_function')!r}"),
        (registry.weights_format(path) == "safetensors", "no safetensors weights"),
        (not any((path / name).exists() for name in _ADAPTER_FILES), "an adapter"),
    ]
    return next((why for ok, why in checks if not ok), None)


def _read_tensors(path: Path) -> dict[str, Any]:
    """Every tensor of the folder's safetensors files, names without ``transformer.``."""
    from safetensors.torch import load_file

    tensors: dict[str, Any] = {}
    for file in registry.safetensors_files(path):
        for name, tensor in load_file(str(file), device="cpu").items():
            tensors[name.removeprefix("transformer.")] = tensor
    return tensors


class _Take:
    """Hands out tensors by name, checking each shape and keeping what is wrong."""

    def __init__(self, tensors: dict[str, Any], device: str, dtype: Any) -> None:
        self.tensors, self.device, self.dtype = tensors, device, dtype
        self.missing: list[str] = []
        self.wrong_shape: list[str] = []

    def __call__(self, name: str, *shape: int) -> Any:
        import torch

        tensor = self.tensors.get(name)
        if tensor is None:
            self.missing.append(name)
            return torch.zeros(shape)
        if tuple(tensor.shape) != shape:
            self.wrong_shape.append(name)
            return torch.zeros(shape)
        return tensor.to(device=self.device, dtype=self.dtype)

    def norm(self, prefix: str, d: int, eps: float) -> tuple[Any, Any, float]:
        return self(f"{prefix}.weight", d), self(f"{prefix}.bias", d), eps

    def done(self) -> None:
        if self.missing or self.wrong_shape:
            raise TensorMismatch(self.missing, self.wrong_shape)


def _gpt2_blocks(take: _Take, c: dict[str, Any], d: int) -> tuple[list[_Block], int]:
    inner = c.get("n_inner") or 4 * d
    heads = int(c.get("n_head", 12))
    eps = float(c.get("layer_norm_epsilon", 1e-5))
    blocks = []
    for i in range(int(c.get("n_layer", 12))):
        p = f"h.{i}"
        scale = (d // heads) ** -0.5 if c.get("scale_attn_weights", True) else 1.0
        if c.get("scale_attn_by_inverse_layer_idx", False):
            scale /= float(i + 1)
        # Conv1D weights are stored (in, out) already.
        blocks.append(_Block(
            ln_1=take.norm(f"{p}.ln_1", d, eps), ln_2=take.norm(f"{p}.ln_2", d, eps),
            qkv=[_place(take(f"{p}.attn.c_attn.weight", d, 3 * d),
                        take(f"{p}.attn.c_attn.bias", 3 * d))],
            out=_place(take(f"{p}.attn.c_proj.weight", d, d), take(f"{p}.attn.c_proj.bias", d)),
            fc=_place(take(f"{p}.mlp.c_fc.weight", d, inner), take(f"{p}.mlp.c_fc.bias", inner)),
            proj=_place(take(f"{p}.mlp.c_proj.weight", inner, d),
                        take(f"{p}.mlp.c_proj.bias", d)),
            scale=float(scale), window=None,
            upcast=bool(c.get("reorder_and_upcast_attn", False))))
    return blocks, heads


def _gptneo_blocks(take: _Take, c: dict[str, Any], d: int) -> tuple[list[_Block], int]:
    inner = c.get("intermediate_size") or 4 * d
    eps = float(c.get("layer_norm_epsilon", 1e-5))
    kinds = [kind for group, times in c.get("attention_types", [[["global", "local"], 12]])
             for _ in range(times) for kind in group]
    if len(kinds) != int(c.get("num_layers", 24)):
        raise TensorMismatch([], ["attention_types"])

    def linear(name: str, n_in: int, n_out: int, bias: bool = True) -> Any:
        weight = take(f"{name}.weight", n_out, n_in)  # nn.Linear: (out, in)
        return _place(weight.t(), take(f"{name}.bias", n_out) if bias else None)

    blocks = []
    for i, kind in enumerate(kinds):
        p = f"h.{i}"
        a = f"{p}.attn.attention"
        blocks.append(_Block(
            ln_1=take.norm(f"{p}.ln_1", d, eps), ln_2=take.norm(f"{p}.ln_2", d, eps),
            qkv=[linear(f"{a}.{x}_proj", d, d, bias=False) for x in "qkv"],
            out=linear(f"{a}.out_proj", d, d),
            fc=linear(f"{p}.mlp.c_fc", d, inner), proj=linear(f"{p}.mlp.c_proj", inner, d),
            scale=1.0, window=int(c.get("window_size", 256)) if kind == "local" else None,
            upcast=True))
    return blocks, int(c.get("num_heads", 16))


def read_lean_model(path: Path, config: dict[str, Any], device: str,
                    dtype: Any) -> tuple[LeanModel, dict[str, Any]]:
    """The folder's model for the lean decoder, and every tensor read (for the finite check).

    Raises ``TensorMismatch`` when the tensors do not fit the config."""
    tensors = _read_tensors(path)
    take = _Take(tensors, device, dtype)
    neo = config.get("model_type") == "gpt_neo"
    d = int(config.get("hidden_size" if neo else "n_embd", 2048 if neo else 768))
    vocab = int(config.get("vocab_size", 50257))
    positions = int(config.get("max_position_embeddings" if neo else "n_positions",
                               2048 if neo else 1024))
    eps = float(config.get("layer_norm_epsilon", 1e-5))
    wte = take("wte.weight", vocab, d)
    wpe = take("wpe.weight", positions, d)
    blocks, heads = (_gptneo_blocks if neo else _gpt2_blocks)(take, config, d)
    ln_f = take.norm("ln_f", d, eps)
    if config.get("tie_word_embeddings", True):
        head = _place(wte.t(), None)
        wte = head.weight if head.out_in else head.weight.t()  # one copy, as when tied
    else:
        head = _place(take("lm_head.weight", vocab, d).t(), None)
    take.done()
    weights = _Weights(wte=wte, wpe=wpe, blocks=blocks, ln_f=ln_f, head=head, heads=heads,
                       act=_activation(config.get("activation_function", "gelu_new")))
    architecture = LEAN_ARCHITECTURES[str(config.get("model_type"))]
    model = LeanModel(architecture, weights, {**config, "n_positions": positions})
    return model, tensors
