"""Resumable state: everything needed to continue a run as if it never stopped.

``runs/<id>/state/`` holds the weights (safetensors), optimizer and scheduler state, every
RNG (torch CPU and CUDA, Python, NumPy) and the progress (epoch, batches done in it, loss
sums, history, early-stopping counters). It is written with ``atomic_directory`` at every
epoch end and on cancel, so a SIGKILL leaves the previous complete state. Restoring all of
it is what makes a resumed run reproduce the losses of an uninterrupted one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from smartlap.errors import TrainingError, UsageError
from smartlap.fsutil import atomic_directory, atomic_write_json, read_json, sweep_stale
from smartlap.lm.train.config import TrainConfig

WEIGHTS = "model.safetensors"
OPTIMIZER = "optimizer.pt"
SCHEDULER = "scheduler.pt"
TORCH_RNG = "rng.pt"
SCALER = "scaler.pt"  # fp16 only: the loss scale and its growth tracker
PROGRESS = "progress.json"
TOKENIZER_DIR = "tokenizer"


def capture_rng() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(JSON-able Python/NumPy states, torch tensors)."""
    plain: dict[str, Any] = {"python": _to_lists(random.getstate())}
    try:
        import numpy as np

        kind, keys, pos, has_gauss, cached = np.random.get_state()
        plain["numpy"] = [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]
    except ImportError:
        pass
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda{index}"] = state
    return plain, tensors


def restore_rng(plain: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    random.setstate(_to_tuples(plain["python"]))
    if "numpy" in plain:
        import numpy as np

        kind, keys, pos, has_gauss, cached = plain["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch"])
    cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("cuda")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)


def save_state(directory: Path, model: torch.nn.Module, optimizer: Any, scheduler: Any,
               progress: dict[str, Any], tokenizer: Any = None, scaler: Any = None) -> None:
    """Write the whole state to a temp sibling, then swap it in.

    The tokenizer and model config are kept too, so a run built from scratch (whose
    tokenizer was trained at its start) resumes with exactly the same vocabulary. An fp16
    run's gradient ``scaler`` is kept, so its loss scale does not start over.
    """
    from safetensors.torch import save_model

    plain_rng, tensor_rng = capture_rng()
    with atomic_directory(directory, replace=True) as tmp:
        save_model(model, str(tmp / WEIGHTS))
        torch.save(optimizer.state_dict(), tmp / OPTIMIZER)
        torch.save(scheduler.state_dict(), tmp / SCHEDULER)
        torch.save(tensor_rng, tmp / TORCH_RNG)
        if scaler is not None:
            torch.save(scaler.state_dict(), tmp / SCALER)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp / TOKENIZER_DIR)
            getattr(model, "config", None) and model.config.save_pretrained(tmp / TOKENIZER_DIR)
        atomic_write_json(tmp / PROGRESS, {**progress, "rng": plain_rng})


def has_state(directory: Path) -> bool:
    return (Path(directory) / PROGRESS).is_file()


def load_progress(directory: Path) -> dict[str, Any]:
    try:
        return read_json(Path(directory) / PROGRESS)
    except (OSError, ValueError) as exc:
        raise TrainingError(f"The run's saved state cannot be read ({exc}).",
                            "Start a new run instead of resuming this one.") from None


