"""Training throughput: smartlap's engine vs HF Trainer (per-song padding) vs run_clm grouping.

Same GPT-2 architecture (random init), same demo-corpus songs, same effective batch, same
CPU. Each contestant runs in its own process so its peak RSS is its own. Reported: real
(non-pad) tokens per second and peak RSS.

    .venv/bin/python benchmarks/training.py [--songs 80] [--large]

``--large`` adds a few steps at GPT-2 124M size (n_embd 768, 12 layers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 256
BATCH = 8
SMALL = {"n_embd": 256, "n_layer": 4, "n_head": 4}
LARGE = {"n_embd": 768, "n_layer": 12, "n_head": 12}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def songs(limit: int) -> list[str]:
    from smartlap.store.datasets import iter_songs

    return [s.lyrics for s in iter_songs("demo", "train")][:limit]


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


def run_smartlap(model_dir: str, limit: int, max_steps: int | None) -> dict:
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training

    name = f"bench-{Path(model_dir).name}"
    result = run_training(TrainConfig(model=model_dir, dataset="demo", name=name, epochs=1,
                                      batch_size=BATCH, block_size=BLOCK, device="cpu",
                                      max_songs=limit, sample_tokens=1, lr=5e-4))
    entry = result.history[0]
    return {"tokens_per_s": entry["tokens_per_s"], "seconds": entry["seconds"]}


def run_trainer(model_dir: str, limit: int, grouping: bool, max_steps: int | None) -> dict:
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    texts = songs(limit)
    if grouping:  # run_clm: concatenate everything, cut into BLOCK-token chunks
        eos = tokenizer.eos_token_id
        ids = [t for text in texts for t in [*tokenizer(text)["input_ids"], eos]]
        blocks = [ids[i:i + BLOCK] for i in range(0, len(ids) - BLOCK + 1, BLOCK)]
        data = [{"input_ids": b, "labels": list(b)} for b in blocks]
        collator, real = default_data_collator, len(blocks) * BLOCK
    else:  # one song per row, padded per batch
        rows = [tokenizer(t, truncation=True, max_length=BLOCK)["input_ids"] for t in texts]
        data = [{"input_ids": r} for r in rows]
        collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
        real = sum(len(r) for r in rows)
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=BATCH,
                             num_train_epochs=1, learning_rate=5e-4, report_to=[],
                             save_strategy="no", logging_strategy="no", use_cpu=True,
                             dataloader_num_workers=0, disable_tqdm=True,
                             max_steps=max_steps or -1)
    import torch

    default = collator

    def collate(features):  # lists -> tensors (the datasets library is not installed)
        batch = default(features)
        return {k: torch.as_tensor(v) for k, v in batch.items()}

    tokenizer.pad_token = tokenizer.eos_token
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    if max_steps:
        real = real * min(1.0, max_steps * BATCH / len(data))
    return {"tokens_per_s": round(real / seconds, 1), "seconds": round(seconds, 1)}


def one(name: str, model_dir: str, limit: int, max_steps: int | None) -> None:
    if name == "smartlap":
        result = run_smartlap(model_dir, limit, max_steps)
    else:
        result = run_trainer(model_dir, limit, name == "run_clm", max_steps)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=80)
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--max-steps", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.model_dir, args.songs, args.max_steps)
        return
    home = tempfile.mkdtemp()
    env = {**os.environ, "SMARTLAP_HOME": home, "TOKENIZERS_PARALLELISM": "false"}
    os.environ.update(env)
    sizes = [("small", SMALL, None)] + ([("124M", LARGE, 3)] if args.large else [])
    for label, size, steps in sizes:
        model_dir = Path(tempfile.mkdtemp()) / label
        build_model(model_dir, size, songs(args.songs))
        print(f"## GPT-2 {label} ({size}), {args.songs} demo songs, batch {BATCH} x {BLOCK}")
        results = {}
        for name in ("trainer-padding", "run_clm", "smartlap"):
            command = [sys.executable, __file__, "--one", name, "--model-dir", str(model_dir),
                       "--songs", str(args.songs)]
            if steps:
                command += ["--max-steps", str(steps)]
            output = subprocess.run(command, capture_output=True, text=True, env=env)
            lines = [ln for ln in output.stdout.splitlines() if ln.startswith("{")]
            if not lines:
                print(name, "failed:", output.stderr[-2000:])
                continue
            results[name] = json.loads(lines[-1])
            print(name, results[name], flush=True)
        if "smartlap" in results:
            ours = results["smartlap"]
            for name in ("trainer-padding", "run_clm"):
                if name in results:
                    base = results[name]
                    print(f"smartlap vs {name}: tokens/s x"
                          f"{ours['tokens_per_s'] / base['tokens_per_s']:.2f}, peak RSS x"
                          f"{ours['peak_rss_mb'] / base['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
