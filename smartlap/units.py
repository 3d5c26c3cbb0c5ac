"""Human-readable sizes, parameter counts and table cells, shared by the CLI, reports and studio."""

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