def resume_config(run: Any, changes: dict[str, Any]) -> TrainConfig:
    """The config to continue ``run`` (a ``runs.RunInfo``) with, after checking it can be.

    ``changes`` are the few settings a resume may change (``RESUME_CHANGES``). ``epochs``
    may lengthen a run, even one that finished, or shorten it, but never below the epochs
    it has already trained (the one in progress counts).
    """
    sweep_stale(Path(run.state_path).parent)  # killed mid-save: the previous state goes back
    if not has_state(run.state_path):
        raise TrainingError(f"Run {run.id} has no saved state to resume from.",
                            "Only runs that finished at least one epoch or were cancelled "
                            "can be resumed; start a new run instead.")
    if run.status == "running":
        raise TrainingError(f"Run {run.id} is still running (pid {run.pid}).",
                            f"Follow it with 'smartlap runs tail {run.id}'.")
    config = TrainConfig.from_dict(_saved_config(run)).with_resume_changes(changes)
    progress = load_progress(run.state_path)
    if not isinstance(progress, dict) or not isinstance(progress.get("epoch"), int):
        raise TrainingError(f"Run {run.id}'s saved state is damaged (no epoch in it).",
                            "Start a new run instead of resuming this one.")
    done = progress["epoch"] - 1
    started = done + (1 if progress.get("batches_done") else 0)
    more = f"'smartlap train --resume {run.id} --epochs {max(done + 1, 2 * done)}'"
    trained = f"{done} epoch" + ("" if done == 1 else "s")
    if changes.get("epochs") is not None and config.epochs < max(started, 1):
        partly = f" and part of epoch {started}" if started > done else ""
        raise UsageError(f"Run {run.id} has already trained {trained}{partly}; --epochs "
                         f"cannot be less than {max(started, 1)}.",
                         f"Give --epochs {max(started, 1)} or more, e.g. {more}.")
    if run.status == "finished" and (changes.get("epochs") is None or config.epochs <= done):
        raise UsageError(f"Run {run.id} has finished ({trained}); there is nothing left "
                         "to resume.", f"To train it further, give more epochs: {more}.")
    return config.validate()


def _saved_config(run: Any) -> dict[str, Any]:
    """The run's config: run.json's, or the one its last run_started event recorded.

    ``runs.start_run_process`` now keeps a re-used run's config; the event is the fallback
    for run folders whose run.json an earlier version replaced with the launch's argv.
    """
    if "model" in run.config and "dataset" in run.config:
        return run.config
    from smartlap import events
    from smartlap.store import runs

    for event in reversed(runs.read_run_events(run.id)):
        if isinstance(event, events.RunStarted) and event.config:
            return event.config
    raise TrainingError(f"Run {run.id} has no saved settings to resume with.",
                        "Start a new run instead.")


def load_state(directory: Path, model: torch.nn.Module, optimizer: Any,
               scheduler: Any, scaler: Any = None) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler, RNGs (and an fp16 scaler) in place.

    Returns the progress.
    """
    from safetensors.torch import load_model

    directory = Path(directory)
    progress = load_progress(directory)
    try:
        load_model(model, str(directory / WEIGHTS), strict=True)
        optimizer.load_state_dict(torch.load(directory / OPTIMIZER, weights_only=True))
        scheduler.load_state_dict(torch.load(directory / SCHEDULER, weights_only=True))
        tensor_rng = torch.load(directory / TORCH_RNG, weights_only=True)
        if scaler is not None and (directory / SCALER).is_file():
            scaler.load_state_dict(torch.load(directory / SCALER, weights_only=True))
    except Exception as exc:  # any damage to the files means the same thing to the person
        raise TrainingError(f"The run's saved state is damaged ({type(exc).__name__}: {exc}).",
                            "Start a new run instead of resuming this one.") from None
    restore_rng(progress.pop("rng"), tensor_rng)
    _follow_schedule(optimizer, scheduler)
    return progress


def _follow_schedule(optimizer: Any, scheduler: Any) -> None:
    """Set the optimizer's learning rates from the restored schedule position.

    The saved rates came from the schedule the run had when it saved; a resume with more
    ``--epochs`` builds a longer one. Without this the first step after resuming would
    still use the old schedule's rate. For an unchanged schedule the value is the same.
    """
    lambdas = getattr(scheduler, "lr_lambdas", None)
    if not lambdas:
        return
    rates = [base * fn(scheduler.last_epoch)
             for base, fn in zip(scheduler.base_lrs, lambdas, strict=True)]
    for group, rate in zip(optimizer.param_groups, rates, strict=True):
        group["lr"] = rate


def _to_lists(value: Any) -> Any:
    return [_to_lists(v) for v in value] if isinstance(value, (tuple, list)) else value


def _to_tuples(value: Any) -> Any:
    return tuple(_to_tuples(v) for v in value) if isinstance(value, list) else value
