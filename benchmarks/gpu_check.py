"""The prepared GPU check: the seeds' workload on a real CUDA machine, in one command.

    scripts/gpu-check [--out DIR] [--dry-run] [--minutes N]

Runs from the source tree (``PYTHONPATH=.``) with the machine's own torch, installs
nothing and never imports textual (``import_guard`` refuses textual, platformdirs and
pyphen, which the lent machine lacks, so the dry run here fails where the GPU run would).
Steps, each timed and guarded (``gpu_steps``), in order of importance:

1. ``device``: what torch says about the GPU, and the placement smartlap picks itself.
2. ``train``: the lean layers on this device (sdpa hand-over, autocast), then the seeds'
   workload (the demo corpus repeated to 396 songs, full fine-tune, 12 GB-card defaults,
   bf16 where supported else fp16 with the scaler) on GPT-2-small- and GPT-Neo-125M-shaped
   models through smartlap's engine and through HF ``Trainer`` with per-song padding, and
   GPT-2-medium in ``embeddings`` mode if time allows (last).
3. ``generate``: ``stream_generate`` (smartlap's fast decoder on GPU weights) against
   ``model.generate`` and ``pipeline`` per precision; stop within one token; no special or
   surplus token ever sampled.
4. ``resume``: a run killed (SIGKILL) after its first epoch, resumed; losses match.

``--dry-run`` runs all of it on the CPU with tiny shapes. Results go to ``--out`` (default
``$OUT``, else ``./gpu-check-out``): ``gpu-check.json`` and ``gpu-check.md``, rewritten
after every step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import import_guard

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MINUTES = 7.0  # the full run must end inside 8 minutes; this leaves one spare
DRY_MINUTES = 3.0
SEEDS_SONGS = 396
DRY_SONGS = 24
DATASET = "gpu-check"


@dataclass
class Plan:
    """What this run trains and samples, and how big: the full GPU run or the dry run."""

    dry: bool
    device: str
    minutes: float
    bf16: bool
    songs: int = SEEDS_SONGS
    epochs: int = 3
    trainer_epochs: int = 2
    batch: int | None = None  # None: the engine's 12 GB-card default for the model size
    block: int | None = None
    train_precision: str = "auto"
    resume_precision: str = "fp16"  # exercises the gradient scaler's save and restore
    resume_songs: int = 120
    resume_epochs: int = 3
    sample_tokens: int = 48
    gen_tokens: int = 128
    gen_repeats: int = 3
    lean_block: int = 512
    shapes: dict[str, Any] = field(default_factory=dict)

    @property
    def gen_precisions(self) -> list[str]:
        if self.dry:
            return ["bf16"]
        return ["bf16", "fp16"] if self.bf16 else ["fp16"]

    @property
    def scale(self) -> float:
        """This run's expected step times as a share of the full GPU run's.

        A shorter ``--minutes`` trains fewer epochs but makes no step faster, so on the GPU
        the full run's times stand (a little high for two epochs).
        """
        return 0.15 if self.dry else 1.0


def make_plan(dry: bool, minutes: float | None, cuda: bool, bf16: bool) -> Plan:
    from benchmarks import gpu_shapes as s

    if dry:
        return Plan(dry=True, device="cpu", minutes=minutes or DRY_MINUTES, bf16=False,
                    songs=DRY_SONGS, epochs=2, trainer_epochs=1, batch=4, block=64,
                    train_precision="bf16", resume_precision="fp32", resume_songs=16,
                    sample_tokens=4, gen_tokens=12, gen_repeats=1, lean_block=48,
                    shapes={"gpt2": s.TINY_GPT2, "neo": s.TINY_GPT_NEO,
                            "medium": s.TINY_GPT2_MEDIUM})
    minutes = minutes or DEFAULT_MINUTES
    # A shorter budget trains fewer epochs; two is the least that shows a warm epoch.
    epochs = 3 if minutes >= 6 else 2
    return Plan(dry=False, device="cuda", minutes=minutes, bf16=bf16, epochs=epochs,
                resume_precision="fp16" if cuda else "fp32",
                shapes={"gpt2": s.GPT2_SMALL, "neo": s.GPT_NEO_125M, "medium": s.GPT2_MEDIUM})


class Context:
    """What the steps share: the plan, a throw-away data home, the built model folders."""

    def __init__(self, plan: Plan, work: Path) -> None:
        self.plan = plan
        self.work = work
        self._folders: dict[str, Path] = {}
        self._texts: tuple[list[str], list[str]] | None = None
        self._tokenizer: Any = None

    @property
    def dataset(self) -> str:
        if self._texts is None:
            from smartlap.lm.train.data import load_splits
            from smartlap.store.datasets import repeat_dataset

            repeat_dataset("demo", DATASET, self.plan.songs)
            self._texts = load_splits(DATASET)
        return DATASET

    @property
    def train_texts(self) -> list[str]:
        assert self.dataset and self._texts is not None
        return self._texts[0]

    def model(self, role: str) -> Path:
        """The folder of the plan's model for ``role`` (gpt2, neo, medium), built once."""
        if role not in self._folders:
            from benchmarks.gpu_shapes import build, train_tokenizer
            from smartlap.lm.train.data import load_song_texts

            if self._tokenizer is None:  # the demo's own songs, each once
                self._tokenizer = train_tokenizer(load_song_texts("demo", "train"),
                                                  list(self.plan.shapes.values()))
            shape = self.plan.shapes[role]
            folder = self.work / "models" / shape.label
            folder.mkdir(parents=True, exist_ok=True)
            self._folders[role] = build(shape, folder, self._tokenizer)
        return self._folders[role]


