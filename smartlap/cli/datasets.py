"""`smartlap datasets`: import, list, show, delete and export lyric collections."""

from __future__ import annotations

import argparse
from typing import Any

from smartlap.cli.console import out_console, print_damaged, print_json, progress_bar
from smartlap.errors import UsageError

IMPORT_FORMATS = ("auto", "csv", "txt", "jsonl", "chordpro", "dir")
EXPORT_FORMATS = ("jsonl", "csv", "txt")
SHOWN_SKIPS = 15
SHOWN_BOILERPLATE = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "datasets", help="import and manage lyric collections",
        description="Import lyric collections (CSV, text dumps, JSONL, folders) and manage them.")
    verbs = parser.add_subparsers(dest="datasets_command", metavar="ACTION",
                                  parser_class=type(parser))
    parser.set_defaults(func=lambda args: _help(parser))

    imp = verbs.add_parser("import", help="import a CSV, text dump, JSONL file or folder")
    imp.add_argument("path", metavar="PATH", help="file or folder with lyrics")
    imp.add_argument("--name", help="dataset name (default: the file name)")
    imp.add_argument("--format", dest="fmt", choices=IMPORT_FORMATS, default="auto",
                     help="input format (default: detected from the content)")
    imp.add_argument("--force", action="store_true", help="replace a dataset with that name")
    imp.add_argument("--val-fraction", type=float, default=0.1, metavar="F",
                     help="share of songs held out for validation (default: 0.1)")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.set_defaults(func=run_import)

    lst = verbs.add_parser("list", help="list datasets")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="show a dataset's stats and import report")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_show)

    delete = verbs.add_parser("delete", help="delete a dataset")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--json", action="store_true",
                        help="print the deleted dataset as JSON (needs --yes)")
    delete.set_defaults(func=run_delete)

    export = verbs.add_parser("export", help="write a dataset to a jsonl, csv or txt file")
    export.add_argument("name", metavar="NAME")
    export.add_argument("--to", required=True, metavar="FILE", help="file to write")
    export.add_argument("--format", dest="fmt", choices=EXPORT_FORMATS, default=None,
                        help="output format (default: from the file extension, else jsonl)")
    export.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    export.add_argument("--json", action="store_true", help="print what was written as JSON")
    export.set_defaults(func=run_export)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# ----------------------------------------------------------------------------- rendering


def _stats_table(info: Any) -> Any:
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    source = info.source
    rows = [
        ("songs", f"{info.songs:,}"),
        ("train / val", f"{info.train_songs:,} / {info.val_songs:,}"),
        ("lines", f"{info.lines:,}"),
        ("words", f"{info.words:,}"),
        ("source", str(source.get("path", ""))),
        ("format", " ".join(filter(None, [source.get("format"), source.get("encoding")]))),
        ("layout", _layout(source)),
        ("created", info.created),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def _layout(source: dict[str, Any]) -> str:
    """How the importer read the source, in words."""
    if source.get("format") == "csv":
        parts = [f"delimiter {source.get('delimiter')!r}",
                 "header row" if source.get("header") else "no header",
                 f"lyrics column {source.get('lyrics_column')!r}"]
        parts += [f"{kind} column {source[key]!r}" for kind, key in
                  (("title", "title_column"), ("artist", "artist_column")) if source.get(key)]
        return ", ".join(parts)
    if "split_on" in source:
        return f"songs split on {source['split_on']}"
    if "files" in source:
        return f"{source['files']:,} lyric files"
    if "text_field" in source:
        return f"lyrics in field {source['text_field']!r}"
    return ""


def _print_report(info: Any, title: str) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    console = out_console()
    console.print(Panel(_stats_table(info), title=title, expand=False))
    report = info.report
    by_reason = report.get("skipped_by_reason", {})
    if by_reason:
        console.print(f"[bold]skipped:[/] {report.get('skipped_count', 0):,} "
                      f"({', '.join(f'{n} {reason}' for reason, n in by_reason.items())})")
        table = Table("where", "reason", "detail", box=None, header_style="bold")
        for entry in report.get("skipped", [])[:SHOWN_SKIPS]:
            table.add_row(entry.get("where", ""), entry.get("reason", ""),
                          entry.get("detail", ""))
        console.print(table)
        hidden = report.get("skipped_count", 0) - min(SHOWN_SKIPS, len(report.get("skipped", [])))
        if hidden > 0:
            console.print(f"[dim]... and {hidden:,} more (see --json)[/]")
    else:
        console.print("[bold]skipped:[/] none")
    boilerplate = report.get("boilerplate", [])
    for entry in boilerplate[:SHOWN_BOILERPLATE]:
        what = entry["line"] if entry.get("kind") == "leftover" else repr(entry["line"])
        songs = entry["songs"]
        console.print(f"[bold]boilerplate dropped:[/] {escape(what)} "
                      f"({songs:,} song{'s' * (songs != 1)})")
    if len(boilerplate) > SHOWN_BOILERPLATE:
        console.print(f"[dim]... and {len(boilerplate) - SHOWN_BOILERPLATE} more kinds "
                      "(see --json)[/]")
    for warning in report.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}")


