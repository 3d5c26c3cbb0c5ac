"""`smartlap songs list|show|export|restore`: the songbook the studio writes, from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("songs", help="list, show, export and restore songs",
                                   description="The songs written in the studio's Write screen.")
    verbs = parser.add_subparsers(dest="songs_command", metavar="ACTION")

    listing = verbs.add_parser("list", help="list the songs, most recent first")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_list)

    show = verbs.add_parser("show", help="print one song")
    show.add_argument("slug", help="the song's name in the songbook (see 'songs list')")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=_show)

    export = verbs.add_parser("export", help="write a song to a .txt, .md or ChordPro file")
    export.add_argument("slug", help="the song's name in the songbook")
    export.add_argument("to", type=Path, help="target file (.txt, .md, .cho) or directory")
    export.add_argument("--format", choices=("txt", "md", "chordpro"), default=None,
                        help="override the format chosen from the file suffix (txt and md "
                        "put ChordPro chords on a line above their words)")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.add_argument("--json", action="store_true", help="print what was written as JSON")
    export.set_defaults(func=_export)

    restore = verbs.add_parser(
        "restore", help="list a song's kept versions, or bring one back",
        description="The songbook keeps the last versions of every song (deleted ones too). "
                    "Without VERSION the versions are listed, newest (1) first.")
    restore.add_argument("slug", nargs="?", default=None,
                         help="the song's name; omitted: list the songs that have versions")
    restore.add_argument("version", nargs="?", type=int, default=None,
                         help="the version number to restore (see the listing)")
    restore.add_argument("--json", action="store_true", help="machine-readable output")
    restore.set_defaults(func=_restore)
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
    from smartlap.cli.console import out_console, print_json
    from smartlap.store.songbook import export_song

    written = export_song(args.slug, args.to, args.format, force=args.force)
    if getattr(args, "json", False):
        print_json({"action": "exported", "song": args.slug, "path": str(written),
                    "format": args.format or Path(written).suffix.lstrip(".")})
        return 0
    out_console().print(f"Exported to {written}", markup=False)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from smartlap.cli.console import out_console, print_json
    from smartlap.store import songbook

    console = out_console()
    if args.slug is None:
        present = {s.slug for s in songbook.list_songs()}
        rows = [{"slug": slug, "versions": len(songbook.list_versions(slug)),
                 "deleted": slug not in present} for slug in songbook.songs_with_history()]
        if args.json:
            print_json(rows)
        elif not rows:
            console.print("No song has kept versions yet: they are kept as songs are saved.")
        else:
            for row in rows:
                gone = "  (deleted)" if row["deleted"] else ""
                count = row["versions"]
                plural = "s" if count != 1 else ""
                console.print(f"{row['slug']}  {count} version{plural}{gone}", markup=False)
        return 0
    if args.version is None:
        versions = songbook.list_versions(args.slug)
        if args.json:
            print_json([v.to_dict() for v in versions])
            return 0
        if not versions:
            console.print(f"The song '{args.slug}' has no kept versions.", markup=False)
            return 0
        from rich.table import Table

        table = Table("version", "saved", "title", "lines", "first line", box=None)
        for version in versions:
            table.add_row(str(version.number), version.saved.replace("T", " ")[:16],
                          version.song.title, str(version.song.line_count), version.first_line)
        console.print(table)
        console.print(f"Restore one with: smartlap songs restore {args.slug} VERSION",
                      markup=False)
        return 0
    song = songbook.restore_version(args.slug, args.version)
    if args.json:
        print_json({k: v for k, v in song.to_dict().items() if k != "lyrics"})
    else:
        console.print(f"Restored version {args.version} of {song.title} as {song.slug}; "
                      "the text it replaced is kept as a version too.", markup=False)
    return 0
