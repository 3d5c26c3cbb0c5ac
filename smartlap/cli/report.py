"""`smartlap report`: a Markdown model analysis like the seeds' documents.

``smartlap report MODEL`` prints (or ``--out FILE`` writes) general information, the
architecture as a mermaid graph of the real module tree, the dataset, the training results
table and a fixed-seed sample; ``--compare A B ...`` puts several models side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smartlap.errors import InputError, UsageError
from smartlap.limits import SEED_MAX, seed_type


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write a Markdown analysis of a model")
    parser.add_argument("model", nargs="?", metavar="MODEL", help="model name or folder")
    parser.add_argument("--compare", nargs="+", metavar="MODEL",
                        help="compare several models side by side")
    parser.add_argument("--prompt", help="prompt for the generated text (default: the seeds')")
    parser.add_argument("--seed", type=seed_type, default=42,
                        help=f"sampling seed (default 42; 0 to {SEED_MAX})")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smartlap.lm.train.config import DEFAULT_SAMPLE_PROMPT

    if bool(args.model) == bool(args.compare):
        raise UsageError("Give one MODEL, or --compare with several.",
                         "e.g. 'smartlap report smartlap-mini' or "
                         "'smartlap report --compare A B'.")
    if args.out is not None and args.out.is_dir():
        raise InputError(f"{args.out} is a folder.", "Give a file name, e.g. --out report.md.")
    prompt = args.prompt.replace("\\n", "\n") if args.prompt else DEFAULT_SAMPLE_PROMPT
    from smartlap.lm.report import build_report, compare_report

    if args.compare:
        text = compare_report(args.compare, prompt, device=args.device, seed=args.seed)
    else:
        text = build_report(args.model, prompt, device=args.device, seed=args.seed)
    if args.out is None:
        import sys

        sys.stdout.write(text)
        return 0
    from smartlap.fsutil import atomic_write_text

    try:
        atomic_write_text(args.out, text)
    except OSError as error:
        raise InputError(f"Cannot write {args.out}: {error.strerror or error}.",
                         "Pick a folder you can write to.") from None
    from smartlap.cli.console import out_console

    out_console().print(f"report written to {args.out}")
    return 0
