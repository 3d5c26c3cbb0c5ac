"""One loader for every model source: bundled, pulled, local folders and fine-tuned runs.

Loading is where untrusted files meet code, so it is strict: safetensors only (pickled
``.bin`` weights can run arbitrary code and are refused unless ``allow_pickle``), never
``trust_remote_code`` unless asked, and every way a folder can be broken (missing files,
truncated or corrupt weights, a tokenizer that does not fit the model) becomes one clear
``ModelError`` instead of a traceback from deep inside transformers.

For generation (``lean=True``) a GPT-2 or GPT-Neo folder with safetensors and a plain
tokenizer.json is read without transformers (``fast_load``, ``tokenizer.read_fast_tokenizer``):
the first token comes about as soon as torch is imported. Everything else — training,
reports, other architectures, adapters, pickled weights — goes through transformers.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartlap.errors import ModelError
from smartlap.lm.device import choose_placement, is_out_of_memory, torch_dtype
from smartlap.lm.fast_load import LEAN_ARCHITECTURES
from smartlap.store import models as registry
from smartlap.store.models import ModelInfo

_RECOVERY_HINT = "Re-download it ('smartlap models pull ID') or re-save it from training."


@dataclass
class LoadedModel:
    """A model ready to generate: weights on ``device``, tokenizer with a pad token."""

    model: Any  # a transformers model, or a fast_decode.LeanModel (generation only)
    tokenizer: Any  # a transformers tokenizer, or a tokenizer.FastTokenizer
    info: ModelInfo
    device: str
    precision: str = "fp32"

    @property
    def lean(self) -> bool:
        """Read without transformers: it can generate and score lines, not train."""
        return type(self.model).__name__ == "LeanModel"

    @property
    def context_length(self) -> int:
        return int(self.info.context_length or getattr(self.model.config, "n_positions", 1024))

    @property
    def vocab_surplus_ids(self) -> list[int]:
        """Embedding rows the tokenizer cannot decode (padding); never to be sampled."""
        rows = self.model.get_input_embeddings().num_embeddings
        return list(range(len(self.tokenizer), rows))


def _check_safety(path: Path, config: dict[str, Any], trust_remote_code: bool,
                  allow_pickle: bool) -> None:
    needs_code = bool(config.get("auto_map")) or not _native_model_type(config.get("model_type"))
    if needs_code and not trust_remote_code:
        raise ModelError(
            f"{path.name} needs custom Python code shipped with the model "
            f"(model type {config.get('model_type')!r}); smartlap does not run it by default.",
            "Only if you trust its author, pass --trust-remote-code. GPT-2 and GPT-Neo models "
            "never need it.")
    kind = registry.weights_format(path)
    if kind is None:
        raise ModelError(f"{path} has no weights file (model.safetensors).",
                         "Save the model with save_pretrained(folder) — safetensors is the "
                         "default — or re-download it.")
    if kind == "pickle" and not allow_pickle:
        raise ModelError(
            f"{path.name} only has pickled weights (pytorch_model.bin), which can run code "
            "when loaded.",
            "Convert it to safetensors (load once and save_pretrained), or pass "
            "--allow-pickle if you trust where it came from.")
    if kind == "safetensors":
        try:
            files = registry.safetensors_files(path)
            for file in files:
                if not file.is_file():
                    raise ModelError(f"Weight shard {file.name} is missing from {path}.",
                                     _RECOVERY_HINT)
                registry.read_safetensors_header(file)
        except registry.SafetensorsHeaderError as exc:
            raise ModelError(f"The weights of {path.name} are damaged: {exc}.",
                             _RECOVERY_HINT) from None


def _native_model_type(model_type: object) -> bool:
    """A model type transformers implements itself (asking it only for the ones not read lean)."""
    if model_type in LEAN_ARCHITECTURES:
        return True
    from transformers import CONFIG_MAPPING

    return model_type in CONFIG_MAPPING


def _unloadable(path: Path, exc: BaseException) -> ModelError:
    """The one error for weights that would not load, lean or through transformers: out of
    memory, or the first line of the reason."""
    if is_out_of_memory(exc):
        return ModelError(f"Not enough memory to load {path.name}.",
                          "Close other programs, or use a smaller model.")
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ModelError(f"The weights of {path.name} cannot be loaded: {reason}", _RECOVERY_HINT)


def _does_not_fit(name: str, device: Any) -> ModelError:
    return ModelError(f"{name} does not fit in {device} memory.",
                      "Use --device cpu, or a smaller model.")


def _mismatch(path: Path, missing: list[str]) -> ModelError:
    """The weights hold other tensors than the config describes (missing, or other shapes)."""
    if not missing:
        return ModelError(f"The weights of {path.name} do not match its config: tensor "
                          "shapes differ.", _RECOVERY_HINT)
    shown = ", ".join(sorted(missing)[:3])
    return ModelError(f"The weights of {path.name} do not match its config: "
                      f"{len(missing)} tensor(s) missing ({shown}...).", _RECOVERY_HINT)


def _load_tokenizer(path: Path, trust_remote_code: bool, lean: bool = False) -> Any:
    if not any((path / name).is_file() for name in registry.TOKENIZER_FILES):
        raise ModelError(f"{path} has no tokenizer (tokenizer.json or vocab.json + merges.txt).",
                         "Save the tokenizer into the model folder with "
                         "tokenizer.save_pretrained(folder).")
    if lean:
        from smartlap.lm.tokenizer import read_fast_tokenizer

        fast = read_fast_tokenizer(path)
        if fast is not None and fast.eos_token is not None:
            return fast
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except Exception as exc:  # transformers raises many kinds here
        raise ModelError(f"The tokenizer in {path} cannot be loaded: {exc}",
                         "Re-save the tokenizer with tokenizer.save_pretrained(folder).") from None
    if tokenizer.eos_token is None:
        raise ModelError(f"The tokenizer in {path} has no end-of-text token.",
                         "Set eos_token in tokenizer_config.json.")
    if tokenizer.pad_token is None:  # GPT-2 has none: pad with EOS so generate() stays quiet
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_weights(path: Path, precision: str, trust_remote_code: bool,
                  allow_pickle: bool) -> Any:
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # missing keys are checked below, not printed
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, info = AutoModelForCausalLM.from_pretrained(
                path, dtype=torch_dtype(precision), trust_remote_code=trust_remote_code,
                use_safetensors=None if allow_pickle else True, output_loading_info=True)
    except Exception as exc:
        if "mismatched_sizes" in str(exc) and not is_out_of_memory(exc):
            raise _mismatch(path, []) from None
        raise _unloadable(path, exc) from None
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()
    missing = [k for k in info.get("missing_keys", []) if "attn.bias" not in k]
    if missing:
        raise _mismatch(path, missing)
    return model


def _lean_applies(path: Path, config: dict[str, Any]) -> bool:
    from smartlap.lm.fast_load import lean_reason

    reason = lean_reason(path, config)
    if reason is not None:
        logging.getLogger(__name__).debug("%s through transformers: %s", path.name, reason)
    return reason is None


def _load_lean(path: Path, config: dict[str, Any], device: str, precision: str) -> Any:
    """The lean model for generation, its tensors checked."""
    from smartlap.lm.fast_load import TensorMismatch, read_lean_model
    from smartlap.lm.threads import one_thread

    try:
        with one_thread():
            model, tensors = read_lean_model(path, config, device, torch_dtype(precision))
            _check_finite(tensors.items(), path)
    except TensorMismatch as exc:
        raise _mismatch(path, exc.missing) from None
    except ModelError:
        raise
    except Exception as exc:
        raise _unloadable(path, exc) from None
    return model


def _check_finite(named: Any, path: Path) -> None:
    """Every (name, tensor) in ``named`` holds only finite numbers."""
    import torch

    with torch.no_grad():
        for name, tensor in named:
            if not bool(torch.isfinite(tensor).all()):
                raise ModelError(f"The weights of {path.name} are corrupt: {name} holds NaN "
                                 "or infinite values.", _RECOVERY_HINT)


def _check_vocab(model: Any, tokenizer: Any, path: Path) -> None:
    rows = model.get_input_embeddings().num_embeddings
    tokens = len(tokenizer)
    if registry.vocab_mismatch(rows, tokens):
        raise ModelError(
            f"The tokenizer in {path.name} has {tokens:,} tokens but the model's vocabulary "
            f"has {rows:,}: they do not belong together.",
            "Put the tokenizer the model was trained with in the same folder.")


def load_model(name_or_path: str | Path | None = None, device: str | None = None,
               precision: str | None = "auto", trust_remote_code: bool = False,
               allow_pickle: bool = False, lean: bool = False) -> LoadedModel:
    """Load a registered model (or a model folder) ready for generation or training.

    ``lean``: the caller only generates (or scores lines), so a GPT-2/GPT-Neo folder may be
    read without transformers; the result's ``model`` is then a ``LeanModel``."""
    info = registry.get_model(str(name_or_path) if name_or_path is not None else None)
    path = Path(info.path)
    if not path.is_dir():
        raise ModelError(f"The files of model {info.name!r} are gone ({path}).",
                         f"Delete the entry with 'smartlap models delete {info.name}' and add "
                         "it again.")
    if registry.is_adapter_folder(path):
        return _load_adapter(info, path, device, precision, trust_remote_code, allow_pickle)
    config = registry.read_config(path)
    _check_safety(path, config, trust_remote_code, allow_pickle)
    placement = choose_placement(device, precision)
    lean = lean and _lean_applies(path, config)
    tokenizer = _load_tokenizer(path, trust_remote_code, lean)
    if lean:
        model = _load_lean(path, config, placement.device, placement.precision)
        _check_vocab(model, tokenizer, path)
        logging.getLogger(__name__).debug("read %s lean on %s (%s)", info.name,
                                          placement.device, placement.precision)
        return LoadedModel(model=model, tokenizer=tokenizer, info=info,
                           device=placement.device, precision=placement.precision)
    model = _load_weights(path, placement.precision, trust_remote_code, allow_pickle)
    _check_vocab(model, tokenizer, path)
    _check_finite(model.named_parameters(), path)
    try:
        model.to(placement.device)
    except Exception as exc:
        if is_out_of_memory(exc):
            raise _does_not_fit(info.name, placement.device) from None
        raise
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config.eos_token_id is None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    logging.getLogger(__name__).debug("loaded %s on %s (%s)", info.name, placement.device,
                                      placement.precision)
    return LoadedModel(model=model, tokenizer=tokenizer, info=info, device=placement.device,
                       precision=placement.precision)


