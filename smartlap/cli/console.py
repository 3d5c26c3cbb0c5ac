"""Shared rich consoles and JSON output for the subcommands."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator
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


@contextlib.contextmanager
def progress_bar(label: str, unit: str) -> Iterator[Any]:
    """A rich bar on stderr fed by a ``smartlap.progress.Progress`` (yielded)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    from smartlap.progress import Progress

    bar = RichProgress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                       TextColumn("{task.fields[items]}"), TimeElapsedColumn(),
                       console=err_console(), transient=True)
    task = bar.add_task(label, total=None, items="")

    def draw(state: Progress) -> None:
        bar.update(task, total=state.total, completed=min(state.done, state.total or state.done),
                   items=f"{state.items:,} {unit}")

    with bar:
        yield Progress(callback=draw)
