"""`smartlap styles`: the song styles (bundled and the person's own)."""

from __future__ import annotations

import argparse

from smartlap.cli.console import out_console, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "styles", help="list and show song styles",
        description="Song styles set structure, rhyme scheme, syllables per line, the prompt "
        "scaffold and sampling defaults. Put your own TOML files in the config dir's styles/ "
        "folder (see 'smartlap paths') to add styles or override bundled ones.")
    verbs = parser.add_subparsers(dest="styles_command", metavar="ACTION",
                                  parser_class=type(parser))
    parser.set_defaults(func=lambda args: run_list(argparse.Namespace(json=False)))

    lst = verbs.add_parser("list", help="list the styles")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="show one style")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_show)


def run_list(args: argparse.Namespace) -> int:
    from smartlap.styles import load_styles

    styles = load_styles()
    if args.json:
        print_json([style.to_dict() for style in styles.values()])
        return 0
    console = out_console()
    for style in styles.values():
        origin = "" if style.origin == "bundled" else f" [dim]({style.origin})[/]"
        console.print(f"[bold]{style.name:<11}[/]{origin} {style.description}", markup=True)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from smartlap.styles import get_style

    style = get_style(args.name)
    if args.json:
        print_json(style.to_dict())
        return 0
    console = out_console()
    low, high = style.syllables
    rows = [
        ("name", style.name), ("description", style.description),
        ("structure", " → ".join(style.structure)), ("rhyme scheme", style.rhyme_scheme),
        ("syllables", f"{low}-{high} per line" if low != high else f"{low} per line"),
        ("scaffold", repr(style.scaffold)),
        ("line repeats", f"at most {style.max_line_repeats} outside the refrein"),
        ("sampling", ", ".join(f"{k}={v}" for k, v in style.sampling.items()) or "defaults"),
        ("file", f"{style.source} ({style.origin})"),
    ]
    for key, value in rows:
        console.print(f"[bold]{key:<13}[/] ", end="", markup=True)
        console.print(value, markup=False)
    return 0
