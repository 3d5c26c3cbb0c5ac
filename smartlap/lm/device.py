"""Device and dtype choice: the one place that asks torch what hardware there is.

Automatic order is cuda > mps > cpu. On a GPU the weights load in bf16 where the card
supports it (fp16 otherwise) to halve memory; on the CPU they stay fp32, because bf16
matmuls measured slower there. Everything goes through a small ``Backends`` object so the
choice can be tested with fakes on a machine without a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from smartlap.errors import ModelError, UsageError

if TYPE_CHECKING:
    import torch

DEVICE_KINDS = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


class Backends(Protocol):
    """What the device choice needs to know about the machine."""

    def cuda_available(self) -> bool: ...
    def cuda_device_count(self) -> int: ...
    def cuda_bf16_supported(self) -> bool: ...
    def mps_available(self) -> bool: ...


class TorchBackends:
    """The real answers, from torch (imported only when asked)."""

    def cuda_available(self) -> bool:
        import torch

        return bool(torch.cuda.is_available())

    def cuda_device_count(self) -> int:
        import torch

        return int(torch.cuda.device_count())

    def cuda_bf16_supported(self) -> bool:
        import torch

        return bool(torch.cuda.is_bf16_supported())

    def mps_available(self) -> bool:
        import torch

        mps = getattr(torch.backends, "mps", None)
        return bool(mps is not None and mps.is_available())


@dataclass(frozen=True)
class Placement:
    """Where a model runs and in which precision, e.g. ``Placement("cuda:0", "bf16")``."""

    device: str
    precision: str

    @property
    def kind(self) -> str:
        return self.device.split(":")[0]


def choose_device(requested: str | None = None, backends: Backends | None = None) -> str:
    """Resolve ``None``/``"auto"``/``"cuda"``/``"cuda:1"``/``"mps"``/``"cpu"`` to a device.

    An explicit device that is not there is an error (with a hint), never a silent fallback.
    """
    backends = backends or TorchBackends()
    wanted = (requested or "auto").strip().lower()
    kind, _, index = wanted.partition(":")
    if kind not in DEVICE_KINDS or (index and (kind != "cuda" or not index.isdigit())):
        raise UsageError(f"Unknown device {requested!r}.",
                         "Use auto, cpu, cuda, cuda:N or mps.")
    if kind == "auto":
        if backends.cuda_available():
            return "cuda"
        if backends.mps_available():
            return "mps"
        return "cpu"
    if kind == "cuda":
        if not backends.cuda_available():
            raise ModelError("CUDA was requested but no CUDA GPU is available.",
                             "Check the NVIDIA driver and that torch was installed with CUDA "
                             "support, or use --device cpu.")
        if index and int(index) >= backends.cuda_device_count():
            raise ModelError(f"There is no GPU {wanted} (found {backends.cuda_device_count()}).",
                             "Use --device cuda to take the first GPU.")
        return wanted
    if kind == "mps" and not backends.mps_available():
        raise ModelError("Apple MPS was requested but is not available here.",
                         "Use --device cpu.")
    return kind


def choose_precision(device: str, requested: str | None = "auto",
                     backends: Backends | None = None) -> str:
    """bf16 on a GPU that supports it, else fp16 on GPU; fp32 on the CPU (fastest there)."""
    backends = backends or TorchBackends()
    wanted = (requested or "auto").lower()
    if wanted not in PRECISIONS:
        raise UsageError(f"Unknown precision {requested!r}.", "Use auto, fp32, bf16 or fp16.")
    kind = device.split(":")[0]
    if wanted != "auto":
        if wanted == "bf16" and kind == "cuda" and not backends.cuda_bf16_supported():
            raise ModelError("This GPU does not support bf16.", "Use --precision fp16.")
        return wanted
    if kind == "cuda":
        return "bf16" if backends.cuda_bf16_supported() else "fp16"
    if kind == "mps":
        return "fp16"
    return "fp32"


def choose_placement(device: str | None = None, precision: str | None = "auto",
                     backends: Backends | None = None) -> Placement:
    backends = backends or TorchBackends()
    chosen = choose_device(device, backends)
    return Placement(chosen, choose_precision(chosen, precision, backends))


def torch_dtype(precision: str) -> torch.dtype:
    """The torch dtype for a precision name."""
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def is_out_of_memory(error: BaseException) -> bool:
    """Whether an exception is a device or host out-of-memory error."""
    if isinstance(error, MemoryError):
        return True
    try:
        import torch

        if isinstance(error, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def release_memory() -> None:
    """Give freed tensors' memory back (the caching allocator keeps it otherwise), so the
    next model or step starts from what is really in use. Drop references first."""
    import gc

    gc.collect()
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
