"""How many CPU threads torch may use for generation, so the studio's parts fit the cores.

In the studio three things share the CPU: the UI thread, the generation worker and, often, a
training process. torch's default (one intra-op thread per core) oversubscribes a small
machine: its OpenMP threads spin at barriers while another process holds a core, and a
GPT-2 124M token measured ~300 ms with 2 threads next to one busy process against ~50 ms
with 1 (docs/benchmarks.md, Generation). So the studio keeps one core for the UI and
leaves half of the rest to a training run.

Setting: ``SMARTLAP_GENERATION_THREADS`` (a whole number >= 1) overrides the choice.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from smartlap.errors import UsageError

THREADS_VARIABLE = "SMARTLAP_GENERATION_THREADS"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def studio_generation_threads(cores: int | None = None,
                              environ: Mapping[str, str] | None = None) -> int:
    """Threads for generation in the studio: the setting, else half the cores but the UI's."""
    environ = os.environ if environ is None else environ
    value = environ.get(THREADS_VARIABLE, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"{THREADS_VARIABLE}={value!r} is not a whole number of at least 1.",
                             f"Unset it, or set it to e.g. 1 ({THREADS_VARIABLE}=1).")
        return int(value)
    cores = usable_cores() if cores is None else cores
    return max(1, (cores - 1) // 2)


def use_threads(threads: int) -> None:
    """Make torch's intra-op pool this size (process-wide; the studio's only torch user)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one intra-op thread for a while (then back to what it was).

    Loading only casts and checks tensors once, memory-bound work a second thread barely
    speeds up on an idle machine, while on a busy one (training next door, a loaded CI box)
    OpenMP's spinning made it up to 100x slower: 2 s instead of 20 ms for smartlap-mini."""
    import torch

    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)
