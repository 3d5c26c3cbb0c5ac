"""Training throughput: smartlap's engine vs HF Trainer (per-song padding) vs run_clm grouping.

Same GPT-2 architecture (random init), same demo-corpus songs (``load_song_texts``), same
effective batch, same block size, same torch thread count, same CPU. Each contender runs in
its own subprocess so its peak RSS is its own.

Only the training-step window is compared: from the first batch to the last optimizer step.
smartlap's epoch also validates, samples and saves state afterwards; those are outside the
window (its epoch ``seconds`` covers the train loop only), and the window's peak RSS
(``VmHWM``) is read at its last step event, before any of them. The whole-process peak is
printed too.

Every contender sees the same tokens: each song followed by EOS. smartlap and run_clm pack
the stream into BLOCK-token blocks; the Trainer baseline keeps one song per row, cuts songs
longer than BLOCK into BLOCK-token rows (nothing is dropped, like packing), and
``DataCollatorForLanguageModeling`` pads each batch to its longest row — the waste packing
removes. Real tokens/s counts non-pad tokens that went through a training step.

    .venv/bin/python benchmarks/training.py [--songs 80] [--threads 1] [--large] [--repeats 3]

``--large`` adds one epoch over ``--large-songs`` songs at GPT-2 124M architecture
(n_embd 768, 12 layers). The tokenizer is trained on the benchmark's own songs with an
8,000-token cap: 80 songs give 2,761 tokens, 12 songs 1,083, so that model has ~86M
parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 256
BATCH = 8
LR = 5e-4
SMALL = {"n_embd": 256, "n_layer": 4, "n_head": 4}
LARGE = {"n_embd": 768, "n_layer": 12, "n_head": 12}
CONTENDERS = ("trainer-padding", "run_clm", "smartlap")


def vm_hwm_mb() -> float:
    """This process's peak resident set so far (Linux VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def songs(limit: int) -> list[str]:
    from smartlap.lm.train.data import load_song_texts

    return load_song_texts("demo", "train", limit)


def build_model(directory: Path, size: dict, texts: list[str]) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from smartlap.lm.tokenizer import train_bpe_tokenizer

    tokenizer = train_bpe_tokenizer(texts, vocab_size=8000)
    eos = tokenizer.eos_token_id
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=BLOCK,
                                       bos_token_id=eos, eos_token_id=eos, **size))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def run_smartlap(model_dir: str, limit: int) -> dict:
    from smartlap import events
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training

    window_peak: list[float] = []

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.Step) and event.step == event.total_steps:
            window_peak.append(vm_hwm_mb())  # last step of the epoch: end of the window

    name = f"bench-{Path(model_dir).name}-{os.getpid()}"  # one per repeat
    result = run_training(TrainConfig(model=model_dir, dataset="demo", name=name, epochs=1,
                                      batch_size=BATCH, block_size=BLOCK, device="cpu",
                                      max_songs=limit, sample_tokens=1, lr=LR, patience=None),
                          on_event=on_event)
    entry = result.history[0]
    return {"tokens_per_s": entry["tokens_per_s"], "seconds": entry["seconds"],
            "peak_rss_mb": window_peak[-1] if window_peak else None}


def trainer_rows(tokenizer, texts: list[str], grouping: bool,
                 block: int = BLOCK) -> list[list[int]]:
    eos = tokenizer.eos_token_id
    encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
    if grouping:  # run_clm: concatenate everything, cut into block-token chunks
        stream = [t for ids in encoded for t in [*ids, eos]]
        return [stream[i:i + block] for i in range(0, len(stream) - block + 1, block)]
    rows = []  # one song per row; a song longer than a block continues in the next row
    for ids in encoded:
        song = [*ids, eos]
        rows += [song[i:i + block] for i in range(0, len(song), block) if len(song[i:]) >= 2]
    return rows


