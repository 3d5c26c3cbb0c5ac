"""Launch cost of ./scripts/studio: the bootstrap the first time, and every time after.

Run: python3 benchmarks/launch.py [VENV]   (a fresh venv in a temporary folder unless VENV
is given; the first install takes minutes, the rest seconds; prints a Markdown table)

``scripts/studio`` runs ``scripts/bootstrap`` and then the studio. Measured here:
- the bootstrap's wall time on a fresh venv (venv, torch, every dependency, smartlap);
- a second bootstrap with the stamp (nothing changed: no pip at all);
- a second bootstrap with ``SMARTLAP_REINSTALL=1``, which is what every launch cost before
  the stamp (``pip install -e .`` with everything already there);
- the studio's first paint from that venv's python (``benchmarks/studio.py``'s measure),
  so bootstrap + paint is the time from ``./scripts/studio`` to the first frame.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bootstrap(venv: Path, **env: str) -> float:
    """Seconds that ``scripts/bootstrap`` takes with this venv."""
    start = time.perf_counter()
    subprocess.run([str(ROOT / "scripts" / "bootstrap")], check=True,
                   env={**os.environ, "SMARTLAP_VENV": str(venv), **env})
    return time.perf_counter() - start


def first_paint(venv: Path, runs: int = 3) -> float:
    """Median seconds from starting the venv's python to the studio's first frame."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from studio import PAINT

    code = PAINT.format(imports="from smartlap.tui.app import make_app",
                        factory="make_app()")
    times = []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(runs):
            start = time.time()
            out = subprocess.run([str(venv / "bin" / "python"), "-c", code], check=True,
                                 capture_output=True, text=True,
                                 env={**os.environ, "SMARTLAP_HOME": home})
            times.append(float(out.stdout.strip().splitlines()[-1]) - start)
    return statistics.median(times)


def main() -> None:
    given = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as scratch:
        venv = given or Path(scratch) / "venv"
        fresh = not (venv / "bin" / "python").exists()
        first = bootstrap(venv)
        stamped = [bootstrap(venv) for _ in range(3)]
        reinstall = [bootstrap(venv, SMARTLAP_REINSTALL="1") for _ in range(2)]
        after = bootstrap(venv)  # the reinstall wrote a new stamp: quick again
        paint = first_paint(venv)
    print("| launch | bootstrap | + first paint |")
    print("|---|---:|---:|")
    label = "first (fresh venv)" if fresh else "first (existing venv, no stamp)"
    print(f"| {label} | {first:.2f} s | {first + paint:.2f} s |")
    print(f"| second, nothing changed (stamp; median of 3) | {statistics.median(stamped):.3f} s"
          f" | {statistics.median(stamped) + paint:.2f} s |")
    print(f"| second, reinstalled as before the stamp (median of 2) | "
          f"{statistics.median(reinstall):.2f} s | {statistics.median(reinstall) + paint:.2f} s |")
    print(f"| after a reinstall (stamp again) | {after:.3f} s | {after + paint:.2f} s |")
    print(f"\nfirst paint from the venv's python (median of 3): {paint:.2f} s")


if __name__ == "__main__":
    main()
