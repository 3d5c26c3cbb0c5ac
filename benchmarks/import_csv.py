"""Benchmark: import a generated lyrics CSV; seconds and peak RSS against a naive baseline.

    .venv/bin/python benchmarks/import_csv.py [--songs 20000 44000] [--one-line-mb 50]

Each measurement runs in a fresh child process with its own SMARTLAP_HOME; peak RSS is
the child's VmHWM (Linux; ru_maxrss would carry the parent's peak over across exec).
The baseline does what a first version would: read every row into memory, normalise,
de-duplicate with a dict of full texts, then write the dataset. The streaming importer
must keep the same songs with memory far below the file size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from pathlib import Path

_VOCABULARY = (
    "liefde moeder haven kroeg jordaan kermis afscheid tranen glas nacht zee schip hart pijn "
    "straat licht regen wind deur raam bloemen zon maan sterren vader kind café geluk verdriet "
    "accordeon orgel gracht brug lantaarn trein perron koffer brief ring kerk klok zomer "
    "winter herfst lente schaduw droom spiegel foto wals tango lied stem zanger dans markt "
    "visser netten meeuw duinen dijk molen polder boot kade zeeman matroos anker storm ik jij "
    "wij zij mijn jouw ons de het een en maar want nooit altijd weer nog hier daar toen nu "
    "kom ga blijf zing huil lach wacht droom vergeet mis hou"
)
WORDS = _VOCABULARY.split()


def write_csv(path: Path, songs: int, seed: int = 7) -> None:
    """Songs of 5 stanzas x 5 lines (~1.3 KB each), 1% duplicates and 0.5% empty rows."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "artist", "lyrics"])
        previous: list[str] = []
        for number in range(songs):
            if previous and rng.random() < 0.01:
                lyrics = rng.choice(previous)
            elif rng.random() < 0.005:
                lyrics = ""
            else:
                stanzas = ["\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 10)))
                                     for _ in range(5)) for _ in range(5)]
                lyrics = "\n\n".join(["[Couplet 1]\n" + stanzas[0], "Refrein:\n" + stanzas[1],
                                      *stanzas[2:]])
                if len(previous) < 500:
                    previous.append(lyrics)
            writer.writerow([f"Lied {number}", f"Zanger {number % 300}", lyrics])


STREAMING = """
import sys
from smartlap.store.datasets import import_dataset
info = import_dataset(sys.argv[1], name="bench")
print(info.songs)
"""

NAIVE = """
import csv, json, sys
from smartlap.paths import get_paths
from smartlap.store.importers.normalise import normalise_lyrics
from smartlap.store.importers.quality import reject_reason
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
songs = {}
for row in rows:
    lyrics = normalise_lyrics(row["lyrics"])
    key = " ".join(lyrics.lower().split())
    if reject_reason(lyrics) is None and key not in songs:
        songs[key] = {"title": row["title"], "artist": row["artist"], "lyrics": lyrics}
out = get_paths().datasets / "naive"
out.mkdir(parents=True)
(out / "songs.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\\n"
                                         for s in songs.values()), encoding="utf-8")
print(len(songs))
"""

FLOOR = "import smartlap.store.datasets; print(0)"

ONE_LINE = """
import sys
from smartlap.errors import InputError
from smartlap.store.datasets import import_dataset
try:
    print(import_dataset(sys.argv[1], name="bench").songs)
except InputError as error:  # expected: one line of N MB is not lyrics
    print(0)
    print("MESSAGE", error.message, file=sys.stderr)
"""

def measure(code: str, csv_path: Path) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter: wall and CPU seconds (the machine may be shared,
    so CPU seconds are the steadier figure), peak RSS in MB, and the songs it kept."""
    wrapper = (
        "import resource, sys, time\n"
        "start = time.perf_counter()\n"
        f"exec(compile({code!r}, 'bench', 'exec'))\n"
        "seconds = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024\n"
        "print('RESULT', seconds, peak, usage.ru_utime + usage.ru_stime)\n"
    )
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SMARTLAP_HOME": home}
        result = subprocess.run([sys.executable, "-c", wrapper, str(csv_path)], env=env,
                                capture_output=True, text=True, check=True)
    lines = result.stdout.split("\n")
    songs = int(lines[0])
    _, seconds, peak, cpu = next(line for line in lines if line.startswith("RESULT")).split()
    return {"songs": songs, "seconds": round(float(seconds), 2),
            "cpu_seconds": round(float(cpu), 2), "peak_rss_mb": round(float(peak), 1)}


def run(songs: int, workdir: Path) -> dict[str, object]:
    path = workdir / f"lyrics_{songs}.csv"
    write_csv(path, songs)
    size_mb = path.stat().st_size / 1024 / 1024
    floor = measure(FLOOR, path)
    streaming = measure(STREAMING, path)
    naive = measure(NAIVE, path)
    return {
        "songs_in_file": songs, "file_mb": round(size_mb, 1),
        "python_floor_rss_mb": round(floor["peak_rss_mb"], 1),
        "streaming": streaming, "naive": naive,
        "streaming_rss_over_file": round(streaming["peak_rss_mb"] / size_mb, 2),
        "streaming_rss_above_floor_over_file": round(
            (streaming["peak_rss_mb"] - floor["peak_rss_mb"]) / size_mb, 2),
        "naive_rss_over_file": round(naive["peak_rss_mb"] / size_mb, 2),
        "rss_ratio_naive_over_streaming": round(
            naive["peak_rss_mb"] / streaming["peak_rss_mb"], 2),
    }


def run_one_line(megabytes: int, workdir: Path) -> dict[str, object]:
    """A file that is one line of ``megabytes`` MB: the importer must read it in bounded
    pieces and say what it is, not hold it (issue 20: it peaked near 1 GB)."""
    path = workdir / "one_line.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(megabytes):
            handle.write("la " * (1024 * 1024 // 3) + "l")
    floor = measure(FLOOR, path)
    streaming = measure(ONE_LINE, path)
    return {"one_line_mb": megabytes, "python_floor_rss_mb": floor["peak_rss_mb"],
            "streaming": streaming,
            "rss_above_floor_mb": round(streaming["peak_rss_mb"] - floor["peak_rss_mb"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, nargs="+", default=[20_000, 44_000],
                        help="sizes to generate (default: 20000 songs, and 44000: about 50 MB)")
    parser.add_argument("--one-line-mb", type=int, default=0, metavar="MB",
                        help="also import a file that is one line of MB megabytes")
    args = parser.parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as workdir:
        for songs in args.songs:
            print(json.dumps(run(songs, Path(workdir)), indent=2))
        if args.one_line_mb:
            print(json.dumps(run_one_line(args.one_line_mb, Path(workdir)), indent=2))


if __name__ == "__main__":
    main()
