"""What a run costs in memory, for step and epoch_end events and the results table.

GPU numbers come from torch.cuda (allocated, reserved, peak since the last reset, total);
CPU numbers from psutil (this process's resident set and its peak). Both sources are passed
in as arguments so tests can substitute fakes at exactly this boundary.
"""

from __future__ import annotations

import sys
from typing import Any

MB = 1024 * 1024


def gpu_memory(cuda: Any, device_index: int = 0) -> dict[str, float]:
    """allocated/reserved/peak/peak reserved/total MB from a ``torch.cuda``-like module.

    The peak reserved figure is what the caching allocator held at most: what the card must
    really have free (``nvidia-smi`` shows that plus the CUDA context).
    """
    total = cuda.get_device_properties(device_index).total_memory
    return {
        "allocated_mb": round(cuda.memory_allocated(device_index) / MB, 1),
        "reserved_mb": round(cuda.memory_reserved(device_index) / MB, 1),
        "peak_mb": round(cuda.max_memory_allocated(device_index) / MB, 1),
        "peak_reserved_mb": round(cuda.max_memory_reserved(device_index) / MB, 1),
        "total_mb": round(total / MB, 1),
    }


def cpu_memory(process: Any | None = None) -> dict[str, float]:
    """Resident set now and the process's peak (ru_maxrss where the OS keeps it)."""
    if process is None:
        import psutil

        process = psutil.Process()
    rss = process.memory_info().rss
    peak = rss
    try:
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = max(rss, maxrss if sys.platform == "darwin" else maxrss * 1024)
    except (ImportError, OSError):
        peak = max(rss, getattr(process.memory_info(), "peak_wset", rss))
    return {"rss_mb": round(rss / MB, 1), "peak_rss_mb": round(peak / MB, 1)}


def system_memory_mb() -> float | None:
    """The machine's RAM in MB (the scale of the studio's meter on a CPU run)."""
    try:
        import psutil

        return round(psutil.virtual_memory().total / MB, 1)
    except (ImportError, OSError):
        return None


def memory_snapshot(device_type: str, cuda: Any | None = None, process: Any | None = None,
                    device_index: int = 0) -> dict[str, Any]:
    """The memory dict of step and epoch_end events: always CPU, plus GPU on a CUDA device."""
    snapshot: dict[str, Any] = {"device": device_type, **cpu_memory(process)}
    system = system_memory_mb()
    if system:
        snapshot["system_mb"] = system
    if device_type == "cuda":
        if cuda is None:
            import torch

            cuda = torch.cuda
        snapshot.update(gpu_memory(cuda, device_index))
    return snapshot


def reset_peak(device_type: str, cuda: Any | None = None) -> None:
    if device_type == "cuda":
        if cuda is None:
            import torch

            cuda = torch.cuda
        cuda.reset_peak_memory_stats()


def table_memory_mb(snapshot: dict[str, Any]) -> float:
    """The one number of the seeds' "Memory (MB)" column: GPU peak, else CPU peak RSS."""
    return float(snapshot.get("peak_mb") or snapshot.get("peak_rss_mb") or 0.0)
