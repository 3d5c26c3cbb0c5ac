"""Which weights learn: ``full``, ``embeddings`` (GroNLP's recipe) or ``lora`` (peft).

- full: every parameter.
- embeddings: only the token and position embeddings; the transformer blocks stay as they
  are. GroNLP adapted English GPT-2 to Dutch this way, keeping what the blocks know.
- lora: low-rank adapters on the attention and MLP projections. GPT-2 implements them as
  ``Conv1D`` (weights stored transposed, hence ``fan_in_fan_out``); GPT-Neo as ``Linear``.
  Adapters are saved as a plain peft adapter and merged into a full model on export, so the
  exported checkpoint loads without peft.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch

from smartlap.errors import UsageError

LORA_TARGETS = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gpt_neo": ["q_proj", "k_proj", "v_proj", "out_proj", "c_fc", "c_proj"],
}


def apply_mode(model: torch.nn.Module, mode: str, lora_rank: int = 8,
               lora_alpha: float | None = None, lora_dropout: float = 0.05,
               lora_targets: list[str] | None = None) -> torch.nn.Module:
    """Set ``requires_grad`` for the mode; for lora, return the peft-wrapped model."""
    if mode == "full":
        for param in model.parameters():
            param.requires_grad_(True)
        return model
    if mode == "embeddings":
        for param in model.parameters():
            param.requires_grad_(False)
        embeddings = [model.get_input_embeddings(), _position_embeddings(model)]
        for module in embeddings:
            if module is not None:
                for param in module.parameters():
                    param.requires_grad_(True)
        return model
    if mode == "lora":
        from peft import LoraConfig, get_peft_model

        model_type = getattr(model.config, "model_type", "")
        targets = (_checked_targets(model, lora_targets) if lora_targets
                   else LORA_TARGETS.get(model_type, "all-linear"))
        config = LoraConfig(r=lora_rank,
                            lora_alpha=2 * lora_rank if lora_alpha is None else lora_alpha,
                            lora_dropout=lora_dropout, target_modules=targets,
                            task_type="CAUSAL_LM", fan_in_fan_out=model_type == "gpt2")
        with warnings.catch_warnings():  # peft asks transformers' deprecated property; a
            warnings.filterwarnings(  # warning about library internals helps no songwriter
                "ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            return get_peft_model(model, config)
    raise UsageError(f"Unknown mode {mode!r}.", "Use full, embeddings or lora.")


def _checked_targets(model: torch.nn.Module, targets: list[str]) -> list[str]:
    """The asked module names, each one that the model really has (else a clear error)."""
    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"}
    wanted = [target.strip() for target in targets if target.strip()]
    unknown = [target for target in wanted if target not in names]
    if unknown:
        raise UsageError(f"The model has no layer named {', '.join(unknown)} for LoRA.",
                         f"Its projection layers are: {', '.join(sorted(names))}.")
    return wanted


def _position_embeddings(model: torch.nn.Module) -> torch.nn.Module | None:
    base = getattr(model, "transformer", None) or getattr(model, "model", None)
    return getattr(base, "wpe", None) if base is not None else None


def count_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(all, trainable) parameters, each shared tensor counted once."""
    seen: dict[int, torch.nn.Parameter] = {}
    for param in model.parameters():
        seen.setdefault(id(param), param)
    total = sum(p.numel() for p in seen.values())
    trainable = sum(p.numel() for p in seen.values() if p.requires_grad)
    return total, trainable


def is_peft(model: torch.nn.Module) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "merge_and_unload")


def exportable(model: torch.nn.Module) -> torch.nn.Module:
    """A plain transformers model to save: lora adapters merged into a copy of the base."""
    if not is_peft(model):
        return model
    merged = copy.deepcopy(model).merge_and_unload()
    for param in merged.parameters():
        param.requires_grad_(False)
    return merged


def save_adapter(model: torch.nn.Module, folder: Path, base_id: str) -> None:
    """Save the plain peft adapter, naming its base by ``base_id``, not this machine's path.

    peft writes the local folder the base was loaded from, which means nothing on another
    machine; a hub id (when the base came from the hub) loads anywhere, and a smartlap
    model name at least says what the base is.
    """
    from smartlap.fsutil import atomic_write_json, read_json

    model.save_pretrained(folder)
    config_file = Path(folder) / "adapter_config.json"
    config = read_json(config_file)
    config["base_model_name_or_path"] = base_id
    atomic_write_json(config_file, config)
