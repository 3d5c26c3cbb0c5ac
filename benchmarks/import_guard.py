"""Refuse imports of packages a lent GPU machine does not have, so a dry run here is faithful.

The GPU machine has torch, transformers, accelerate, peft, safetensors, tokenizers, rich
and psutil, but not textual, platformdirs or pyphen. This machine has all of them, so
without this guard a core path that imported one of the three would pass the dry run and
fail on the GPU. With it installed, such an import fails here the same way.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterable, Sequence
from typing import Any

ABSENT_ON_GPU_MACHINE = ("textual", "platformdirs", "pyphen")


class Blocker(importlib.abc.MetaPathFinder):
    """A meta-path finder that raises ImportError for the named top-level packages."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: Any = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ImportError(f"{fullname} is not installed on the GPU machine "
                              "(blocked by benchmarks/import_guard.py)", name=fullname)
        return None


def install(names: Iterable[str] = ABSENT_ON_GPU_MACHINE) -> Blocker:
    """Block ``names`` from now on; a module already imported is an error (too late)."""
    names = tuple(names)
    loaded = sorted(n for n in sys.modules if n.partition(".")[0] in names)
    if loaded:
        raise RuntimeError(f"already imported before the guard: {', '.join(loaded)}")
    blocker = Blocker(names)
    sys.meta_path.insert(0, blocker)
    return blocker
