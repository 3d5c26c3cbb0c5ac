"""The models registry: which models the person has, where their files are, what they are.

No torch here: listing and showing models must stay fast. Facts about a model come from
its ``config.json`` and the safetensors header (a small JSON block at the start of the
file), which gives parameter count and dtype without loading a single weight.

A model is registered as ``models/<name>/`` in the data home with a ``smartlap.json``
beside the Hugging Face files. Origins:

- ``bundled``: shipped in the package (``smartlap/data/models/<name>/``), read-only.
- ``pulled``: downloaded from the hub into the standard HF cache; the registry entry only
  holds ``smartlap.json`` pointing at the cached snapshot.
- ``local``: a folder the person added, copied in or linked (``smartlap.json`` points at it).
- ``fine-tuned``: written by the training engine, with a ``training`` dict of results.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import struct
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smartlap.errors import (
    AlreadyExistsError,
    InputError,
    ModelError,
    NotFoundError,
    SmartlapError,
    UsageError,
)
from smartlap.fsutil import (
    atomic_directory,
    atomic_write_json,
    dir_size,
    is_temporary,
    read_json,
    remove_atomically,
)
from smartlap.names import validate_name
from smartlap.paths import get_paths
from smartlap.progress import Progress
from smartlap.store.listing import DamagedEntry, Listing, gather

DEFAULT_MODEL = "smartlap-mini"
METADATA_FILE = "smartlap.json"
METADATA_SCHEMA = 1
ORIGINS = ("bundled", "pulled", "local", "fine-tuned")
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_SAFE = "adapter_model.safetensors"
ADAPTER_PICKLE = "adapter_model.bin"
_SAFETENSORS_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64",
                       "I64": "int64", "I32": "int32", "I8": "int8", "U8": "uint8",
                       "BOOL": "bool", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}
_ADD_HINT = "Register a Hugging Face folder with 'smartlap models add PATH'."


def bundled_models_dir() -> Path:
    """Where the package ships its models (``smartlap/data/models``)."""
    return Path(__file__).resolve().parent.parent / "data" / "models"


@dataclass
class ModelInfo:
    """What ``models list/show`` print and what the loader needs to find the files."""

    name: str
    path: Path
    origin: str
    architecture: str | None = None
    model_type: str | None = None
    params: int | None = None
    vocab_size: int | None = None
    context_length: int | None = None
    dtype: str | None = None
    size_bytes: int = 0
    weights: str | None = None  # "safetensors" | "pickle" | None (missing)
    hub_id: str | None = None
    source: str | None = None
    linked: bool = False
    created: float | None = None
    base: str | None = None
    dataset: str | None = None
    training: dict[str, Any] | None = None
    registered: bool = True
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_MODEL

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        data.pop("metadata")
        return data


# --- reading facts from files ----------------------------------------------------------------

class SafetensorsHeaderError(ValueError):
    """A safetensors file whose header or length is not what it claims (truncated, corrupt)."""


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, checked against the file's real length."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        raw_len = handle.read(8)
        if len(raw_len) < 8:
            raise SafetensorsHeaderError(f"{path.name} is too short to be a safetensors file")
        (header_len,) = struct.unpack("<Q", raw_len)
        if header_len > min(size - 8, 100_000_000):
            raise SafetensorsHeaderError(f"{path.name} has a header longer than the file")
        try:
            header = json.loads(handle.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SafetensorsHeaderError(f"{path.name} has an unreadable header") from None
    if not isinstance(header, dict):
        raise SafetensorsHeaderError(f"{path.name} has an unreadable header")
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(entry["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise SafetensorsHeaderError(f"{path.name}: tensor {key!r} has no offsets") from None
    expected = 8 + header_len + end
    if size < expected:
        raise SafetensorsHeaderError(
            f"{path.name} is truncated: {size:,} bytes, the header promises {expected:,}")
    return header


def safetensors_files(directory: Path) -> list[Path]:
    """The weight files of a folder: the single file, or every shard named in the index."""
    directory = Path(directory)
    single = directory / "model.safetensors"
    if single.is_file():
        return [single]
    if is_adapter_folder(directory) and (directory / ADAPTER_SAFE).is_file():
        return [directory / ADAPTER_SAFE]
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(read_json(index)["weight_map"].values()))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SafetensorsHeaderError("model.safetensors.index.json is unreadable") from None
        return [directory / shard for shard in shards]
    return []


def is_adapter_folder(directory: Path) -> bool:
    """A plain peft adapter: adapter_config.json and adapter weights, no model of its own."""
    directory = Path(directory)
    return (directory / ADAPTER_CONFIG).is_file() and not (directory / "config.json").is_file()


def read_adapter_config(directory: Path) -> dict[str, Any]:
    """``adapter_config.json`` as a dict, with the base it needs; else a ModelError."""
    path = Path(directory) / ADAPTER_CONFIG
    try:
        config = read_json(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} cannot be read as JSON ({exc}).",
                         "Re-save the adapter with save_pretrained(folder).") from None
    if not isinstance(config, dict) or not isinstance(config.get("base_model_name_or_path"),
                                                      str):
        raise ModelError(f"{path} does not name its base model (base_model_name_or_path).",
                         "Set it to the base's hub id or smartlap model name.")
    return config


def adapter_base(directory: Path) -> ModelInfo:
    """The model an adapter folder applies to; NotFoundError with a hint when it is not here."""
    base = read_adapter_config(directory)["base_model_name_or_path"]
    try:
        return get_model(base)
    except NotFoundError:
        raise NotFoundError(
            f"The adapter in {Path(directory).name} applies to {base!r}, which is not here.",
            f"Pull or add the base first ('smartlap models pull {base}' or 'smartlap models "
            "add PATH'), or set base_model_name_or_path in adapter_config.json to a model "
            "in 'smartlap models list'.") from None


def weights_format(directory: Path) -> str | None:
    directory = Path(directory)
    if is_adapter_folder(directory):
        if (directory / ADAPTER_SAFE).is_file():
            return "safetensors"
        return "pickle" if (directory / ADAPTER_PICKLE).is_file() else None
    if any((directory / name).is_file() for name in SAFE_WEIGHTS):
        return "safetensors"
    if any((directory / name).is_file() for name in PICKLE_WEIGHTS):
        return "pickle"
    return None


def _weight_facts(directory: Path) -> tuple[int | None, str | None]:
    """Parameter count and main dtype from safetensors headers; (None, None) if unreadable."""
    counts: Counter[str] = Counter()
    total = 0
    try:
        files = safetensors_files(directory)
        if not files:
            return None, None
        for file in files:
            for key, entry in read_safetensors_header(file).items():
                if key == "__metadata__":
                    continue
                numel = 1
                for dim in entry.get("shape", []):
                    numel *= int(dim)
                total += numel
                counts[str(entry.get("dtype"))] += numel
    except (OSError, SafetensorsHeaderError, ValueError, TypeError, AttributeError):
        return None, None  # a damaged header: the listing shows the model without the facts
    main = counts.most_common(1)[0][0] if counts else None
    return total, _SAFETENSORS_DTYPES.get(main or "", main)


def _folder_bytes(directory: Path) -> int:
    """Bytes of the model's files; unlike fsutil.dir_size this follows links, because a
    pulled model's snapshot in the HF cache is made of links to the real blobs."""
    if not directory.is_dir():
        return 0
    if not any(p.is_symlink() for p in directory.iterdir()):
        return dir_size(directory)
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def read_config(directory: Path) -> dict[str, Any]:
    """``config.json`` as a dict; an unreadable one is a ModelError."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise ModelError(f"{directory} has no config.json, so it is not a Hugging Face model "
                         "folder.", "Point at the folder that holds config.json, "
                         "model.safetensors and the tokenizer files.")
    try:
        config = read_json(path)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON ({exc}).",
                         "Re-download or re-save the model.") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path} is not a JSON object.", "Re-download or re-save the model.")
    return config


def _context_length(config: dict[str, Any]) -> int | None:
    for key in ("n_positions", "max_position_embeddings", "n_ctx", "max_seq_len"):
        if _typed(config, key, int) is not None:
            return config[key]
    return None


def describe_folder(directory: Path, *, name: str | None = None, origin: str = "local",
                    metadata: dict[str, Any] | None = None, registered: bool = True) -> ModelInfo:
    """Build a ModelInfo from a model folder's files (and its smartlap.json, if given)."""
    directory = Path(directory)
    meta = dict(metadata or {})
    if is_adapter_folder(directory):
        return _describe_adapter(directory, name, origin, meta, registered)
    try:
        config = read_config(directory)
    except ModelError:
        config = {}
    archs = config.get("architectures")
    params, dtype = _weight_facts(directory)
    if params is None:
        params = _typed(meta, "params", int)
    dtype = dtype or _typed(config, "dtype", str) or _typed(config, "torch_dtype", str)
    size = _folder_bytes(directory)
    return ModelInfo(
        name=name or directory.name,
        path=directory,
        origin=_typed(meta, "origin", str) or origin,
        architecture=archs[0] if isinstance(archs, list) and archs
        and isinstance(archs[0], str) else None,
        model_type=_typed(config, "model_type", str),
        params=params,
        vocab_size=_typed(config, "vocab_size", int),
        context_length=_context_length(config),
        dtype=dtype,
        size_bytes=size,
        weights=weights_format(directory),
        hub_id=_typed(meta, "hub_id", str),
        source=_typed(meta, "source", str),
        linked=bool(meta.get("link")),
        created=_typed(meta, "created", float),
        base=_typed(meta, "base", str),
        dataset=_typed(meta, "dataset", str),
        training=_typed(meta, "training", dict),
        registered=registered,
        metadata=meta,
    )


