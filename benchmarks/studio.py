"""Studio speed: first paint, key press -> repaint while generating and training, gutter cost.

Run: .venv/bin/python benchmarks/studio.py   (prints a Markdown table; about a minute)

- First paint: from starting a fresh interpreter to the studio's first frame (headless,
  100x30); baseline is a bare Textual app with Header and Footer measured the same way.
- Key latency: 200 key presses into the editor, each timed from the key event entering the
  app to the next frame written; idle studio as the baseline, then while a tiny model streams
  generations (4 alternatives, restarted whenever one ends) and a `smartlap train` process,
  started as the studio starts one (background priority), runs next to it.
- Gutter: syllable counts and rhyme letters for a 200-line song, the per-keystroke part
  (one changed line, cached counts) against recounting every line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

PAINT = """
import time, asyncio
{imports}
async def main():
    app = {factory}
    first = []
    display = app._display

    def stamped(screen, renderable):
        if not first:
            first.append(time.time())
        return display(screen, renderable)

    app._display = stamped
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
    print(first[0])
asyncio.run(main())
"""
BARE = ("from textual.app import App\nfrom textual.widgets import Header, Footer\n"
        "class Bare(App):\n    def compose(self):\n"
        "        yield Header()\n        yield Footer()\n")


def first_paint(code: str, runs: int = 5) -> float:
    """Median seconds from starting the interpreter to the app's first frame."""
    times = []
    for _ in range(runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=os.environ)
        times.append(float(out.stdout.strip().splitlines()[-1]) - start)
    return statistics.median(times)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def key_latency(busy: bool, presses: int = 200) -> list[float]:
    """Seconds from a key event entering the app to the next frame it writes (the repaint).

    Pilot.press waits for the app to go idle (~70 ms even for a bare Textual app), so it is
    not used for timing: the key is sent through the driver as a terminal would, and the
    app's ``_display`` (which writes a frame) is wrapped to stamp each frame.
    """
    from textual import events as tevents

    from smartlap.tui.app import make_app
    from smartlap.tui.write import WriteView

    app = make_app()
    frames: list[float] = []
    samples: list[float] = []
    regenerated = 0
    async with app.run_test(size=(100, 30)) as pilot:
        original = app._display

        def stamped(screen, renderable):
            frames.append(time.perf_counter())
            return original(screen, renderable)

        app._display = stamped
        view = app.query_one(WriteView)
        await pilot.pause()
        if busy:
            # The tiny model's context is 128 tokens: keep it busy by regenerating.
            view.controls = view.controls.__class__(max_new_tokens=100, seed=1, samples=4)
            view.action_generate()  # not pilot.press: it waits for an idle app
            deadline = time.monotonic() + 60
            while view.generating and not any(view.alternatives):  # model loading
                if time.monotonic() > deadline:
                    raise RuntimeError("the model did not load within a minute")
                await asyncio.sleep(0.05)
            if not any(view.alternatives):
                notes = [n.message for n in app._notifications]
                raise RuntimeError(f"generation produced nothing: {notes}")
        for i in range(presses):
            if busy and not view.generating:
                view.action_regenerate()
                regenerated += 1
                await asyncio.sleep(0.02)
            key = tevents.Key("enter", None) if i % 40 == 39 else tevents.Key("a", "a")
            key.set_sender(app)
            seen = len(frames)
            start = time.perf_counter()
            app._driver.send_message(key)
            while len(frames) == seen or frames[-1] < start:
                await asyncio.sleep(0.0005)
            samples.append(frames[-1] - start)
            if i % 50 == 0:
                print(f"  {i} keys, generating={view.generating}", file=sys.stderr)
            await asyncio.sleep(0.02)  # a fast typist: ~50 keys/s at most
        if busy:
            print(f"regenerated {regenerated} times to stay busy", file=sys.stderr)
        view.action_stop()
    return samples


def gutter_costs() -> tuple[float, float]:
    from smartlap.tui.widgets.gutter import LineFacts

    lines = [f"in de kroeg op de hoek brandt nog licht nummer {i}" for i in range(200)]
    facts = LineFacts()
    start = time.perf_counter()
    facts.count_lines(lines)
    facts.letter_lines(lines)
    full = time.perf_counter() - start
    lines[100] += " en de maan"
    start = time.perf_counter()
    for _ in range(20):
        facts.count_lines(lines)
    keystroke = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    facts.letter_lines(lines)
    letters = time.perf_counter() - start
    return full, keystroke, letters


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="smartlap-bench-"))
    os.environ["SMARTLAP_HOME"] = str(home)
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tiny local models only; never the network
    from helpers import SAMPLE_LYRICS, build_tiny_model

    from smartlap.store.datasets import import_dataset
    from smartlap.store.models import register_model

    model = register_model(build_tiny_model(home / "tiny-src", "gpt2"), name="tiny").name
    csv = home / "liedjes.csv"
    csv.write_text("title,artist,lyrics\n" + "\n".join(
        f'"Lied {i}","Z","{t}"' for i, t in enumerate(SAMPLE_LYRICS)) + "\n")
    import_dataset(csv, name="liedjes")

    print("first paint…", file=sys.stderr)
    studio = first_paint(PAINT.format(imports="from smartlap.tui.app import make_app",
                                      factory="make_app()"))
    bare = first_paint(PAINT.format(imports=BARE, factory="Bare()"))
    print("idle keys…", file=sys.stderr)
    idle = asyncio.run(key_latency(False))
    print("busy keys…", file=sys.stderr)
    print(f"load average before the busy run: {os.getloadavg()}", file=sys.stderr)
    # Started the way the studio's Train screen starts a run: detached, at the studio's
    # background priority (store.runs.BACKGROUND_NICENESS).
    from smartlap.store.runs import BACKGROUND_NICENESS, get_run, start_run_process

    run_id = start_run_process(["--model", model, "--dataset", "liedjes", "--epochs", "50",
                                "--json"])
    try:
        time.sleep(8)  # let the training process get past its imports
        busy = asyncio.run(key_latency(True))
    finally:
        run = get_run(run_id)
        if run.pid:
            os.kill(run.pid, signal.SIGKILL)
    from smartlap.events import read_events

    kinds = [e.kind for e in read_events(run.events_path)]
    print(f"training during the busy run: {run_id} wrote {kinds.count('step')} step and "
          f"{kinds.count('epoch_end')} epoch_end events (pid {run.pid}, niceness "
          f"+{BACKGROUND_NICENESS})", file=sys.stderr)
    full, keystroke, letters = gutter_costs()
    print("| measure | studio | baseline | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| first paint, process start to first frame (median of 5) | {studio:.2f} s | "
          f"{bare:.2f} s (bare Textual app) | {studio / bare:.2f}x |")
    print(f"| key -> repaint p95, generating (4 alternatives) + training | "
          f"{p95(busy) * 1e3:.1f} ms | {p95(idle) * 1e3:.1f} ms (idle studio) | "
          f"{p95(busy) / p95(idle):.2f}x |")
    print(f"| key -> repaint median, same | {statistics.median(busy) * 1e3:.1f} ms | "
          f"{statistics.median(idle) * 1e3:.1f} ms | "
          f"{statistics.median(busy) / statistics.median(idle):.2f}x |")
    print(f"| gutter per keystroke, 200 lines (cached counts) | {keystroke * 1e3:.2f} ms | "
          f"{full * 1e3:.1f} ms (first full count + letters) | {keystroke / full:.3f}x |")
    print(f"| rhyme letters, 200 lines (debounced, after typing pauses) | "
          f"{letters * 1e3:.1f} ms | | |")


if __name__ == "__main__":
    main()
