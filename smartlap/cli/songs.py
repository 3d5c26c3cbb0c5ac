"""`smartlap songs list|show|export`: the songbook the studio writes, from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("songs", help="list, show and export songs in the songbook",
                                   description="The songs written in the studio's Write screen.")
    verbs = parser.add_subparsers(dest="songs_command", metavar="ACTION")

    listing = verbs.add_parser("list", help="list the songs, most recent first")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)

    show = verbs.add_parser("show", help="print one song")
    show.add_argument("slug", help="the song's name in the songbook (see 'songs list')")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=_show)

    export = verbs.add_parser("export", help="write a song to a .txt or .md file")
    export.add_argument("slug", help="the song's name in the songbook")
    export.add_argument("to", type=Path, help="target file (.txt or .md) or directory")
    export.add_argument("--format", choices=("txt", "md"), default=None,
                        help="override the format chosen from the file suffix")
    export.set_defaults(func=_export)
    parser.set_defaults(func=lambda args: _list(argparse.Namespace(json=False)))


def _list(args: argparse.Namespace) -> int:
    from smartlap.cli.console import out_console, print_json
    from smartlap.store.songbook import list_songs

    songs = list_songs()
    if args.json:
        print_json([{k: v for k, v in s.to_dict().items() if k != "lyrics"} for s in songs])
        return 0
    console = out_console()
    if not songs:
        console.print("The songbook is empty. Open the studio ('smartlap') to write a song.")
        return 0
    from rich.table import Table

    table = Table("name", "title", "style", "lines", "updated", box=None)
    for song in songs:
        table.add_row(song.slug, song.title, song.style or "-", str(song.line_count),
                      song.updated.replace("T", " ")[:16])
    console.print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    from smartlap.cli.console import out_console, print_json
    from smartlap.store.songbook import open_song

    song = open_song(args.slug)
    if args.json:
        print_json(song.to_dict())
        return 0
    console = out_console()
    console.print(f"[bold]{song.title}[/]" + (f"  [dim]({song.style})[/]" if song.style else ""))
    console.print()
    console.print(song.lyrics, markup=False)
    return 0


def _export(args: argparse.Namespace) -> int:
    from smartlap.cli.console import out_console
    from smartlap.store.songbook import export_song

    written = export_song(args.slug, args.to, args.format)
    out_console().print(f"Exported to {written}", markup=False)
    return 0
