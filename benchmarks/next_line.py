"""Next-line candidates: how many of the top 3 rhyme perfectly and fit the partner's syllables.

    flock /tmp/bench.lock env PYTHONPATH=. .venv/bin/python benchmarks/next_line.py
    ... benchmarks/next_line.py --home /tmp/nl-home      # reuse the fine-tuned model

A fixed set of 20 partner lines from the demo corpus: from every fifth song, the first line
of its first couplet that opens a rhyming pair (AABB: line 1 or 3, the next line rhymes
with it in the song). The context is the couplet marker and the stanza up to the partner;
the next line should rhyme with the partner and have its syllable count.

Two call paths, as a person meets them:

- studio: the Write screen's Ctrl+L (``GenerationBackend.next_lines``: the smartlap style,
  no explicit targets; the style's AABB scheme finds the partner);
- cli: ``smartlap generate --rhyme-with PARTNER --syllables N`` (16 candidates, no style).

A top-3 candidate counts as a hit when it rhymes perfectly with the partner
(``smartlap.craft.rhymes``) and its syllables are within 1 of the partner's. Models: the
bundled smartlap-mini, and smartlap-mini fine-tuned for two more epochs on the demo songs
(CPU, under a minute; kept in ``--home`` so a later run compares the same model).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

FINETUNED = "bench-mini-ft"
TOP = 3


def partners(count: int = 20, step: int = 5) -> list[tuple[str, str]]:
    """(context, partner line) pairs, fixed by the demo corpus and the rule above."""
    from smartlap.craft import rhymes
    from smartlap.craft.scheme import is_section_marker
    from smartlap.store.datasets import iter_songs

    found: list[tuple[str, str]] = []
    songs = list(iter_songs("demo"))
    for song in songs[::step]:
        lines = song.lyrics.splitlines()
        marker = next((i for i, line in enumerate(lines) if is_section_marker(line)), -1)
        stanza: list[str] = []
        for line in lines[marker + 1:]:
            if not line.strip() or is_section_marker(line):
                break
            stanza.append(line.strip())
        for index in (0, 2):
            if index + 1 < len(stanza) and rhymes(stanza[index], stanza[index + 1]):
                head = lines[marker] if marker >= 0 else "[Couplet 1]"
                found.append(("\n".join([head, *stanza[:index + 1]]) + "\n", stanza[index]))
                break
        if len(found) == count:
            break
    return found


def finetune(home: Path) -> str:
    """smartlap-mini, two more epochs on the demo songs (skipped when already in ``home``)."""
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training
    from smartlap.store.models import get_model

    try:
        get_model(FINETUNED)
        print(f"fine-tuned model: reusing {FINETUNED} in {home}", file=sys.stderr)
        return FINETUNED
    except Exception:
        pass
    started = time.perf_counter()
    run_training(TrainConfig(model="smartlap-mini", dataset="demo", name=FINETUNED, epochs=2,
                             device="cpu", lr=5e-4, seed=1))
    print(f"fine-tuned {FINETUNED} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return FINETUNED


def _hit(text: str, partner: str) -> tuple[bool, bool]:
    from smartlap.craft import rhymes, syllables

    return rhymes(text, partner), abs(syllables(text) - syllables(partner)) <= 1


def measure(model: str, pairs: list[tuple[str, str]], path: str, seed: int,
            verbose: bool) -> dict:
    from smartlap.craft import syllables
    from smartlap.lm.constrained import next_line_candidates
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.session import GenerationSession
    from smartlap.tui.generation_backend import GenerationBackend

    session = GenerationSession.open(model, device="cpu")  # loaded as both paths load it
    loaded = session.loaded
    backend = GenerationBackend()
    rhymed = fitted = both = shown = 0
    seconds: list[float] = []
    offered: list[int] = []
    for number, (context, partner) in enumerate(pairs):
        started = time.perf_counter()
        if path == "studio":
            found = backend.next_lines(session, context, "smartlap")
        else:
            found = next_line_candidates(
                loaded, context, rhyme_with=partner, syllables=syllables(partner),
                candidates=16, settings=GenerationSettings(seed=seed + number))
        seconds.append(time.perf_counter() - started)
        offered.append(len(found))
        for candidate in found[:TOP]:
            rhyme, fit = _hit(candidate.text, partner)
            rhymed += rhyme
            fitted += fit
            both += rhyme and fit
            shown += 1
        if verbose:
            print(f"  {partner!r} ({syllables(partner)})", file=sys.stderr)
            for candidate in found[:TOP]:
                rhyme, fit = _hit(candidate.text, partner)
                print(f"    {'R' if rhyme else '.'}{'S' if fit else '.'} "
                      f"{candidate.text!r} ({candidate.syllables})", file=sys.stderr)
    slots = TOP * len(pairs)
    return {"model": model, "path": path, "both": both / slots, "rhyme": rhymed / slots,
            "fit": fitted / slots, "shown": shown, "slots": slots,
            "seconds": statistics.median(seconds), "offered": statistics.median(offered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", help="data home to keep the fine-tuned model in "
                        "(default: a temporary folder)")
    parser.add_argument("--paths", default="studio,cli", help="studio, cli or both")
    parser.add_argument("--models", default=f"smartlap-mini,{FINETUNED}")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--verbose", "-v", action="store_true", help="print the top 3")
    args = parser.parse_args()
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="smartlap-nl-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["SMARTLAP_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pairs = partners()
    models = args.models.split(",")
    if FINETUNED in models:
        finetune(home)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {len(pairs)} partner lines, top {TOP}")
    print("| model | path | rhyme + ±1 syllable | rhyme | ±1 syllable | offered | s per "
          "request |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for model in models:
        for path in args.paths.split(","):
            row = measure(model, pairs, path, args.seed, args.verbose)
            print(f"| {row['model']} | {row['path']} | {row['both']:.0%} | {row['rhyme']:.0%} | "
                  f"{row['fit']:.0%} | {row['offered']:g} | {row['seconds']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