def _typed(data: dict[str, Any], key: str, kind: type) -> Any:
    """``data[key]`` when it has the type a listing can show, else None: a hand-edited or
    damaged config.json or smartlap.json never breaks ``models list``."""
    value = data.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if kind is float and isinstance(value, int):
        return float(value)
    return value if isinstance(value, kind) else None


_DESCRIBING: set[Path] = set()


def _describe_adapter(directory: Path, name: str | None, origin: str, meta: dict[str, Any],
                      registered: bool) -> ModelInfo:
    """An adapter's entry: its own weights and size, its base's class and vocabulary."""
    try:
        base_name = read_adapter_config(directory)["base_model_name_or_path"]
    except ModelError:
        base_name = None
    base = None
    if base_name and directory not in _DESCRIBING:  # an adapter naming itself: no loop
        _DESCRIBING.add(directory)
        try:
            base = adapter_base(directory)
        except SmartlapError:
            base = None
        finally:
            _DESCRIBING.discard(directory)
    params, dtype = _weight_facts(directory)
    return ModelInfo(
        name=name or directory.name, path=directory, origin=meta.get("origin", origin),
        architecture=f"{base.architecture or '?'} + adapter" if base else "adapter",
        model_type=base.model_type if base else None, params=params,
        vocab_size=base.vocab_size if base else None,
        context_length=base.context_length if base else None, dtype=dtype,
        size_bytes=_folder_bytes(directory), weights=weights_format(directory),
        hub_id=meta.get("hub_id"), source=meta.get("source"), linked=bool(meta.get("link")),
        created=meta.get("created"), base=meta.get("base") or base_name,
        dataset=meta.get("dataset"), training=meta.get("training"), registered=registered,
        metadata={**meta, "kind": "adapter"})


