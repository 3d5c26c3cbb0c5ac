"""`smartlap models`: list, show, pull, add, rename and delete models."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from smartlap.cli.console import (
    err_console,
    out_console,
    print_damaged,
    print_json,
    progress_bar,
)
from smartlap.units import human_bytes, human_params


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list, pull, add and manage models",
        description="The bundled model, models pulled from the Hugging Face hub, local "
        "folders and fine-tuned checkpoints.")
    verbs = parser.add_subparsers(dest="models_command", metavar="ACTION",
                                  parser_class=type(parser))
    parser.set_defaults(func=lambda args: run_list(argparse.Namespace(json=False)))

    lst = verbs.add_parser("list", help="list the models")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="architecture, size, origin and training results")
    show.add_argument("name", metavar="NAME", help="model name, hub id or folder")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_show)

    pull = verbs.add_parser("pull", help="download a model from the Hugging Face hub")
    pull.add_argument("hub_id", metavar="ID", nargs="?",
                      help="hub id, e.g. GroNLP/gpt2-small-dutch (see --list)")
    pull.add_argument("--name", help="name in smartlap (default: the part after '/')")
    pull.add_argument("--revision", help="branch, tag or commit on the hub")
    pull.add_argument("--allow-pickle", action="store_true",
                      help="accept pickled .bin weights (converted to safetensors once)")
    pull.add_argument("--force", action="store_true", help="replace a model with that name")
    pull.add_argument("--list", action="store_true", help="show the catalog of seed models")
    pull.add_argument("--json", action="store_true", help="print JSON")
    pull.set_defaults(func=run_pull)

    add = verbs.add_parser("add", help="register a local Hugging Face model folder")
    add.add_argument("path", metavar="PATH", type=Path, help="folder with config.json, "
                     "model.safetensors and tokenizer files")
    add.add_argument("--name", help="name in smartlap (default: the folder name)")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--copy", dest="transfer", action="store_const", const="copy",
                     help="copy the files into the data home (default)")
    how.add_argument("--link", dest="transfer", action="store_const", const="link",
                     help="only remember where the folder is")
    add.add_argument("--force", action="store_true", help="replace a model with that name")
    add.add_argument("--json", action="store_true", help="print the added model as JSON")
    add.set_defaults(func=run_add, transfer="copy")

    rename = verbs.add_parser("rename", help="rename a model")
    rename.add_argument("old", metavar="NAME")
    rename.add_argument("new", metavar="NEW_NAME")
    rename.add_argument("--json", action="store_true", help="print the renamed model as JSON")
    rename.set_defaults(func=run_rename)

    delete = verbs.add_parser("delete", help="delete a model (linked folders are kept)")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--json", action="store_true", help="print the deleted model as JSON")
    delete.set_defaults(func=run_delete)


def run_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from smartlap.store.models import DEFAULT_MODEL, scan_models

    listing = scan_models()
    infos = listing.entries
    print_damaged(listing.damaged)
    if args.json:
        print_json([info.to_dict() for info in infos])
        return 0
    console = out_console()
    if not infos:
        console.print("No models yet. Pull one with 'smartlap models pull "
                      "GroNLP/gpt2-small-dutch' or add a folder with 'smartlap models add PATH'.")
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("name", "origin", "architecture", "params", "context", "size"):
        table.add_column(column, justify="right" if column in ("params", "context", "size")
                         else "left")
    for info in infos:
        marker = " (default)" if info.name == DEFAULT_MODEL else ""
        table.add_row(info.name + marker, info.origin, info.architecture or "?",
                      human_params(info.params), str(info.context_length or "-"),
                      human_bytes(info.size_bytes))
    console.print(table)
    return 0


def _show_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("name", data["name"]), ("origin", data["origin"]),
        ("architecture", data.get("architecture") or "?"),
        ("model type", data.get("model_type") or "?"),
        ("parameters", f"{data['params']:,}" if data.get("params") else "-"),
        ("vocabulary", f"{data['vocab_size']:,}" if data.get("vocab_size") else "-"),
        ("context length", str(data.get("context_length") or "-")),
        ("dtype", data.get("dtype") or "-"),
        ("weights", data.get("weights") or "missing"),
        ("size on disk", human_bytes(data.get("size_bytes"))),
        ("path", data["path"] + (" (linked)" if data.get("linked") else "")),
    ]
    for key in ("hub_id", "base", "dataset"):
        if data.get(key):
            rows.append((key.replace("_", " "), str(data[key])))
    if data.get("created"):
        rows.append(("added", time.strftime("%Y-%m-%d %H:%M", time.localtime(data["created"]))))
    return rows


def run_show(args: argparse.Namespace) -> int:
    from smartlap.store.models import get_model

    info = get_model(args.name)
    data = info.to_dict()
    if args.json:
        print_json(data)
        return 0
    console = out_console()
    for key, value in _show_rows(data):
        console.print(f"[bold]{key:<15}[/] {value}", markup=True)
    training = info.training
    if training:
        console.print("[bold]training[/]")
        for key, value in training.items():
            shown = value if not isinstance(value, (dict, list)) else _compact(value)
            console.print(f"  {key:<13} {shown}")
    return 0


def _compact(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def run_pull(args: argparse.Namespace) -> int:
    from smartlap.lm.catalog import CATALOG

    if args.list or not args.hub_id:
        if args.json:
            print_json([entry.to_dict() for entry in CATALOG])
            return 0
        console = out_console()
        for entry in CATALOG:
            console.print(f"[bold]{entry.hub_id}[/]  {entry.architecture}, "
                          f"{entry.params / 1e6:.0f}M params, ~{entry.download_mb} MB, "
                          f"{entry.language}, licence: {entry.licence}")
            console.print(f"    {entry.notes}")
            console.print(f"    memory: {entry.memory_guide}")
        if not args.hub_id and not args.list:
            console.print("\nPull one with 'smartlap models pull ID'.")
        return 0
    from smartlap.lm.hub import pull

    info = pull(args.hub_id, args.name, revision=args.revision, allow_pickle=args.allow_pickle,
                force=args.force, progress=not args.json)
    if args.json:
        print_json(info.to_dict())
    else:
        out_console().print(f"Pulled [bold]{info.name}[/] ({human_params(info.params)} params) "
                            f"from {args.hub_id}.")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from smartlap.store.models import register_model

    if args.json or args.transfer != "copy":
        info = register_model(args.path, args.name, origin="local", transfer=args.transfer,
                              force=args.force)
    else:
        with progress_bar("copying", "files") as progress:
            info = register_model(args.path, args.name, origin="local", transfer="copy",
                                  force=args.force, progress=progress)
    if args.json:
        print_json({"action": "added", "model": info.to_dict()})
        return 0
    how = "linked" if args.transfer == "link" else "copied"
    out_console().print(f"Added [bold]{info.name}[/] ({info.architecture}, "
                        f"{human_params(info.params)} params, {how}).")
    if info.weights == "pickle":
        err_console().print("[yellow]note:[/] this model has pickled weights only; loading "
                            "it needs --allow-pickle.")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    from smartlap.store.models import rename_model

    info = rename_model(args.old, args.new)
    if args.json:
        print_json({"action": "renamed", "from": args.old, "model": info.to_dict()})
        return 0
    out_console().print(f"Renamed {args.old} to [bold]{info.name}[/].")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from smartlap.store.models import delete_model

    info = delete_model(args.name)
    if args.json:
        print_json({"action": "deleted", "model": info.to_dict(),
                    "folder_kept": bool(info.linked)})
        return 0
    extra = ""
    if info.linked:
        extra = f" (the folder {info.path} was left alone)"
    out_console().print(f"Deleted {info.name}{extra}.")
    return 0
