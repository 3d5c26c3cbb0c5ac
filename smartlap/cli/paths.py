"""`smartlap paths`: where the data home, config and cache are."""

from __future__ import annotations

import argparse

from smartlap.cli.console import out_console, print_json
from smartlap.paths import get_paths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("paths", help="show where smartlap keeps its files")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths = get_paths().as_dict()
    if args.json:
        print_json(paths)
        return 0
    console = out_console()
    for key, value in paths.items():
        console.print(f"[bold]{key:<12}[/] {value}")
    return 0