# --- metadata --------------------------------------------------------------------------------

def read_metadata(entry_dir: Path) -> dict[str, Any]:
    """A registry entry's smartlap.json ({} when it has none or it is unreadable)."""
    path = Path(entry_dir) / METADATA_FILE
    try:
        data = read_json(path)
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def write_metadata(entry_dir: Path, metadata: dict[str, Any]) -> None:
    """Write smartlap.json atomically (schema version and creation time filled in)."""
    data = {"schema": METADATA_SCHEMA, "created": time.time(), **metadata}
    atomic_write_json(Path(entry_dir) / METADATA_FILE, data)


# --- the registry ----------------------------------------------------------------------------

def _user_models_dir() -> Path:
    return get_paths().models


def _entry_info(name: str, entry_dir: Path, default_origin: str) -> ModelInfo:
    meta = read_metadata(entry_dir)
    target = entry_dir
    link = meta.get("link")
    if link:
        if not isinstance(link, str):
            raise DamagedEntry("model", name, f"{METADATA_FILE}: 'link' is not a folder path",
                               f"Delete it with 'smartlap models delete {name}' and add it "
                               "again.")
        target = Path(link)
    return describe_folder(target, name=name, origin=default_origin, metadata=meta)


def bundled_entries() -> dict[str, Path]:
    """The models shipped inside the package, by name (their names cannot be reused)."""
    root = bundled_models_dir()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir())
            if p.is_dir() and (p / "config.json").is_file() and not is_temporary(p)}


