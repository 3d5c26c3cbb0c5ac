"""The training loss alone: transformers' ``model(**batch).loss`` vs smartlap's chunked head loss.

Same random-init GPT-2 (GPT-2's 50,257-token vocabulary, where the logits are the largest
tensors of a step), same batch, same AdamW step, CPU, each variant in its own subprocess so
its peak RSS (``VmHWM``) is its own. Reports seconds per step and peak RSS.

    .venv/bin/python benchmarks/train_loss.py [--steps 6] [--batch 8] [--block 256]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("transformers", "smartlap")


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def one(variant: str, steps: int, batch: int, block: int, vocab: int) -> dict:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from smartlap.lm.train.loss import HiddenStates

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=block, n_embd=256,
                                       n_layer=4, n_head=4)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, vocab, (batch, block), generator=torch.Generator().manual_seed(1))
    inputs = {"input_ids": ids, "labels": ids}
    head = HiddenStates(model) if variant == "smartlap" else None
    before = vm_hwm_mb()
    times, losses = [], []
    for _ in range(steps):
        started = time.perf_counter()
        loss = head.loss(model, inputs) if head else model(**inputs, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
        losses.append(round(float(loss.detach()), 5))
    return {"seconds_per_step": round(sorted(times[1:])[len(times[1:]) // 2], 3),
            "peak_rss_mb": vm_hwm_mb(), "rss_before_steps_mb": before, "losses": losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=50_257)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.steps, args.batch, args.block, args.vocab)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    print(f"GPT-2 4 x 256, vocabulary {args.vocab:,}, batch {args.batch} x {args.block}, "
          f"{args.steps} steps, 1 thread; load average {os.getloadavg()[0]:.2f}")
    results = {}
    for variant in VARIANTS:
        command = [sys.executable, __file__, "--one", variant, "--steps", str(args.steps),
                   "--batch", str(args.batch), "--block", str(args.block),
                   "--vocab", str(args.vocab)]
        output = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        results[variant] = json.loads(output.stdout.splitlines()[-1])
        print(variant, results[variant], flush=True)
    ours, base = results["smartlap"], results["transformers"]
    step_ratio = ours["seconds_per_step"] / base["seconds_per_step"]
    print(f"smartlap vs transformers: step time x{step_ratio:.2f}, "
          f"peak RSS x{ours['peak_rss_mb'] / base['peak_rss_mb']:.2f} "
          f"({base['peak_rss_mb'] - ours['peak_rss_mb']:.0f} MB less)")


if __name__ == "__main__":
    main()
