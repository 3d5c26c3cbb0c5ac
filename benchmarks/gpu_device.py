"""Device-level steps: what torch says about the GPU, and the lean layers on it.

The lean layers (``smartlap/lm/train/lean_layers.py``) hand GPT-2's attention to ``sdpa``
on a GPU (its kernels do dropout) and replace GPT-Neo's everywhere; until now only CPU runs
had shown which path runs where, and under autocast the recomputing attention once failed
("expected scalar type Float but found BFloat16"). This step counts which attention ran,
under the run's own autocast, and compares the lean model's loss with the plain one's.
"""

from __future__ import annotations

import contextlib
import copy
import os
import platform
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

PACKAGES = ("transformers", "accelerate", "peft", "tokenizers", "safetensors", "rich",
            "psutil")


def _installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def device_facts(context: Any) -> dict[str, Any]:
    """Name, memory, capability, bf16 support, versions; and smartlap's own placement."""
    import torch

    from smartlap.lm.device import choose_placement
    from smartlap.lm.train import memory

    placement = choose_placement("auto", "auto")
    facts: dict[str, Any] = {
        "used": context.plan.device, "smartlap_placement": f"{placement.device}, "
        f"{placement.precision}", "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda,
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "versions": {p: _installed(p) for p in PACKAGES},
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        facts.update(
            name=props.name, count=torch.cuda.device_count(),
            memory_mb=round(props.total_memory / 2**20),
            capability=f"{props.major}.{props.minor}",
            multiprocessors=props.multi_processor_count,
            bf16=bool(torch.cuda.is_bf16_supported()),
            cudnn=torch.backends.cudnn.version(),
            sdpa={"flash": torch.backends.cuda.flash_sdp_enabled(),
                  "mem_efficient": torch.backends.cuda.mem_efficient_sdp_enabled(),
                  "math": torch.backends.cuda.math_sdp_enabled()},
            tf32_matmul=bool(torch.backends.cuda.matmul.allow_tf32),
            memory=memory.memory_snapshot("cuda"))
    else:
        facts.update(name=platform.processor() or platform.machine(), bf16=None,
                     memory=memory.memory_snapshot("cpu"))
    return facts


@contextlib.contextmanager
def _counting() -> Iterator[dict[str, int]]:
    """Count calls of the recomputing attention and of transformers' sdpa attention."""
    from transformers.integrations import sdpa_attention

    from smartlap.lm.train import lean_layers

    counts = {"recomputed": 0, "sdpa": 0}
    recomputed = lean_layers._RecomputedAttention.apply
    sdpa = sdpa_attention.sdpa_attention_forward

    def count_recomputed(*args: Any) -> Any:
        counts["recomputed"] += 1
        return recomputed(*args)

    def count_sdpa(*args: Any, **kwargs: Any) -> Any:
        counts["sdpa"] += 1
        return sdpa(*args, **kwargs)

    lean_layers._RecomputedAttention.apply = count_recomputed
    sdpa_attention.sdpa_attention_forward = count_sdpa
    try:
        yield counts
    finally:
        lean_layers._RecomputedAttention.apply = recomputed
        sdpa_attention.sdpa_attention_forward = sdpa


def _step(model: Any, batch: dict[str, Any], device: str, precision: str) -> dict[str, Any]:
    """One forward (under the run's autocast) and backward; loss, finite grads, peak MB."""
    import torch

    from smartlap.lm.device import torch_dtype
    from smartlap.lm.train import memory

    kind = device.split(":")[0]
    memory.reset_peak(kind)
    autocast = (torch.autocast(kind, dtype=torch_dtype(precision)) if precision != "fp32"
                else contextlib.nullcontext())
    model.zero_grad(set_to_none=True)
    with autocast:
        loss = model(**batch, use_cache=False).loss
    loss.backward()
    finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters()
                 if p.grad is not None)
    peak = memory.memory_snapshot(kind).get("peak_mb")
    return {"loss": round(float(loss.detach()), 5), "grads_finite": finite, "peak_mb": peak}


def _kernel_probe(model: Any, batch: dict[str, Any], device: str,
                  precision: str) -> dict[str, str]:
    """Which sdpa kernels can run the lean GPT-2's training step, each alone.

    Only a GPU's answer means something: on the CPU the step does not reach sdpa.
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    found = {}
    for backend in (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION):
        try:
            with sdpa_kernel([backend]):
                _step(model, batch, device, precision)
            found[backend.name.lower()] = "ok"
        except RuntimeError as error:
            found[backend.name.lower()] = str(error).splitlines()[0][:160]
    return found


def lean_attention(context: Any) -> dict[str, Any]:
    """Which attention the lean layers run on this device, and that they match the model."""
    import dataclasses

    import torch
    from transformers import AutoModelForCausalLM

    from smartlap.lm.device import choose_precision
    from smartlap.lm.train.lean_layers import make_lean

    plan = context.plan
    device = plan.device
    precision = choose_precision(device, plan.train_precision)
    block = plan.lean_block
    results: dict[str, Any] = {"precision": precision, "block": block}
    for role in ("gpt2", "neo"):
        shape = plan.shapes[role]
        small = dataclasses.replace(shape, layers=min(shape.layers, 4),
                                    window=min(shape.window, block // 2))
        torch.manual_seed(0)
        plain = AutoModelForCausalLM.from_config(small.config(0)).to(device).train()
        for module in plain.modules():  # dropout on, so the lean attention is chosen as in
            if isinstance(module, torch.nn.Dropout):  # training, yet drops nothing: the
                module.p = 1e-9  # two models compute the same function
        lean = copy.deepcopy(plain)
        swapped = make_lean(lean)
        generator = torch.Generator().manual_seed(1)
        ids = torch.randint(0, small.vocab, (4, block), generator=generator).to(device)
        batch = {"input_ids": ids, "labels": ids, "attention_mask": torch.ones_like(ids)}
        reference = _step(plain, batch, device, precision)
        with _counting() as counts:
            got = _step(lean, batch, device, precision)
        layers = small.config(0).num_hidden_layers
        on_cpu = device == "cpu"
        expected = {"recomputed": layers, "sdpa": 0} if role == "neo" or on_cpu else {
            "recomputed": 0, "sdpa": layers}
        results[shape.arch] = {
            "swapped": swapped, "calls": dict(counts), "expected_calls": expected,
            "handover_ok": dict(counts) == expected, "loss": got["loss"],
            "plain_loss": reference["loss"],
            "loss_difference": round(abs(got["loss"] - reference["loss"]), 5),
            "grads_finite": got["grads_finite"], "peak_mb": got["peak_mb"],
            "plain_peak_mb": reference["peak_mb"]}
        if role == "gpt2":
            results[shape.arch]["sdpa_kernels"] = _kernel_probe(lean, batch, device, precision)
        del plain, lean
    return results