def run_trainer(model_dir: str, limit: int, grouping: bool, *, texts: list[str] | None = None,
                batch: int = BATCH, block: int = BLOCK, lr: float = LR, epochs: int = 1,
                precision: str = "fp32", device: str = "cpu") -> dict:
    """HF ``Trainer`` on the same songs; on a GPU also its per-epoch times and memory peaks.

    ``texts`` default to the first ``limit`` demo songs. ``precision`` is smartlap's name
    (fp32, bf16, fp16: the Trainer's own mixed precision).
    """
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        default_data_collator,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = trainer_rows(tokenizer, texts if texts is not None else songs(limit), grouping, block)
    if grouping:
        data = [{"input_ids": r, "labels": list(r)} for r in rows]
        inner = default_data_collator
    else:
        data = [{"input_ids": r} for r in rows]
        inner = DataCollatorForLanguageModeling(tokenizer, mlm=False)  # pads to the longest
    batch_tokens: list[int] = []
    batch_cells: list[int] = []

    def collate(features):  # lists -> tensors (the datasets library is not installed)
        batch = {k: torch.as_tensor(v) for k, v in inner(features).items()}
        mask = batch.get("attention_mask")
        batch_cells.append(batch["input_ids"].numel())
        batch_tokens.append(int(mask.sum()) if mask is not None else batch_cells[-1])
        return batch

    cuda = device.startswith("cuda")
    window: dict[str, float] = {}
    epoch_seconds: list[float] = []

    def now() -> float:
        if cuda:  # queued kernels belong to the window they were launched in
            torch.cuda.synchronize()
        return time.perf_counter()

    class Window(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            window["start"] = now()

        def on_epoch_begin(self, args, state, control, **kwargs):
            window["epoch"] = now()

        def on_epoch_end(self, args, state, control, **kwargs):
            epoch_seconds.append(round(now() - window["epoch"], 3))

        def on_train_end(self, args, state, control, **kwargs):
            window["seconds"] = now() - window["start"]
            window["peak"] = vm_hwm_mb()
            window["steps"] = state.global_step
            if cuda:
                window["gpu_peak"] = torch.cuda.max_memory_allocated() / 2**20
                window["gpu_peak_reserved"] = torch.cuda.max_memory_reserved() / 2**20

    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=batch,
                             num_train_epochs=epochs, learning_rate=lr, weight_decay=0.01,
                             max_grad_norm=1.0, report_to=[], save_strategy="no",
                             eval_strategy="no", logging_strategy="no", use_cpu=not cuda,
                             bf16=precision == "bf16", fp16=precision == "fp16",
                             dataloader_num_workers=0, disable_tqdm=True, seed=42)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate,
                      callbacks=[Window()])
    output = trainer.train()
    steps = int(window["steps"])
    real = sum(batch_tokens[:steps])
    per_epoch = sum(len(r) for r in rows)  # every epoch trains on every row once
    result = {"tokens_per_s": round(real / window["seconds"], 1),
              "seconds": round(window["seconds"], 2), "peak_rss_mb": window["peak"],
              "real_tokens": real, "pad_share": round(1 - real / sum(batch_cells[:steps]), 3),
              "epoch_seconds": epoch_seconds, "train_loss": round(output.training_loss, 5),
              "last_epoch_tokens_per_s": round(per_epoch / epoch_seconds[-1], 1)
              if epoch_seconds else None}
    if cuda:
        result.update(gpu_peak_mb=round(window["gpu_peak"], 1),
                      gpu_peak_reserved_mb=round(window["gpu_peak_reserved"], 1))
    return result


def one(name: str, model_dir: str, limit: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    if name == "smartlap":
        result = run_smartlap(model_dir, limit)
    else:
        result = run_trainer(model_dir, limit, name == "run_clm")
    result["process_peak_rss_mb"] = vm_hwm_mb()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=80)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--large-songs", type=int, default=24)
    parser.add_argument("--only", choices=CONTENDERS, action="append")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per contender (interleaved); ratios of the medians")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.model_dir, args.songs, args.threads)
        return
    home = tempfile.mkdtemp()
    threads = str(args.threads)
    env = {**os.environ, "SMARTLAP_HOME": home, "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    os.environ.update(env)
    sizes = [("small", SMALL, args.songs)]
    if args.large:
        sizes.append(("124M", LARGE, args.large_songs))
    for label, size, limit in sizes:
        model_dir = Path(tempfile.mkdtemp()) / label
        build_model(model_dir, size, songs(limit))
        print(f"## GPT-2 {label} ({size}), {limit} demo songs, batch {BATCH} x {BLOCK}, "
              f"{threads} thread(s); load average {os.getloadavg()}", flush=True)
        runs: dict[str, list[dict]] = {}
        for repeat in range(args.repeats):  # contenders interleaved: noise hits them alike
            for name in args.only or CONTENDERS:
                command = [sys.executable, __file__, "--one", name, "--model-dir",
                           str(model_dir), "--songs", str(limit), "--threads", threads]
                output = subprocess.run(command, capture_output=True, text=True, env=env)
                lines = [ln for ln in output.stdout.splitlines() if ln.startswith("{")]
                if not lines:
                    print(name, "failed:", output.stderr[-2000:])
                    continue
                runs.setdefault(name, []).append(json.loads(lines[-1]))
                print(f"{name} (run {repeat + 1})", runs[name][-1],
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
        results = {name: {key: statistics.median(r[key] for r in found)
                          for key in ("tokens_per_s", "peak_rss_mb")}
                   for name, found in runs.items()}
        if args.repeats > 1:
            print("medians:", results)
        if "smartlap" in results:
            ours = results["smartlap"]
            for name in ("trainer-padding", "run_clm"):
                if name in results:
                    base = results[name]
                    print(f"smartlap vs {name}: tokens/s x"
                          f"{ours['tokens_per_s'] / base['tokens_per_s']:.2f}, window peak RSS x"
                          f"{ours['peak_rss_mb'] / base['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
