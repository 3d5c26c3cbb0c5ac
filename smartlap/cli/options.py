"""Options more than one command takes, defined once so their names and help agree."""

from __future__ import annotations

import argparse

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def add_loading_options(parser: argparse.ArgumentParser) -> None:
    """Where and how a model is loaded, and what it may run: for commands that generate."""
    parser.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="weights dtype (auto: bf16/fp16 on GPU, fp32 on CPU)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="run Python code shipped with the model (only if you trust it)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="load pickled .bin weights (only if you trust their source)")