def _user_entries() -> dict[str, Path]:
    root = _user_models_dir()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir())
            if p.is_dir() and not is_temporary(p) and not p.name.startswith(".")}


def scan_models() -> Listing[ModelInfo]:
    """Every model, the bundled ones first, then the person's by name; an entry that cannot
    be described is skipped as damaged, with its reason."""
    bundled = bundled_entries()
    candidates = [(n, lambda n=n, p=p: _entry_info(n, p, "bundled")) for n, p in bundled.items()]
    candidates += [(n, lambda n=n, p=p: _entry_info(n, p, "local"))
                   for n, p in _user_entries().items() if n not in bundled]
    return gather("model", candidates)


def list_models() -> list[ModelInfo]:
    """The models ``scan_models`` could read."""
    return scan_models().entries


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache as huggingface_hub finds it, read from the environment now.

    (huggingface_hub reads it once at import; the studio and tests may change HF_HOME later.)
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def cache_repo_dir(hub_id: str) -> Path:
    """The HF cache folder of a hub model (``models--ORG--NAME``), where its download lands."""
    return hf_cache_dir() / ("models--" + hub_id.replace("/", "--"))


_CACHE_REPO = re.compile(r"^models--(?P<org>[^/]+?)--(?P<name>[^/]+)$")


def hub_id_from_cache_path(directory: Path) -> str | None:
    """``ORG/NAME`` for a folder inside the HF cache (``models--ORG--NAME/snapshots/REV``)."""
    parts = Path(directory).parts
    for index, part in enumerate(parts[:-1]):
        match = _CACHE_REPO.match(part)
        if match and parts[index + 1] == "snapshots":
            return f"{match['org']}/{match['name']}"
    return None


def _looks_like_hub_id(text: str) -> bool:
    return (text.count("/") == 1 and not text.startswith((".", "~", "/"))
            and all(part and part == part.strip() for part in text.split("/")))


