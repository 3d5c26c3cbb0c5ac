"""Generation speed: smartlap's streaming path vs bare ``model.generate`` vs the pipeline.

Same model (GPT-2 small architecture, 124M parameters, random init with a fixed seed, saved
as a plain HF folder), same prompt, same sampling settings, CPU, all in one run with the
three paths interleaved per repeat so machine noise hits them alike. Also measures the
memory-bandwidth bound: every new token reads all weights once, so
``bound tokens/s = measured read bandwidth / weight bytes``.

    .venv/bin/python benchmarks/generation.py            # 64 new tokens x 3 repeats
    .venv/bin/python benchmarks/generation.py --model smartlap-mini --tokens 128

``--first-token`` measures cold processes instead, interleaved, median of ``--repeats``:
``python -c "import torch"`` (the baseline), the first streamed byte of ``smartlap generate
--prompt "ik mis je" --max-new-tokens 20`` on the bundled model, and the studio's first
generation (the Write screen's ``GenerationBackend``: load, then stream to the first token,
timed after textual and the screen's module are imported, as they are once the studio is
open). Run it alone: ``flock /tmp/bench.lock .venv/bin/python benchmarks/generation.py
--first-token``.

Prints a Markdown table (for docs/benchmarks.md) and, with --json, the raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROMPT = "In de kroeg op de hoek brandt nog licht, moeder wacht met de deur niet dicht."
SAMPLING = {"temperature": 0.9, "top_k": 50, "top_p": 0.95, "repetition_penalty": 1.15}


def build_gpt2_small(folder: Path, seed: int = 0) -> Path:
    """A random-init GPT-2 small (124M) with a byte-level BPE tokenizer of GPT-2's size.

    No hub here, so the 50,257-token vocabulary is made of the 256 byte symbols, 50,000
    two-symbol merges and <|endoftext|>: a valid BPE tokenizer the size GPT-2's is.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    alphabet.sort()
    vocab = {symbol: i for i, symbol in enumerate(alphabet)}
    merges = []
    for left in alphabet:
        for right in alphabet:
            if len(merges) == 50_000:
                break
            merges.append((left, right))
            vocab[left + right] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    assert len(tokenizer) == 50_257
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=50_257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
                        bos_token_id=50_256, eos_token_id=50_256)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def read_bandwidth_gbs(megabytes: int = 1024, repeats: int = 7) -> float:
    """Best-of-N memory read bandwidth: sum a tensor far larger than the caches."""
    import torch

    data = torch.ones(megabytes * 1024 * 1024 // 4, dtype=torch.float32)
    data.sum()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        data.sum()
        best = min(best, time.perf_counter() - start)
    return data.numel() * 4 / best / 1e9


def weight_bytes(model) -> int:
    """Bytes of the distinct parameter tensors (tied embeddings counted once)."""
    seen, total = set(), 0
    for tensor in model.parameters():
        if tensor.data_ptr() not in seen:
            seen.add(tensor.data_ptr())
            total += tensor.numel() * tensor.element_size()
    return total


def gemv_ceiling(loaded, repeats: int = 15) -> float:
    """Tokens/s if a token cost nothing but its matrix-vector products (best of ``repeats``).

    Runs just the projections of smartlap's decoder, in the layouts it uses, on random
    vectors: the fastest a decoder built on torch's CPU kernels could go on this machine.
    """
    import torch

    from smartlap.lm.fast_decode import _weights_for

    weights = _weights_for(loaded.model)
    projections = [p for b in weights.blocks for p in (*b.qkv, b.out, b.fc, b.proj)]
    projections.append(weights.head)
    inputs = [torch.randn(1, p.weight.shape[1 if p.out_in else 0]) for p in projections]
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            for projection, x in zip(projections, inputs, strict=True):
                projection(x)
            best = min(best, time.perf_counter() - start)
    return 1 / best


def run_smartlap(loaded, tokens: int, seed: int, fast: bool = True) -> dict:
    """smartlap's streaming path; ``fast=False`` swaps its decoder for transformers' forward."""
    from smartlap.events import SampleEnd
    from smartlap.lm.fast_decode import FAST_DECODE_VARIABLE
    from smartlap.lm.generation import GenerationSettings, stream_generate

    settings = GenerationSettings(max_new_tokens=tokens, seed=seed, **SAMPLING)
    os.environ[FAST_DECODE_VARIABLE] = "1" if fast else "0"
    try:
        ends = [e for e in stream_generate(loaded, PROMPT, settings)
                if isinstance(e, SampleEnd)]
    finally:
        del os.environ[FAST_DECODE_VARIABLE]
    end = ends[0]
    return {"tokens": end.tokens, "seconds": end.seconds, "ttft": end.time_to_first_token}


class _FirstToken:
    """A generate() streamer that only notes when the first new token arrives."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.calls = 0
        self.ttft: float | None = None

    def put(self, value) -> None:
        self.calls += 1
        if self.calls == 2:  # the first call carries the prompt
            self.ttft = time.perf_counter() - self.started

    def end(self) -> None:
        pass


def run_generate(model, tokenizer, tokens: int, seed: int) -> dict:
    import torch

    inputs = tokenizer(PROMPT, return_tensors="pt").to(model.device)
    torch.manual_seed(seed)
    started = time.perf_counter()
    streamer = _FirstToken(started)
    with torch.inference_mode():
        out = model.generate(**inputs, do_sample=True, max_new_tokens=tokens,
                             min_new_tokens=tokens, streamer=streamer,
                             pad_token_id=tokenizer.eos_token_id, **SAMPLING)
    seconds = time.perf_counter() - started
    return {"tokens": out.shape[1] - inputs["input_ids"].shape[1], "seconds": seconds,
            "ttft": streamer.ttft}


def run_generate_thread(model, tokenizer, tokens: int, seed: int) -> dict:
    """The textbook streaming recipe: generate() in a thread, TextIteratorStreamer here."""
    import torch
    from transformers import TextIteratorStreamer

    inputs = tokenizer(PROMPT, return_tensors="pt").to(model.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)

    def work() -> None:
        torch.manual_seed(seed)
        with torch.inference_mode():
            model.generate(**inputs, do_sample=True, max_new_tokens=tokens,
                           min_new_tokens=tokens, streamer=streamer,
                           pad_token_id=tokenizer.eos_token_id, **SAMPLING)

    started = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    ttft = None
    for text in streamer:
        if ttft is None and text:
            ttft = time.perf_counter() - started
    worker.join()
    return {"tokens": tokens, "seconds": time.perf_counter() - started, "ttft": ttft}


def run_pipeline(generator, tokens: int, seed: int) -> dict:
    import torch

    torch.manual_seed(seed)
    started = time.perf_counter()
    streamer = _FirstToken(started)
    out = generator(PROMPT, do_sample=True, max_new_tokens=tokens, min_new_tokens=tokens,
                    streamer=streamer, return_full_text=False,
                    pad_token_id=generator.tokenizer.eos_token_id, **SAMPLING)
    seconds = time.perf_counter() - started
    produced = len(generator.tokenizer(out[0]["generated_text"])["input_ids"])
    return {"tokens": tokens if produced else 0, "seconds": seconds, "ttft": streamer.ttft}


def summarise(runs: list[dict]) -> dict:
    """Overall rate (prompt included), and the decode rate after the first token.

    The bandwidth bound describes the decode steps (one read of every weight per token);
    the prompt's forward pass is compute-bound, so the decode rate is what is held against
    the bound and the overall rate against the other paths.
    """
    rates = [r["tokens"] / r["seconds"] for r in runs]
    decode = [(r["tokens"] - 1) / (r["seconds"] - r["ttft"]) for r in runs
              if r["ttft"] is not None and r["tokens"] > 1]
    ttfts = [r["ttft"] for r in runs if r["ttft"] is not None]
    return {"tokens_per_s": statistics.median(rates), "best_tokens_per_s": max(rates),
            "decode_tokens_per_s": statistics.median(decode) if decode else None,
            "ttft_s": statistics.median(ttfts) if ttfts else None,
            "tokens": [r["tokens"] for r in runs]}


FIRST_TOKEN_PROMPT = "ik mis je"
_STUDIO_FIRST_TOKEN = """
import sys, threading, time
PROMPT = sys.argv[1]
from smartlap.tui.write import GenerationBackend
from smartlap.tui.controls import GenerationControls
started = time.perf_counter()
backend = GenerationBackend()
session = backend.load("smartlap-mini")
for event in backend.stream(session, PROMPT, GenerationControls(max_new_tokens=20, seed=1),
                            threading.Event(), None):
    if event.kind == "token":
        break
print(time.perf_counter() - started)
print("transformers" in sys.modules)
"""


def _run_in(checkout: Path) -> dict:
    """Subprocess options that import smartlap from ``checkout`` (``-m`` and ``-c`` put the
    working directory first on sys.path, before PYTHONPATH)."""
    return {"cwd": checkout, "env": {**os.environ, "PYTHONPATH": str(checkout)}}


def _cold_torch_import() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - started


def _cold_generate_first_byte(checkout: Path) -> tuple[float, str]:
    """Seconds from spawning ``smartlap generate`` to the first byte of the sample's text."""
    command = [sys.executable, "-m", "smartlap", "generate", "--prompt", FIRST_TOKEN_PROMPT,
               "--max-new-tokens", "20", "--seed", "1"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               **_run_in(checkout))
    assert process.stdout is not None
    first = None
    for line in iter(process.stdout.readline, b""):
        if b" SAMPLE 1 " in line:  # the header is written as the first token arrives
            if process.stdout.read(1):
                first = time.perf_counter() - started
            break
    _, err = process.communicate(timeout=120)
    if first is None or process.returncode:
        raise SystemExit(f"smartlap generate failed: {err.decode(errors='replace')}")
    return first, err.decode(errors="replace")


def _cold_studio_first_token(checkout: Path) -> tuple[float, bool]:
    command = [sys.executable, "-c", _STUDIO_FIRST_TOKEN, FIRST_TOKEN_PROMPT]
    out = subprocess.run(command, check=True, capture_output=True, text=True,
                         **_run_in(checkout)).stdout.split()
    return float(out[0]), out[1] == "True"


def first_token(repeats: int, as_json: bool, other: Path | None = None) -> int:
    """Cold-process first token against a bare torch import, interleaved per repeat.

    ``other``: another smartlap checkout (say, main before a change) measured in the same
    run, so machine load hits both alike."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs: dict[str, list[float]] = {"torch": [], "generate": [], "studio": []}
    checkouts = {"": Path(__file__).resolve().parent.parent}
    if other is not None:
        runs |= {"generate other": [], "studio other": []}
        checkouts[" other"] = other.resolve()
    transformers_seen = False
    for _ in range(repeats):
        runs["torch"].append(_cold_torch_import())
        for suffix, checkout in checkouts.items():
            seconds, _ = _cold_generate_first_byte(checkout)
            runs["generate" + suffix].append(seconds)
            seconds, imported = _cold_studio_first_token(checkout)
            runs["studio" + suffix].append(seconds)
            if not suffix:
                transformers_seen |= imported
    medians = {name: statistics.median(values) for name, values in runs.items()}
    import torch

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, Python {sys.version.split()[0]}; load average "
          f"{os.getloadavg()[0]:.1f}; median of {repeats} cold processes, interleaved\n")
    print("| measurement | median | runs | x import torch |")
    print("|---|---|---|---|")
    rows = {"torch": 'python -c "import torch" (baseline)',
            "generate": f'smartlap generate --prompt "{FIRST_TOKEN_PROMPT}" '
                        "--max-new-tokens 20: first streamed byte",
            "studio": "studio: first generation after opening (load + first token)"}
    if other is not None:
        rows |= {f"{name} other": f"{label} [{other}]" for name, label in list(rows.items())[1:]}
    for name, label in rows.items():
        shown = ", ".join(f"{v:.2f}" for v in runs[name])
        print(f"| {label} | {medians[name]:.2f} s | {shown} | "
              f"{medians[name] / medians['torch']:.2f} |")
    print(f"\ntransformers imported by the studio path: {transformers_seen}")
    if as_json:
        print(json.dumps({"runs": runs, "medians": medians}, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a registered model or folder (default: a fresh "
                        "random-init GPT-2 small)")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="also print the raw figures")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the random GPT-2 small here once and reuse it next time")
    parser.add_argument("--first-token", action="store_true",
                        help="cold-process first token of generate and the studio against "
                        "'import torch' (see the module docstring)")
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT",
                        help="with --first-token: also measure another smartlap checkout")
    args = parser.parse_args()
    if args.first_token:
        return first_token(args.repeats, args.json, args.compare_with)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from smartlap.lm.loading import load_model

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            folder = Path(args.model)
        elif args.keep and (args.keep / "config.json").is_file():
            folder = args.keep
        else:
            folder = build_gpt2_small(args.keep or Path(tmp) / "gpt2-small", args.seed)
        loaded = load_model(folder, device="cpu")
        folder = loaded.info.path
        # A second copy for the transformers-forward row: the lean decoder re-lays out the
        # weights of the model it runs on, and this row must see them as transformers does.
        loaded_hf = load_model(folder, device="cpu")
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        generator = pipeline("text-generation", model=model, tokenizer=tokenizer, device="cpu")
        load_before = os.getloadavg()[0]
        bandwidth_before = read_bandwidth_gbs()
        nbytes = weight_bytes(loaded.model)
        paths = {"smartlap stream_generate": lambda s: run_smartlap(loaded, args.tokens, s),
                 "smartlap stream_generate, transformers forward (SMARTLAP_FAST_DECODE=0)":
                     lambda s: run_smartlap(loaded_hf, args.tokens, s, fast=False),
                 "model.generate": lambda s: run_generate(model, tokenizer, args.tokens, s),
                 "model.generate in a thread + TextIteratorStreamer":
                     lambda s: run_generate_thread(model, tokenizer, args.tokens, s),
                 "pipeline": lambda s: run_pipeline(generator, args.tokens, s)}
        for run in paths.values():  # warm-up: first calls pay for lazy init
            run(args.seed)
        runs: dict[str, list[dict]] = {name: [] for name in paths}
        for repeat in range(args.repeats):
            for name, run in paths.items():
                runs[name].append(run(args.seed + repeat))
        ceiling = gemv_ceiling(loaded)
        bandwidth_after = read_bandwidth_gbs()
        load_after = os.getloadavg()[0]
    bandwidth = max(bandwidth_before, bandwidth_after)  # the best the machine showed
    bound = bandwidth * 1e9 / nbytes

    results = {name: summarise(r) for name, r in runs.items()}
    pipe = results["pipeline"]["tokens_per_s"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"Python {sys.version.split()[0]}; load average {load_before:.1f} before, "
          f"{load_after:.1f} after")
    print(f"model: {loaded.info.name} ({sum(p.numel() for p in loaded.model.parameters()):,} "
          f"params, {nbytes / 1e6:.0f} MB of weights, fp32)")
    print(f"read bandwidth: {bandwidth_before:.1f} GB/s before, {bandwidth_after:.1f} GB/s after "
          f"-> bound {bound:.1f} tokens/s")
    print(f"GEMV ceiling (the decoder's matrix-vector products alone, best of 15): "
          f"{ceiling:.1f} tokens/s = {ceiling / bound:.2f} x bound")
    print(f"prompt: {len(tokenizer(PROMPT)['input_ids'])} tokens; {args.tokens} new tokens x "
          f"{args.repeats} repeats; sampling {SAMPLING}\n")
    print("| path | tokens/s (median) | best | x pipeline | time to first token | "
          "decode tokens/s | decode x bound |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ttft = f"{r['ttft_s'] * 1000:.0f} ms" if r["ttft_s"] is not None else "-"
        decode = r["decode_tokens_per_s"]
        decode_cells = f"{decode:.1f} | {decode / bound:.2f}" if decode else "- | -"
        print(f"| {name} | {r['tokens_per_s']:.1f} | {r['best_tokens_per_s']:.1f} | "
              f"{r['tokens_per_s'] / pipe:.2f} | {ttft} | {decode_cells} |")
    if args.json:
        print(json.dumps({"bandwidth_gbs": bandwidth, "weight_bytes": nbytes,
                          "gemv_ceiling_tokens_per_s": ceiling,
                          "bound_tokens_per_s": bound, "results": results, "runs": runs},
                         indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
