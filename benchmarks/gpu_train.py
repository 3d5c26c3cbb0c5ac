"""Training steps: the seeds' workload through smartlap's engine and through HF Trainer,
and a run killed after its first epoch and resumed.

Every figure comes from the code a person's run uses: ``run_training`` (accelerate, the
lean layers, the chunked head loss, packing), its ``epoch_end`` events (seconds and tokens/s
of the train loop, memory from ``smartlap.lm.train.memory``), its resumable state. The
Trainer baseline is ``benchmarks/training.py``'s, on the same songs, batch, block and
precision, with one song per row padded to the batch's longest.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

POLL_S = 0.02


def _config(context: Any, role: str, name: str, **changes: Any) -> Any:
    from smartlap.lm.train.config import TrainConfig

    plan = context.plan
    values = {"model": str(context.model(role)), "dataset": context.dataset, "name": name,
              "epochs": plan.epochs, "precision": plan.train_precision,
              "device": plan.device, "patience": None, "sample_tokens": plan.sample_tokens,
              "batch_size": plan.batch, "block_size": plan.block, "seed": 42}
    values.update(changes)
    return TrainConfig(**values)


def _forget(run_id: str | None, model_name: str) -> None:
    """Delete a finished run's checkpoints: GBs each, and the next run needs the disk."""
    from smartlap.paths import get_paths
    from smartlap.store import runs

    shutil.rmtree(get_paths().models / model_name, ignore_errors=True)
    if run_id:
        shutil.rmtree(runs.run_path(run_id), ignore_errors=True)


def _epoch_figures(entry: dict[str, Any]) -> dict[str, Any]:
    memory = entry.get("memory") or {}
    return {"epoch": entry["epoch"], "seconds": entry["seconds"],
            "tokens_per_s": entry["tokens_per_s"], "train_loss": entry["train_loss"],
            "val_loss": entry["val_loss"], "peak_mb": memory.get("peak_mb"),
            "peak_reserved_mb": memory.get("peak_reserved_mb"),
            "peak_rss_mb": memory.get("peak_rss_mb")}


