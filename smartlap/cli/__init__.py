"""The `smartlap` command: one subcommand per verb, the studio when given none.

Each subcommand lives in its own module under ``smartlap.cli`` and exposes
``register(subparsers)``; handlers take the parsed ``argparse.Namespace`` and return an exit
code. Modules here stay light: anything that needs torch imports it inside the handler, so
``smartlap --help`` never pays for it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from smartlap import __version__
from smartlap.errors import SmartlapError, Terminated, UsageError, interrupt_exit_code

COMMAND_MODULES = (
    "paths", "datasets", "models", "styles", "generate", "compare", "train", "runs", "report",
    "craft", "songs",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad options as a UsageError (one line plus a hint, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", f"Run '{self.prog} --help' for the options.")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="smartlap",
        description="A terminal songwriting studio for Dutch smartlappen and levensliederen. "
        "Run without a command to open the studio.",
    )
    parser.add_argument("--version", action="version", version=f"smartlap {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks for errors (may stand anywhere)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"smartlap.cli.{name}").register(subparsers)
    return parser


def _print_error(error: SmartlapError) -> None:
    from smartlap.cli.console import err_console

    console = err_console()
    console.print(f"[bold red]error:[/] {error.message}", highlight=False, markup=True)
    if error.hint:
        console.print(f"[yellow]hint:[/] {error.hint}", highlight=False)


def _print_json_error(error: SmartlapError) -> None:
    """With --json a failure is JSON on stdout too, so a script never parses a traceback."""
    from smartlap.cli.console import print_json

    print_json({"error": {"message": error.message, "hint": error.hint,
                          "kind": type(error).__name__, "exit_code": error.exit_code}})


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM stops it the way Ctrl+C does (same cleanup: temps
    removed, state saved), and the command exits 143."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (tests calling main() from a worker)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    args_list = [a for a in args_list if a != "--debug"]
    try:
        if not args_list:
            return _open_studio()
        parser = build_parser()
        args = parser.parse_args(args_list)
        args.debug = debug
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        with sigterm_as_interrupt():
            return int(args.func(args) or 0)
    except SmartlapError as error:
        if debug:
            raise
        if "--json" in args_list:
            _print_json_error(error)
        else:
            _print_error(error)
        return error.exit_code
    except KeyboardInterrupt as interrupt:
        if debug:
            raise
        from smartlap.cli.console import err_console

        err_console().print("[yellow]stopped.[/]")
        return interrupt_exit_code(interrupt)
    except BrokenPipeError:
        return 0


def _open_studio() -> int:
    try:
        from smartlap.tui.app import run_studio
    except ImportError:  # studio not built yet
        build_parser().print_help()
        return 0
    return run_studio()
