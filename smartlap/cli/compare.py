"""`smartlap compare`: the same prompt and seed through several models, side by side."""

from __future__ import annotations

import argparse
import threading
from typing import TYPE_CHECKING

from smartlap.cli.console import err_console, out_console, print_json
from smartlap.cli.options import add_loading_options
from smartlap.errors import interrupt_exit_code
from smartlap.limits import MAX_SAMPLES, SEED_MAX, samples_type, seed_type

if TYPE_CHECKING:
    from rich.table import Table

    from smartlap.lm.compare import ModelResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="the same prompt and seed through several models, side by side",
        description="Generate from the same prompt, seed and sampling settings with each model "
        "(a base model and its fine-tuned checkpoints, any number), beside each model's "
        "validation loss on one dataset, the lines it copied and its speed.")
    parser.add_argument("models", nargs="+", metavar="MODEL",
                        help="two or more model names, hub ids or folders")
    parser.add_argument("--prompt", "-p", default="", metavar="TEXT",
                        help="the first lines to continue; '-' reads them from stdin")
    parser.add_argument("--seed", type=seed_type,
                        help=f"random seed for every model (default 42; 0 to {SEED_MAX})")
    parser.add_argument("--samples", "-n", type=samples_type,
                        help=f"samples per model (default 1, at most {MAX_SAMPLES})")
    parser.add_argument("--max-new-tokens", type=int, metavar="N",
                        help="length limit per sample (default 120)")
    parser.add_argument("--temperature", "-t", type=float, help="randomness (0 = greedy)")
    parser.add_argument("--style", "-s", help="song style (see 'smartlap styles list')")
    parser.add_argument("--dataset", "-d", metavar="NAME",
                        help="dataset whose validation songs score every model (default: the "
                        "one the checkpoints were trained on, else demo)")
    add_loading_options(parser)
    parser.add_argument("--no-originality", action="store_true",
                        help="do not check samples for lines copied from training data")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object: {\"models\": [...], ...}")
    parser.set_defaults(func=run)


def _comparison(args: argparse.Namespace, infos):
    from smartlap.cli.generate import read_prompt
    from smartlap.lm.compare import DEFAULT_SEED, Comparison, default_dataset
    from smartlap.lm.generation import GenerationSettings
    from smartlap.store.datasets import get_dataset
    from smartlap.styles import get_style

    style = get_style(args.style) if args.style else None
    settings = GenerationSettings.from_style(
        style, seed=DEFAULT_SEED if args.seed is None else args.seed, samples=args.samples,
        max_new_tokens=120 if args.max_new_tokens is None else args.max_new_tokens,
        temperature=args.temperature)
    dataset = get_dataset(args.dataset).name if args.dataset else default_dataset(infos)
    return Comparison(prompt=read_prompt(args.prompt), settings=settings, dataset=dataset,
                      style=style, device=args.device, precision=args.precision,
                      trust_remote_code=args.trust_remote_code,
                      allow_pickle=args.allow_pickle, originality=not args.no_originality)


def run(args: argparse.Namespace) -> int:
    from smartlap.lm.compare import compare_models, resolve_models

    infos = resolve_models(args.models)  # every name is checked before anything loads
    comparison = _comparison(args, infos)
    errors = err_console()

    def started(column: int, info) -> None:
        if not args.json:
            errors.print(f"[dim]{column + 1}/{len(infos)} {info.name}: loading, scoring on "
                         f"{comparison.dataset}, generating…[/]", highlight=False)

    stop = threading.Event()
    results: list[ModelResult] = []
    try:
        for _, result in compare_models(infos, comparison, stop=stop, on_start=started):
            results.append(result)
    except KeyboardInterrupt as interrupt:
        stop.set()
        errors.print("[yellow]stopped.[/]")
        return interrupt_exit_code(interrupt)
    if args.json:
        print_json({**comparison.to_dict(), "models": [r.to_dict() for r in results]})
    else:
        out_console().print(comparison_table(results, comparison.prompt))
        errors.print(f"[dim]seed {comparison.settings.seed}, {comparison.settings.samples} "
                     f"sample(s) per model; losses on the validation songs of "
                     f"{comparison.dataset}[/]", highlight=False)
    failed = [r for r in results if r.error]
    for result in failed:
        errors.print(f"[bold red]error:[/] {result.model}: {result.error}", highlight=False)
        if result.hint:
            errors.print(f"[yellow]hint:[/] {result.hint}", highlight=False)
    return 1 if failed else 0


def comparison_table(results: list[ModelResult], prompt: str) -> Table:
    """One column a model: figures, then each sample with its copied lines marked."""
    from rich.markup import escape
    from rich.table import Table

    title = f"prompt: {prompt.strip()}" if prompt.strip() else "unconditional"
    table = Table(title=escape(title.replace("\n", " / ")), show_lines=True, expand=True)
    for result in results:
        table.add_column(escape(result.model), ratio=1, overflow="fold")
    table.add_row(*(_figures_cell(r) for r in results))
    rows = max((len(r.samples) for r in results), default=0)
    for number in range(1, rows + 1):
        table.add_row(*(_sample_cell(r, number, prompt) for r in results))
    return table


def _figures_cell(result: ModelResult) -> str:
    from rich.markup import escape

    lines = [escape(line) for line in result.figure_lines()]
    if result.error:
        return "[red]" + "\n".join(lines) + "[/]"
    return "[dim]" + "\n".join(lines) + "[/]"


def _sample_cell(result: ModelResult, number: int, prompt: str) -> str:
    """The sample's text; copied lines in yellow with '=' (exact) or '≈' (near)."""
    from rich.markup import escape

    if number > len(result.samples):
        return ""
    text = result.samples[number - 1]
    marks = {c["row"]: c["kind"] for c in result.copied_lines if c["sample"] == number}
    lines = []
    for row, line in enumerate(text.rstrip("\n").split("\n")):
        kind = marks.get(row)
        if kind is None:
            lines.append(escape(line))
        else:
            lines.append(f"[yellow]{'=' if kind == 'copied' else '≈'} {escape(line)}[/]")
    return "\n".join(lines)