def smartlap_run(context: Any, role: str, mode: str = "full") -> dict[str, Any]:
    """One run of the engine; the last epoch's speed (warm), the whole run's peaks."""
    from smartlap import events
    from smartlap.lm.device import choose_precision
    from smartlap.lm.train.engine import run_training
    from smartlap.lm.train.memory import table_memory_mb

    plan = context.plan
    shape = plan.shapes[role]
    config = _config(context, role, f"gpu-check-{shape.label}-{mode}", mode=mode)
    started: dict[str, Any] = {}
    ends: list[float] = []

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.RunStarted):
            started.update(config=event.config, device=event.device, params=event.params,
                           trainable=event.trainable_params, train_tokens=event.train_tokens,
                           val_tokens=event.val_tokens)
        elif isinstance(event, events.EpochEnd):
            ends.append(time.monotonic())

    began = time.monotonic()
    result = run_training(config, on_event=on_event)
    wall = time.monotonic() - began
    _forget(result.run_id, config.name)
    history = [_epoch_figures(h) for h in result.history]
    last = history[-1]
    resolved = started.get("config", {})
    between = (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else wall
    return {
        "model": shape.label, "arch": shape.arch, "mode": mode, "contender": "smartlap",
        "device": started.get("device"),
        "precision": choose_precision(plan.device, plan.train_precision),
        "params": started.get("params"), "trainable_params": started.get("trainable"),
        "songs": plan.songs, "train_tokens": started.get("train_tokens"),
        "val_tokens": started.get("val_tokens"),
        **{key: resolved.get(key) for key in ("batch_size", "grad_accum", "block_size",
                                              "gradient_checkpointing", "lr")},
        "epochs": history, "seconds_per_epoch": last["seconds"],
        "wall_seconds_per_epoch": round(between, 2), "tokens_per_s": last["tokens_per_s"],
        "peak_allocated_mb": max((h["peak_mb"] or 0) for h in history) or None,
        "peak_reserved_mb": max((h["peak_reserved_mb"] or 0) for h in history) or None,
        "table_memory_mb": max(table_memory_mb(h.get("memory") or {})
                               for h in result.history),
        "train_loss": last["train_loss"], "val_loss": last["val_loss"],
        "wall_seconds": round(wall, 1)}


def _resolved(context: Any, role: str) -> Any:
    """The batch, block and lr the engine gives this model (its 12 GB-card defaults)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from smartlap.lm.train.config import resolve
    from smartlap.lm.train.modes import count_parameters

    folder = context.model(role)
    model_config = AutoConfig.from_pretrained(folder)
    with torch.device("meta"):  # the shape only: no memory, no init
        params, _ = count_parameters(AutoModelForCausalLM.from_config(model_config))
    context_length = int(getattr(model_config, "n_positions", None)
                         or model_config.max_position_embeddings)
    return resolve(_config(context, role, "unused"), params, context_length)


def trainer_run(context: Any, role: str) -> dict[str, Any]:
    """HF Trainer, one song per row padded per batch, same batch/block/lr/precision."""
    from benchmarks.training import run_trainer
    from smartlap.lm.device import choose_precision

    plan = context.plan
    config = _resolved(context, role)
    precision = choose_precision(plan.device, plan.train_precision)
    figures = run_trainer(str(context.model(role)), 0, False, texts=context.train_texts,
                          batch=config.batch_size, block=config.block_size, lr=config.lr,
                          epochs=plan.trainer_epochs, precision=precision, device=plan.device)
    shape = plan.shapes[role]
    return {"model": shape.label, "arch": shape.arch, "mode": "full",
            "contender": "HF Trainer + per-song padding", "precision": precision,
            "batch_size": config.batch_size, "grad_accum": 1, "block_size": config.block_size,
            "lr": config.lr, "songs": plan.songs, **figures,
            "seconds_per_epoch": figures["epoch_seconds"][-1] if figures["epoch_seconds"]
            else None, "tokens_per_s": figures["last_epoch_tokens_per_s"],
            "peak_allocated_mb": figures.get("gpu_peak_mb"),
            "peak_reserved_mb": figures.get("gpu_peak_reserved_mb")}


def _losses(history: list[dict[str, Any]]) -> dict[int, tuple[float, float | None]]:
    return {h["epoch"]: (h["train_loss"], h["val_loss"]) for h in history}


def _wait_for_state(run_ids: set[str], process: subprocess.Popen, log: Path) -> str:
    """The id of the new run once its first resumable state is saved."""
    from smartlap.paths import get_paths
    from smartlap.store import runs

    root = get_paths().runs
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"the run to kill ended by itself (exit {process.returncode}): "
                               + " | ".join(tail))
        for run_dir in root.iterdir() if root.is_dir() else []:
            if run_dir.name in run_ids or run_dir.name.startswith("."):
                continue
            for event in runs.read_run_events(run_dir.name):
                if getattr(event, "checkpoint", None) == "state":
                    return run_dir.name
        time.sleep(POLL_S)


def resume(context: Any) -> dict[str, Any]:
    """Reference run; the same run SIGKILLed after epoch 1's state and resumed; compare."""
    from smartlap.lm.train.engine import run_training
    from smartlap.paths import get_paths
    from smartlap.store import runs

    plan = context.plan
    common = {"epochs": plan.resume_epochs, "precision": plan.resume_precision,
              "max_songs": plan.resume_songs, "seed": 7}
    reference_config = _config(context, "gpt2", "gpu-check-resume-reference", **common)
    reference = run_training(reference_config)
    expected = _losses(reference.history)
    _forget(reference.run_id, reference_config.name)

    killed_config = _config(context, "gpt2", "gpu-check-resume-killed", **common)
    root = get_paths().runs
    before = {p.name for p in root.iterdir()} if root.is_dir() else set()
    repo = Path(__file__).resolve().parent.parent
    log = context.work / "killed-run.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.gpu_check", "--child-train",
             json.dumps(killed_config.to_dict())], cwd=repo, stdout=output, stderr=output,
            env=_child_env(repo))
    try:
        run_id = _wait_for_state(before, process, log)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    status_after_kill = runs.get_run(run_id).status
    saved_epoch = max(e.epoch for e in runs.read_run_events(run_id)
                      if getattr(e, "checkpoint", None) == "state")
    resumed = run_training(killed_config, resume=run_id)
    got = _losses(resumed.history)
    _forget(run_id, killed_config.name)
    differences = [abs(got[e][i] - expected[e][i]) for e in expected if e in got
                   for i in (0, 1) if expected[e][i] is not None and got[e][i] is not None]
    tolerance = 1e-5 if plan.device == "cpu" else 2e-3  # CUDA kernels are not bit-exact
    worst = max(differences) if differences else None
    return {"precision": plan.resume_precision, "model": plan.shapes["gpt2"].label,
            "songs": plan.resume_songs, "epochs": plan.resume_epochs,
            "status_after_kill": status_after_kill, "killed_after_epoch": saved_epoch,
            "expected": {str(k): v for k, v in expected.items()},
            "resumed": {str(k): v for k, v in got.items()},
            "epochs_compared": sorted(set(expected) & set(got)),
            "max_loss_difference": worst, "tolerance": tolerance,
            "losses_match": worst is not None and worst <= tolerance
            and sorted(got) == sorted(expected)}


def _child_env(repo: Path) -> dict[str, str]:
    import os

    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(repo), path) if p)}