def cached_snapshot(hub_id: str, revision: str | None = None) -> Path | None:
    """The HF cache's snapshot of a hub model, if it holds one (no network is touched)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(hub_id, "config.json", cache_dir=str(hf_cache_dir()),
                                       revision=revision)
    except Exception:  # a malformed id or cache: not cached, as far as we can tell
        return None
    return Path(found).parent if isinstance(found, str) else None


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "~")) or os.sep in text or Path(text).is_absolute()


def get_model(name_or_path: str | None = None) -> ModelInfo:
    """A registered model by name (or hub id), or an unregistered model folder by path.

    With no name, the default model. Unknown names raise NotFoundError with a hint.
    """
    wanted = (name_or_path or DEFAULT_MODEL).strip()
    bundled = bundled_entries()
    if wanted in bundled:
        return _entry_info(wanted, bundled[wanted], "bundled")
    user = _user_entries()
    if wanted in user:
        return _entry_info(wanted, user[wanted], "local")
    candidate = Path(wanted).expanduser()
    if candidate.is_dir() and ((candidate / "config.json").is_file()
                               or is_adapter_folder(candidate)):
        return describe_folder(candidate.resolve(), origin="local", registered=False)
    for info in list_models():
        if info.hub_id and info.hub_id.lower() == wanted.lower():
            return info
    snapshot = cached_snapshot(wanted) if _looks_like_hub_id(wanted) else None
    if snapshot is not None:  # in the HF cache but not registered: use it as it is
        return describe_folder(snapshot, name=wanted, origin="pulled",
                               metadata={"hub_id": wanted}, registered=False)
    if wanted == DEFAULT_MODEL:
        raise NotFoundError(
            f"The bundled model {DEFAULT_MODEL!r} is not installed in this copy of smartlap.",
            "Pick another with --model (see 'smartlap models list'), pull one with "
            "'smartlap models pull GroNLP/gpt2-small-dutch', or build it with "
            "'smartlap train --from-scratch --preset mini --dataset demo'.")
    if _looks_like_path(wanted):
        raise NotFoundError(f"No model folder with a config.json at {wanted}.", _ADD_HINT)
    raise NotFoundError(f"No model named {wanted!r}.",
                        "See 'smartlap models list'; pull one with 'smartlap models pull ID' "
                        "or add a folder with 'smartlap models add PATH'.")


# A model's embedding table may be padded past the tokenizer (e.g. 50257 -> 50304 for
# speed); ids in that padding are masked during generation. More than this is a mismatch.
MAX_VOCAB_PADDING = 256


def vocab_mismatch(rows: int, tokens: int) -> bool:
    """True when a tokenizer of ``tokens`` cannot belong to an embedding of ``rows``."""
    return tokens > rows or rows - tokens > MAX_VOCAB_PADDING


def tokenizer_size(directory: Path) -> int | None:
    """Ids the folder's tokenizer can produce (highest id + 1), from its files; None if unknown."""
    directory = Path(directory)
    try:
        if (directory / "tokenizer.json").is_file():
            data = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
            vocab = (data.get("model") or {}).get("vocab") or {}
            ids = list(vocab.values()) if isinstance(vocab, dict) else list(range(len(vocab)))
            ids += [t.get("id", -1) for t in data.get("added_tokens") or []]
        elif (directory / "vocab.json").is_file():
            ids = list(json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
                       .values())
            added = directory / "added_tokens.json"
            if added.is_file():
                ids += list(json.loads(added.read_text(encoding="utf-8")).values())
        else:
            return None
    except (OSError, ValueError, AttributeError, TypeError):
        return None  # the loader reports a broken tokenizer with its own message
    numbers = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return max(numbers) + 1 if numbers else None


def _check_tokenizer_fits(directory: Path) -> None:
    _check_tokenizer_fits_vocab(directory, read_config(directory).get("vocab_size"))


def _check_tokenizer_fits_vocab(directory: Path, rows: Any) -> None:
    tokens = tokenizer_size(directory)
    if isinstance(rows, int) and tokens is not None and vocab_mismatch(rows, tokens):
        raise ModelError(
            f"The tokenizer in {directory.name} has {tokens:,} tokens but the model's "
            f"vocabulary has {rows:,}: they do not belong together.",
            "Put the tokenizer the model was trained with in the same folder.")


def _check_adapter_folder(directory: Path) -> None:
    if weights_format(directory) is None:
        raise ModelError(f"{directory} has an adapter_config.json but no adapter weights "
                         f"({ADAPTER_SAFE}).", "Re-save the adapter with save_pretrained.")
    base = adapter_base(directory)  # the base must be here: an adapter alone generates nothing
    if base.metadata.get("kind") == "adapter":
        raise ModelError(f"The adapter in {directory.name} names another adapter as its base.",
                         "Point base_model_name_or_path at a full model.")
    if any((directory / n).is_file() for n in TOKENIZER_FILES):
        _check_tokenizer_fits_vocab(directory, base.vocab_size)


