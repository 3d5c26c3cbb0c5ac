"""Helpers shared by the training, runs and report tests: a small dataset and CLI runs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import SAMPLE_LYRICS

REPO = Path(__file__).resolve().parent.parent
TRAIN_SONGS = 40


def _song(i: int) -> str:
    verse = SAMPLE_LYRICS[i % len(SAMPLE_LYRICS)]
    other = SAMPLE_LYRICS[(i * 7 + 3) % len(SAMPLE_LYRICS)]
    return f"{verse}\n{other}\nen dat was lied nummer {i}, la la la"


def training_dataset(tmp_path: Path) -> str:
    """The demo corpus when this copy ships it; otherwise a small imported CSV."""
    from smartlap.store import datasets

    if datasets.demo_source() is not None:
        return "demo"
    source = tmp_path / "liedjes.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "artist", "lyrics"])
        for i in range(60):
            writer.writerow([f"Lied {i}", "Test", _song(i)])
    return datasets.import_dataset(source, name="liedjes").name


def smartlap_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SMARTLAP_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return env


def run_cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartlap", *args], capture_output=True,
                          text=True, env=smartlap_env(home), timeout=timeout, cwd=REPO)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def epoch_losses(event_dicts: list[dict]) -> dict[int, tuple[float, float]]:
    """epoch -> (train loss, val loss), the latest report of each epoch winning."""
    found = {}
    for event in event_dicts:
        if event.get("event") == "epoch_end":
            found[event["epoch"]] = (event["train_loss"], event["val_loss"])
    return found
