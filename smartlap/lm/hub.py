"""Pulling models from the Hugging Face hub into the standard HF cache, then registering them.

Downloads go through ``huggingface_hub`` (so ``HF_HOME``, ``HF_HUB_OFFLINE`` and tokens
work as everywhere else) and only fetch what generation and training need: config,
tokenizer and safetensors weights. A repository with only pickled weights is refused
unless ``allow_pickle``; then the ``.bin`` is converted once to safetensors in the data
home, so every later load stays pickle-free. Every way a pull can fail (offline, no
network, unknown id, gated repository) is one ``SmartlapError`` whose hint names
``smartlap models add PATH`` as the way to use a model copied by other means.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from smartlap.errors import ModelError, NotFoundError
from smartlap.lm.catalog import catalog_entry
from smartlap.names import validate_name
from smartlap.store import models as registry
from smartlap.store.models import ModelInfo

ADD_HINT = ("Copy the model folder to this machine by other means and register it with "
            "'smartlap models add PATH'.")
_META_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
               "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json",
               "tokenizer.model"]
_SAFE = ["*.safetensors", "model.safetensors.index.json"]
_PICKLE = ["pytorch_model*.bin", "pytorch_model.bin.index.json"]


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _check_reachable(repo_id: str, timeout: float = 5.0) -> None:
    """Fail at once without a network, instead of after huggingface_hub's ~25 s of retries."""
    import socket
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return  # behind a proxy a direct connection proves nothing; let the client try
    url = urlsplit(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=timeout).close()
    except OSError:
        raise ModelError(f"Cannot reach the Hugging Face hub ({url.hostname}) to pull "
                         f"{repo_id}: no network?",
                         "Check your connection and try again. " + ADD_HINT) from None


def _progress_class() -> Any:
    """A tqdm class that draws with rich, for the download bars."""
    from tqdm import TqdmExperimentalWarning
    from tqdm.rich import tqdm as rich_tqdm

    class RichTqdm(rich_tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)  # huggingface_hub passes a logger name tqdm.rich rejects
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TqdmExperimentalWarning)
                super().__init__(*args, **kwargs)

    return RichTqdm


def _translate(error: BaseException, repo_id: str) -> Exception:
    """huggingface_hub's exceptions as one SmartlapError each."""
    from huggingface_hub import errors as hub_errors

    if isinstance(error, hub_errors.OfflineModeIsEnabled):
        return ModelError(f"Cannot pull {repo_id}: offline mode is on (HF_HUB_OFFLINE=1).",
                          "Unset HF_HUB_OFFLINE when you are online. " + ADD_HINT)
    if isinstance(error, hub_errors.GatedRepoError):
        return ModelError(f"{repo_id} is gated: accept its terms on the hub first.",
                          "Log in with 'hf auth login' after accepting. " + ADD_HINT)
    if isinstance(error, (hub_errors.RepositoryNotFoundError, hub_errors.RevisionNotFoundError,
                          hub_errors.HFValidationError)):
        return NotFoundError(f"The hub has no model {repo_id!r}.",
                             "Check the id (see 'smartlap models pull --list'). " + ADD_HINT)
    if isinstance(error, hub_errors.HfHubHTTPError):
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status == 404:
            return NotFoundError(f"The hub has no model {repo_id!r}.",
                                 "Check the id (see 'smartlap models pull --list'). " + ADD_HINT)
        return ModelError(f"The hub refused the download of {repo_id} (HTTP {status}).",
                          ADD_HINT)
    if isinstance(error, (ConnectionError, TimeoutError, OSError)) or "connect" in str(
            type(error)).lower():
        return ModelError(f"Cannot reach the Hugging Face hub to pull {repo_id}: no network?",
                          "Check your connection and try again. " + ADD_HINT)
    return ModelError(f"Pulling {repo_id} failed: {error}", ADD_HINT)


