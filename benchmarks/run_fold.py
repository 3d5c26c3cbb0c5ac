"""Following a long run: one poll of `runs tail` / the listing, before and after the fold.

Run: .venv/bin/python benchmarks/run_fold.py   (prints a Markdown table; about 15 s)

Writes a run log the size of a 50-epoch run with 400 steps an epoch (~20,000 lines, ~4.5 MB)
into a temporary data home, then times what one 0.25 s poll cost before (read the whole log
and fold it, as `runs tail` did through `get_run` on every poll) against what it costs now
(fold the new lines and ask `runs.live_status`), and `get_run` the first time and again (the
listing keeps a `LogFold` per run log).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EPOCHS, STEPS = 50, 400


def _timed(function, repeats: int) -> float:
    """The median of ``repeats`` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["SMARTLAP_HOME"] = home
        from smartlap import events
        from smartlap.store import runs
        from smartlap.store.run_summary import RunSummary

        run_id = runs.create_run({"model": "m", "dataset": "d", "epochs": EPOCHS},
                                 pid=os.getpid()).name
        path = runs.run_path(run_id) / runs.EVENTS_FILE
        memory = {"device": "cpu", "rss_mb": 800.0, "peak_rss_mb": 900.0, "system_mb": 16e3}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(events.RunStarted(run_id=run_id, config={}, model="m", dataset="d",
                                           device="cpu", params=1).to_json() + "\n")
            for epoch in range(1, EPOCHS + 1):
                for step in range(1, STEPS + 1):
                    handle.write(events.Step(epoch=epoch, step=step, loss=3.0, lr=1e-4,
                                             tokens_per_s=100.0, total_steps=STEPS,
                                             memory=memory, eta_seconds=9.0).to_json() + "\n")
        lines, size = EPOCHS * STEPS + 1, path.stat().st_size

        whole = _timed(lambda: RunSummary.of(run_id, events.read_log(path).events), 5)
        summary = RunSummary.of(run_id, events.read_log(path).events)
        tail = events.EventTail(path)
        tail.offset = size

        def poll() -> None:
            summary.apply_all(tail.poll())
            runs.live_status(run_id, summary)

        incremental = _timed(poll, 200)
        first = _timed(lambda: runs.get_run(run_id), 1)
        again = _timed(lambda: runs.get_run(run_id), 50)
    print(f"log: {lines:,} lines, {size / 2**20:.1f} MiB\n")
    print("| one poll | ms |\n|---|---:|")
    print(f"| whole log read and folded (`runs tail` before) | {whole:.0f} |")
    print(f"| new lines folded + live_status (`runs tail` now) | {incremental:.2f} |")
    print(f"| get_run, first time | {first:.0f} |")
    print(f"| get_run again (the listing's LogFold) | {again:.2f} |")


if __name__ == "__main__":
    main()