def _load_adapter(info: ModelInfo, path: Path, device: str | None, precision: str | None,
                  trust_remote_code: bool, allow_pickle: bool) -> LoadedModel:
    """A plain peft adapter: its base loaded as usual, the adapter applied and merged in.

    Merging gives an ordinary transformers model, so the fast decoder serves it too."""
    if registry.weights_format(path) == "pickle" and not allow_pickle:
        raise ModelError(f"The adapter {info.name} only has pickled weights "
                         f"({registry.ADAPTER_PICKLE}), which can run code when loaded.",
                         "Re-save it with safetensors, or pass --allow-pickle if you trust "
                         "where it came from.")
    base = registry.adapter_base(path)
    loaded = load_model(base.path if not base.registered else base.name, device=device,
                        precision=precision, trust_remote_code=trust_remote_code,
                        allow_pickle=allow_pickle)
    try:
        from peft import PeftModel
    except ImportError:
        raise ModelError("Loading an adapter needs the peft package.",
                         "Install it: pip install peft.") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # peft's notes about library internals
            model = PeftModel.from_pretrained(loaded.model, str(path), is_trainable=False)
            model = model.merge_and_unload()
    except Exception as exc:
        if is_out_of_memory(exc):
            raise _does_not_fit(info.name, loaded.device) from None
        raise ModelError(f"The adapter {info.name} does not fit its base {base.name}: "
                         f"{str(exc).splitlines()[0][:200]}",
                         "Check base_model_name_or_path in its adapter_config.json.") from None
    model.eval()
    tokenizer = loaded.tokenizer
    if any((path / name).is_file() for name in registry.TOKENIZER_FILES):
        tokenizer = _load_tokenizer(path, trust_remote_code, False)
        _check_vocab(model, tokenizer, path)
    _check_finite(model.named_parameters(), path)
    return LoadedModel(model=model, tokenizer=tokenizer, info=info, device=loaded.device,
                       precision=loaded.precision)


def save_model(model: Any, tokenizer: Any, name: str, *, origin: str = "fine-tuned",
               force: bool = False, **metadata: Any) -> ModelInfo:
    """Save a model + tokenizer as a registered safetensors checkpoint, atomically.

    The folder is a plain Hugging Face one: ``AutoModelForCausalLM.from_pretrained`` and
    ``pipeline("text-generation")`` load it with no smartlap code. Extra keyword arguments
    (``training``, ``base``, ``dataset``, ...) go into its smartlap.json.
    """
    from transformers.utils import logging as hf_logging

    from smartlap.fsutil import staging_directory
    from smartlap.paths import get_paths

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with staging_directory(get_paths().models, "save") as staging:
            model.save_pretrained(staging, safe_serialization=True)
            tokenizer.save_pretrained(staging)
            return registry.register_model(staging, name, origin=origin, transfer="move",
                                           force=force, **metadata)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