def check_model_folder(directory: Path) -> None:
    """Refuse a folder that cannot be a usable causal-LM checkpoint, saying what is missing."""
    directory = Path(directory)
    if not directory.exists():
        raise InputError(f"{directory} does not exist.", _ADD_HINT)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a folder.",
                         "Give the folder that holds config.json and the weights.")
    if is_adapter_folder(directory):
        _check_adapter_folder(directory)
        return
    read_config(directory)
    if weights_format(directory) is None:
        raise ModelError(f"{directory} has no weights (model.safetensors).",
                         "Save the model with save_pretrained(safe_serialization=True).")
    if not any((directory / n).is_file() for n in TOKENIZER_FILES):
        raise ModelError(f"{directory} has no tokenizer files (tokenizer.json or vocab.json).",
                         "Save the tokenizer into the same folder with "
                         "tokenizer.save_pretrained(folder).")
    _check_tokenizer_fits(directory)


def check_free_name(name: str, force: bool = False) -> Path:
    """The entry folder for a new model ``name``; refuses bundled or taken names."""
    name = validate_name(name, "model")
    if name in bundled_entries():
        raise AlreadyExistsError(f"{name!r} is the name of a bundled model.",
                                 "Choose another name with --name.")
    target = _user_models_dir() / name
    if target.exists() and not force:
        raise AlreadyExistsError(f"A model named {name!r} already exists.",
                                 "Choose another name with --name, or delete it first with "
                                 f"'smartlap models delete {name}'.")
    return target


def register_model(source: Path, name: str | None = None, *, origin: str = "local",
                   transfer: str = "copy", force: bool = False,
                   progress: Progress | None = None, **metadata: Any) -> ModelInfo:
    """Register a Hugging Face model folder under ``name``.

    ``transfer`` is ``copy`` (files copied into the data home), ``link`` (only smartlap.json
    stored, pointing at the folder; used for pulled models in the HF cache) or ``move``
    (the folder is moved in; what the training engine does with a freshly saved
    checkpoint). Extra keyword arguments (``training``, ``base``, ``dataset``, ``hub_id``,
    ``mode`` of training, ...) go into smartlap.json. The entry appears atomically.
    """
    if origin not in ORIGINS or origin == "bundled":
        raise UsageError(f"Cannot register a model with origin {origin!r}.",
                         "Use local, pulled or fine-tuned.")
    if transfer not in ("copy", "link", "move"):
        raise UsageError(f"Unknown transfer {transfer!r}.", "Use copy, link or move.")
    source = Path(source).expanduser().resolve()
    check_model_folder(source)
    target = check_free_name(name or source.name, force)
    meta = {"origin": origin, **metadata}
    inferred = hub_id_from_cache_path(source)
    if inferred and not meta.get("hub_id"):
        meta["hub_id"] = inferred  # a snapshot folder of the HF cache says where it came from
    if transfer != "move":
        meta.setdefault("source", str(source))
    meta.setdefault("params", _weight_facts(source)[0])
    if transfer == "link":
        meta["link"] = str(source)
    with atomic_directory(target, replace=force) as tmp:
        if transfer == "copy":
            _copy_model_folder(source, tmp, progress)
        elif transfer == "move":
            for child in source.iterdir():
                if child.name != METADATA_FILE:
                    shutil.move(str(child), tmp / child.name)
        old = read_metadata(source) if transfer != "link" else {}
        write_metadata(tmp, {**{k: v for k, v in old.items() if k not in ("link",)}, **meta})
    if transfer == "move":
        shutil.rmtree(source, ignore_errors=True)
    return get_model(target.name)


def _link_boundary(source: Path) -> Path:
    """Where links in a model folder may point: the folder itself, or for a snapshot in the
    Hugging Face cache (``models--X/snapshots/REV``, whose files link to ``../../blobs``) the
    cached model's own folder."""
    if source.parent.name == "snapshots" and (source.parent.parent / "blobs").is_dir():
        return source.parent.parent
    return source


