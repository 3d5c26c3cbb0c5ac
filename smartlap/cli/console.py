"""Shared rich consoles and JSON output for the subcommands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from functools import cache
from typing import Any

from rich.console import Console


@cache
def out_console() -> Console:
    return Console(highlight=False)


@cache
def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(obj: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled by rich."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def print_json_line(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def print_damaged(damaged: Iterable[Any]) -> None:
    """One line on stderr per entry a listing skipped (``store.listing.Damaged``), so the
    rest of the listing, and stdout's JSON, stay as they are."""
    for entry in damaged:
        err_console().print(f"[yellow]warning:[/] {entry.line}", markup=True, highlight=False,
                            soft_wrap=True)