# ----------------------------------------------------------------------------- handlers


def run_import(args: argparse.Namespace) -> int:
    from smartlap.store.datasets import import_dataset

    if args.json:
        info = import_dataset(args.path, name=args.name, fmt=args.fmt, force=args.force,
                              val_fraction=args.val_fraction)
        print_json(info.to_dict())
        return 0
    with progress_bar("importing", "songs") as progress:
        info = import_dataset(args.path, name=args.name, fmt=args.fmt, force=args.force,
                              val_fraction=args.val_fraction, progress=progress)
    _print_report(info, f"imported [bold]{info.name}[/]: {info.songs:,} songs")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from smartlap.store.datasets import scan_datasets

    listing = scan_datasets()
    infos = listing.entries
    print_damaged(listing.damaged)
    if args.json:
        print_json([{key: value for key, value in info.to_dict().items()
                     if key not in ("report", "skipped")} for info in infos])
        return 0
    if not infos:
        out_console().print("No datasets yet. Import one: smartlap datasets import PATH")
        return 0
    table = Table("name", "songs", "train", "val", "words", "skipped", "format", "created",
                  header_style="bold")
    for info in infos:
        table.add_row(info.name, f"{info.songs:,}", f"{info.train_songs:,}",
                      f"{info.val_songs:,}", f"{info.words:,}",
                      f"{info.report.get('skipped_count', 0):,}",
                      str(info.source.get("format", "")), info.created[:10])
    out_console().print(table)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from smartlap.store.datasets import get_dataset

    info = get_dataset(args.name)
    if args.json:
        print_json(info.to_dict())
        return 0
    _print_report(info, f"dataset [bold]{info.name}[/]")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    import sys

    from smartlap.store.datasets import delete_dataset, get_dataset

    info = get_dataset(args.name)
    if info.name == "demo":
        delete_dataset(info.name)  # refuses with a hint
    if not args.yes:
        if args.json or not sys.stdin.isatty():
            raise UsageError(f"Deleting {info.name!r} needs confirmation.",
                             f"Run 'smartlap datasets delete {info.name} --yes'.")
        answer = input(f"Delete dataset {info.name!r} ({info.songs} songs)? [y/N] ")
        if answer.strip().lower() not in ("y", "yes", "j", "ja"):
            out_console().print("Nothing deleted.")
            return 1
    delete_dataset(info.name)
    if args.json:
        print_json({"action": "deleted", "dataset": info.to_dict()})
        return 0
    out_console().print(f"Deleted dataset [bold]{info.name}[/].")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from smartlap.store.datasets import export_dataset, export_format_for

    fmt = export_format_for(args.to, args.fmt)
    count = export_dataset(args.name, args.to, fmt, force=args.force)
    if args.json:
        print_json({"action": "exported", "dataset": args.name, "path": str(args.to),
                    "format": fmt, "songs": count})
        return 0
    out_console().print(f"Wrote {count:,} songs from [bold]{args.name}[/] to {args.to} ({fmt}).")
    return 0