def _link_target(link: Path, boundary: Path, shown: Path) -> Path:
    """Where ``link`` really leads, refused when that is outside ``boundary`` or a loop."""
    try:
        resolved = link.resolve(strict=True)
    except (RuntimeError, OSError) as error:
        loop = isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP
        if loop:
            raise InputError(f"{shown} is a symbolic link loop; the model was not added.",
                             "Remove the link or replace it with the real file.") from None
        raise InputError(f"{shown} is a broken symbolic link; the model was not added.",
                         "Remove the link or replace it with the real file.") from None
    if not resolved.is_relative_to(boundary):
        raise InputError(f"{shown} is a symbolic link to {resolved}, outside the model folder; "
                         "the model was not added.",
                         "Copy the real file into the folder, or register the folder without "
                         "copying it (--link).")
    return resolved


_COPY_CHUNK = 4 << 20


def _copy_counted(real: Path, target: Path, progress: Progress) -> None:
    """copy2 in chunks, so a bar can follow a multi-GB weights file."""
    with open(real, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_COPY_CHUNK):
            dst.write(chunk)
            progress.advance(len(chunk))
    shutil.copystat(real, target)
    progress.advance(items=1)


def _copy_model_folder(source: Path, dest: Path, progress: Progress | None = None) -> None:
    """Copy a model folder's files without ever reading outside it.

    Links are followed only when they stay inside the folder (or the HF cache entry it is a
    snapshot of); a link out, a loop, a FIFO or a device is refused with a clear message,
    before anything is copied."""
    boundary = _link_boundary(source)
    plan: list[tuple[Path, Path]] = []
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, into: Path, top: bool) -> None:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            raise InputError(f"{folder} is reached twice through symbolic links (a loop); "
                             "the model was not added.",
                             "Remove the link or replace it with the real folder.")
        seen.add((info.st_dev, info.st_ino))
        for child in sorted(folder.iterdir()):
            if top and (child.name == METADATA_FILE or is_temporary(child)):
                continue
            shown = child
            real = _link_target(child, boundary, shown) if child.is_symlink() else child
            if real.is_dir():
                walk(real, into / child.name, False)
            elif real.is_file():
                plan.append((real, into / child.name))
            else:
                raise InputError(f"{shown} is not a regular file (a FIFO, socket or device); "
                                 "the model was not added.",
                                 "A model folder holds only regular files.")

    walk(source, dest, True)
    progress = progress or Progress()
    progress.start(sum(real.stat().st_size for real, _ in plan))
    for real, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_counted(real, target, progress)
    progress.finish()


def _user_entry(name: str, action: str) -> Path:
    if name in bundled_entries():
        raise UsageError(f"{name!r} is bundled with smartlap and cannot be {action}.",
                         "Bundled models are part of the package.")
    entry = _user_models_dir() / validate_name(name, "model")
    if not entry.is_dir() and not entry.is_symlink():
        raise NotFoundError(f"No model named {name!r}.", "See 'smartlap models list'.")
    return entry


def delete_model(name: str) -> ModelInfo:
    """Remove a registered model. Linked folders and the HF cache are left untouched."""
    entry = _user_entry(name, "deleted")
    info = _entry_info(entry.name, entry, "local")
    remove_atomically(entry)  # a planted link is unlinked, never followed
    return info


def rename_model(old: str, new: str) -> ModelInfo:
    entry = _user_entry(old, "renamed")
    target = check_free_name(new, force=False)
    os.replace(entry, target)
    return get_model(target.name)


def update_metadata(name: str, **changes: Any) -> ModelInfo:
    """Merge ``changes`` into a registered model's smartlap.json (e.g. training results)."""
    entry = _user_entry(name, "changed")
    write_metadata(entry, {**read_metadata(entry), **changes})
    return get_model(entry.name)