def pull(hub_id: str, name: str | None = None, *, revision: str | None = None,
         allow_pickle: bool = False, force: bool = False, progress: bool = True) -> ModelInfo:
    """Download a model into the HF cache and register it (origin ``pulled``)."""
    entry = catalog_entry(hub_id)
    repo_id = entry.hub_id if entry else hub_id.strip()
    name = validate_name(name or (entry.name if entry else repo_id.rsplit("/", 1)[-1]), "model")
    registry.check_free_name(name, force)
    if _offline():  # as huggingface_hub does: the cache answers, the network is not touched
        return _register_cached(repo_id, name, revision, allow_pickle, force, offline=True)
    from huggingface_hub import HfApi, snapshot_download

    try:
        _check_reachable(repo_id)
    except ModelError:
        if registry.cached_snapshot(repo_id, revision) is None:
            raise
        return _register_cached(repo_id, name, revision, allow_pickle, force, offline=False)
    try:
        files = HfApi().list_repo_files(repo_id, revision=revision)
        safe = any(f.endswith(".safetensors") for f in files)
        pickled = any(f.startswith("pytorch_model") and f.endswith(".bin") for f in files)
        if not safe and not pickled:
            raise ModelError(f"{repo_id} has no PyTorch weights (safetensors or .bin).",
                             "Pick a model from 'smartlap models pull --list'.")
        if not safe and not allow_pickle:
            raise ModelError(
                f"{repo_id} only has pickled weights (pytorch_model.bin), which can run code "
                "when loaded.",
                "Pass --allow-pickle to download it once and convert it to safetensors.")
        patterns = _META_FILES + (_SAFE if safe else _PICKLE)
        path = snapshot_download(repo_id, revision=revision, allow_patterns=patterns,
                                 cache_dir=str(registry.hf_cache_dir()),
                                 tqdm_class=_progress_class() if progress else None)
    except (ModelError, NotFoundError):
        raise
    except Exception as exc:
        raise _translate(exc, repo_id) from None
    meta = {"hub_id": repo_id, "revision": revision}
    if safe:
        return registry.register_model(path, name, origin="pulled", transfer="link",
                                       force=force, **meta)
    return _convert_pickled(path, name, force, meta)


def _register_cached(repo_id: str, name: str, revision: str | None, allow_pickle: bool,
                     force: bool, *, offline: bool) -> ModelInfo:
    """Register the model from the HF cache alone (offline mode, or no network)."""
    snapshot = registry.cached_snapshot(repo_id, revision)
    if snapshot is None:
        why = "offline mode is on (HF_HUB_OFFLINE=1)" if offline else "the hub is unreachable"
        raise ModelError(
            f"Cannot pull {repo_id}: {why} and it is not in the Hugging Face cache "
            f"({registry.hf_cache_dir()}).",
            ("Unset HF_HUB_OFFLINE when you are online. " if offline else "") + ADD_HINT)
    meta = {"hub_id": repo_id, "revision": revision}
    kind = registry.weights_format(snapshot)
    if kind == "safetensors":
        return registry.register_model(snapshot, name, origin="pulled", transfer="link",
                                       force=force, **meta)
    if kind == "pickle" and allow_pickle:
        return _convert_pickled(str(snapshot), name, force, meta)
    if kind == "pickle":
        raise ModelError(
            f"The cached {repo_id} only has pickled weights (pytorch_model.bin), which can run "
            "code when loaded.", "Pass --allow-pickle to convert it to safetensors once.")
    raise ModelError(f"The cached {repo_id} has no weights yet (an interrupted download?).",
                     "Pull it again when online. " + ADD_HINT)


def _convert_pickled(path: str, name: str, force: bool, meta: dict[str, Any]) -> ModelInfo:
    """Load pickled weights once (restricted unpickler) and store them as safetensors."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smartlap.lm.loading import save_model

    try:
        model = AutoModelForCausalLM.from_pretrained(path, use_safetensors=False)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        raise ModelError(f"The downloaded weights cannot be converted: {exc}", ADD_HINT) from None
    return save_model(model, tokenizer, name, origin="pulled", force=force,
                      converted_from="pytorch_model.bin", **meta)
