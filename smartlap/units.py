"""Human-readable sizes, durations, memory, parameter counts and table cells.

Shared by the CLI, reports and the studio, so a figure reads the same everywhere.
"""

from __future__ import annotations

from typing import Any


def human_bytes(nbytes: int | None) -> str:
    """'4.9 MB' for 4,918,704; '-' when unknown."""
    if not nbytes:
        return "-"
    size = float(nbytes)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def human_params(count: int | None) -> str:
    """'124.4M' or '39K'; '-' when unknown."""
    if not count:
        return "-"
    return f"{count / 1e6:.1f}M" if count >= 1e6 else f"{count / 1e3:.0f}K"


def table_cell(value: Any, digits: int = 3) -> str:
    """A number for a results table: floats to ``digits`` places, '-' when missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_duration(seconds: float | None) -> str:
    """'45s', '3m05s' or '1h02m' for a time taken or left; '–' when unknown."""
    if seconds is None or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_mb(megabytes: float | None) -> str:
    """'812 MB' or '2.1 GB' for a figure in MiB; '–' when unknown."""
    if megabytes is None:
        return "–"
    return f"{megabytes / 1024:.1f} GB" if megabytes >= 1024 else f"{megabytes:.0f} MB"


def format_memory(memory: dict[str, Any] | None) -> str:
    """A training process's memory in one short label, from a ``memory.py`` snapshot.

    'GPU 3.1/4.0/12.0 GB · RAM 2.1 GB' on a GPU (allocated/reserved/total, then the
    process's RAM), 'RAM 812 MB of 15.5 GB' on a CPU; 'memory –' before the first figure.
    """
    memory = memory or {}
    ram = memory.get("rss_mb")
    if memory.get("total_mb"):
        gb = [(memory.get(k) or 0) / 1024 for k in ("allocated_mb", "reserved_mb", "total_mb")]
        label = f"GPU {gb[0]:.1f}/{gb[1]:.1f}/{gb[2]:.1f} GB"
        return label + (f" · RAM {format_mb(ram)}" if ram is not None else "")
    if ram is None:
        return "memory –"
    system = memory.get("system_mb")
    return f"RAM {format_mb(ram)}" + (f" of {format_mb(system)}" if system else "")


def one_line(text: str, limit: int = 160) -> str:
    """Text's lines joined with ' / ', unprintable characters dropped, cut at ``limit``."""
    lines = ("".join(c for c in line.strip() if c.isprintable()) for line in text.splitlines())
    joined = " / ".join(line for line in lines if line)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"