def steps(plan: Plan) -> list[Any]:
    from benchmarks import gpu_device, gpu_generate, gpu_train
    from benchmarks.gpu_steps import Step

    gpt2, neo, medium = (plan.shapes[k].label for k in ("gpt2", "neo", "medium"))
    listed = [
        Step("device", "", gpu_device.device_facts, 3),
        Step("train", "lean-attention", gpu_device.lean_attention, 15),
        Step("train", gpt2, lambda c: gpu_train.smartlap_run(c, "gpt2"), 45),
        Step("train", f"{gpt2}-trainer", lambda c: gpu_train.trainer_run(c, "gpt2"), 25),
        Step("train", neo, lambda c: gpu_train.smartlap_run(c, "neo"), 50),
        Step("train", f"{neo}-trainer", lambda c: gpu_train.trainer_run(c, "neo"), 30),
    ]
    for precision in plan.gen_precisions:
        listed.append(Step("generate", precision,
                           lambda c, p=precision: gpu_generate.speed(c, p), 25))
    listed += [
        Step("generate", "stop-and-hygiene", gpu_generate.stop_and_hygiene, 10),
        Step("resume", "", gpu_train.resume, 60),
        Step("train", f"{medium}-embeddings",
             lambda c: gpu_train.smartlap_run(c, "medium", mode="embeddings"), 90,
             optional=True),
    ]
    return listed


def default_out() -> Path:
    return Path(os.environ.get("OUT") or "gpu-check-out")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/gpu-check", description="Run the seeds' workload on this machine's GPU "
        "and write the figures (JSON and a Markdown table) for docs/benchmarks.md.")
    parser.add_argument("--out", type=Path, help="where the results go (default: $OUT, "
                        "else ./gpu-check-out)")
    parser.add_argument("--dry-run", action="store_true",
                        help="the same steps on the CPU with tiny models (a minute or two)")
    parser.add_argument("--minutes", type=float, help=f"time budget (default "
                        f"{DEFAULT_MINUTES:g}; dry run {DRY_MINUTES:g}); less trains fewer epochs "
                        "and skips what no longer fits")
    parser.add_argument("--child-train", help=argparse.SUPPRESS)  # the resume step's run
    return parser.parse_args(argv)


def child_train(config_json: str) -> int:
    """The run the resume step kills: smartlap's engine in a process of its own."""
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training

    run_training(TrainConfig.from_dict(json.loads(config_json)))
    return 0


def prepare_environment(home: Path) -> None:
    """Offline, a throw-away data home, quiet libraries; set before smartlap reads them."""
    os.environ.update(SMARTLAP_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                      TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    os.environ.pop("SMARTLAP_FAST_DECODE", None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import_guard.install()
    if args.child_train:
        return child_train(args.child_train)
    if args.minutes is not None and args.minutes <= 0:
        print("gpu-check: --minutes must be above 0 (e.g. --minutes 7).", file=sys.stderr)
        return 2
    import torch

    cuda = torch.cuda.is_available()
    if not args.dry_run and not cuda:
        print("gpu-check: no CUDA GPU here (torch.cuda.is_available() is False).\n"
              "hint: run it on the lent GPU machine, or prove it here with --dry-run.",
              file=sys.stderr)
        return 2
    out = (args.out or default_out()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="smartlap-gpu-check-"))
    prepare_environment(work / "home")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the report says what happened; no library chatter
    hf_logging.disable_progress_bar()
    plan = make_plan(args.dry_run, args.minutes, cuda, cuda and torch.cuda.is_bf16_supported())
    from benchmarks import gpu_report
    from benchmarks.gpu_steps import run_all

    report = gpu_report.new_report(plan, " ".join(["scripts/gpu-check", *(argv or sys.argv[1:])]))
    started = time.monotonic()

    def on_record(step: Any, record: dict[str, Any]) -> None:
        gpu_report.put(report, step.section, step.name, record)
        report["meta"]["seconds"] = round(time.monotonic() - started, 1)
        gpu_report.write(report, out)
        note = record.get("error") or record.get("reason") or ""
        print(f"gpu-check: {step.key}: {record['status']} in {record['seconds']:.1f} s"
              + (f" ({note.splitlines()[0][:200]})" if note else ""), flush=True)

    try:
        run_all(steps(plan), Context(plan, work), plan.minutes * 60, plan.scale, on_record)
    finally:
        report["meta"]["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        report["meta"]["seconds"] = round(time.monotonic() - started, 1)
        gpu_report.write(report, out)
        shutil.rmtree(work, ignore_errors=True)
    print(gpu_report.markdown(report))
    print(f"gpu-check: wrote {out / gpu_report.JSON_NAME} and {out / gpu_report.MARKDOWN_NAME}")
    return 1 if gpu_report.failed(report) else 0


if __name__ == "__main__":
    sys.exit(main())
