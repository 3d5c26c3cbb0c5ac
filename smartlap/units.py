"""Human-readable sizes and parameter counts, shared by the CLI and the studio."""

from __future__ import annotations


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
