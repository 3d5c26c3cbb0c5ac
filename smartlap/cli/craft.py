"""`smartlap craft`: syllables, rhyming words and rhyme schemes from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smartlap.cli.console import out_console, print_json
from smartlap.errors import InputError, UsageError
from smartlap.fsutil import read_capped, read_user_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "craft", help="Dutch syllables, rhymes and rhyme schemes",
        description="Songwriting help for Dutch lyrics: count syllables, find rhyming words, "
        "show a song's rhyme scheme.")
    verbs = parser.add_subparsers(dest="craft_command", metavar="ACTION",
                                  parser_class=type(parser))
    parser.set_defaults(func=lambda args: _help(parser))

    syl = verbs.add_parser("syllables", help="count the syllables of a word or line")
    syl.add_argument("text", nargs="+", metavar="TEXT", help="word(s) or a line")
    syl.add_argument("--json", action="store_true", help="print JSON")
    syl.set_defaults(func=run_syllables)

    rhy = verbs.add_parser("rhymes", help="words that rhyme with WORD, most used first",
                           description="Words of the whole Dutch language that rhyme perfectly "
                           "with WORD, commonest first (real word frequencies), with their "
                           "syllables; or only the words of a dataset, ranked by how often they "
                           "occur there, or of a model's vocabulary, ranked by how likely it "
                           "finds them at the end of a line.")
    rhy.add_argument("word", metavar="WORD")
    source = rhy.add_mutually_exclusive_group()
    source.add_argument("--dataset", "-d", metavar="D", help="rank by frequency in this dataset")
    source.add_argument("--model", "-m", metavar="M", help="rank by likelihood under this model")
    rhy.add_argument("--loose", action="store_true",
                     help="also near rhymes: n-deletion (alle/wallen), then assonance")
    rhy.add_argument("--syllables", "-s", type=int, metavar="N",
                     help="only rhymes of N syllables")
    rhy.add_argument("--limit", "-n", type=int, default=20, metavar="N",
                     help="show at most N words (default 20)")
    rhy.add_argument("--device", help="device for --model: auto (default), cpu, cuda, mps")
    rhy.add_argument("--json", action="store_true", help="print JSON")
    rhy.set_defaults(func=run_rhymes)

    sch = verbs.add_parser("scheme", help="each line with its syllables and rhyme letter",
                           description="Show every line of a lyrics file with its syllable "
                           "count and rhyme letter ('-' = blank or unrhymed). FILE '-' reads "
                           "standard input.")
    sch.add_argument("file", metavar="FILE")
    sch.add_argument("--json", action="store_true", help="print JSON")
    sch.set_defaults(func=run_scheme)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# --- syllables ---------------------------------------------------------------------------------

def run_syllables(args: argparse.Namespace) -> int:
    from smartlap.craft import syllables
    from smartlap.craft.syllables import tokens, word_syllables

    text = " ".join(args.text)
    words = [{"word": tok, "syllables": word_syllables(tok)} for tok in tokens(text)]
    total = syllables(text)
    if args.json:
        print_json({"text": text, "syllables": total, "words": words})
        return 0
    console = out_console()
    if len(words) > 1:
        detail = "  ".join(f"{w['word']} {w['syllables']}" for w in words)
        console.print(f"[bold]{total}[/] syllables  [dim]{detail}[/]", highlight=False)
    else:
        console.print(f"[bold]{total}[/]", highlight=False)
    return 0


# --- rhymes --------------------------------------------------------------------------------------

def run_rhymes(args: argparse.Namespace) -> int:
    from smartlap.craft import rhyme_key
    from smartlap.craft.dictionary import check_word, rhymes_on

    if args.limit < 1:
        raise UsageError("--limit must be at least 1.", "Try --limit 20.")
    if args.syllables is not None and args.syllables < 1:
        raise UsageError("--syllables must be at least 1.", "Try --syllables 2.")
    word = check_word(args.word)
    if args.model:
        ranked, source = _rhymes_by_model(word, args), {"model": args.model}
        label, where = "log-prob", f"model {args.model}"
    elif args.dataset:
        ranked, source = _rhymes_by_dataset(word, args), {"dataset": args.dataset}
        label, where = "uses", f"dataset {args.dataset}"
    else:
        ranked, source = _rhymes_by_dictionary(word, args), {"source": "dictionary"}
        label, where = "zipf", "the Dutch word list"
    ranked = ranked[: args.limit]
    part = rhymes_on(word)
    if args.json:
        print_json({"word": word, "rhyme_key": rhyme_key(word), "rhymes_on": part, **source,
                    "rhymes": [{"word": w, "syllables": n, "quality": q, "score": s}
                               for w, n, q, s in ranked]})
        return 0
    console = out_console()
    if not ranked:
        console.print(f"No rhymes for [bold]{word}[/] in {where}.", highlight=False)
        return 0
    from rich.table import Table
    from rich.text import Text

    if part:
        console.print(f"[bold]{word}[/] rhymes on its last part, [bold]{part}[/].",
                      highlight=False)
    table = Table(title=f"Rhymes for {word} ({where})", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("word")
    table.add_column("syl", justify="right")
    if args.loose:
        table.add_column("rhyme")
    table.add_column(label, justify="right")
    for rank, (w, n, quality, score) in enumerate(ranked, start=1):
        cells = [str(rank), Text(w), str(n)] + ([quality] if args.loose else [])
        table.add_row(*cells, f"{score:.2f}" if isinstance(score, float) else str(score))
    console.print(table)
    return 0


Ranked = list[tuple[str, int, str, Any]]  # word, syllables, quality, score


def _rhymes_by_dictionary(word: str, args: argparse.Namespace) -> Ranked:
    from smartlap.craft.dictionary import dictionary_rhymes

    return [(r.word, r.syllables, r.quality, r.zipf)
            for r in dictionary_rhymes(word, loose=args.loose, syllables=args.syllables)]


def _graded(word: str, vocabulary: Any, args: argparse.Namespace) -> list[tuple[str, int, str]]:
    """The words of ``vocabulary`` that rhyme with ``word`` (perfect, or near with --loose)."""
    from smartlap.craft.rhyme import rhyming_words
    from smartlap.craft.syllables import word_syllables

    found: list[tuple[str, int, str]] = []
    for norm, quality in rhyming_words(word, vocabulary, loose=args.loose):
        count = word_syllables(norm)
        if args.syllables is None or count == args.syllables:
            found.append((norm, count, quality))
    return found


def _rhymes_by_dataset(word: str, args: argparse.Namespace) -> Ranked:
    from smartlap.craft.rhyme import QUALITIES, word_counts
    from smartlap.store.datasets import iter_songs

    counts = word_counts(song.lyrics for song in iter_songs(args.dataset))
    found = _graded(word, (w for w, _ in counts.most_common()), args)
    found.sort(key=lambda item: QUALITIES.index(item[2]))  # stable: by count within a grade
    return [(w, n, q, counts[w]) for w, n, q in found]


def _rhymes_by_model(word: str, args: argparse.Namespace) -> Ranked:
    from smartlap.lm.constrained import vocabulary_words, word_logprobs
    from smartlap.lm.loading import load_model

    loaded = load_model(args.model, device=args.device, lean=True)  # it only scores words
    found = _graded(word, vocabulary_words(loaded), args)
    scores = word_logprobs(loaded, [w for w, _, _ in found])
    ranked = [(w, n, q, scores[w]) for w, n, q in found]
    return sorted(ranked, key=lambda item: item[3], reverse=True)


# --- scheme --------------------------------------------------------------------------------------

def _read_lyrics(value: str) -> str:
    try:
        if value == "-":
            data = read_capped(sys.stdin.buffer, what="song's lyrics")
        else:
            data = read_user_file(Path(value).expanduser(), what="lyrics file")
    except FileNotFoundError:
        raise InputError(f"{value}: no such file.",
                         "Check the path, or use '-' for stdin.") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{value} looks like a binary file, not lyrics.",
                         "Give a plain text file (UTF-8).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{value} is not UTF-8 or Windows-1252 text.",
                     "Save it as UTF-8 and try again.")  # pragma: no cover - cp1252 rarely fails


def run_scheme(args: argparse.Namespace) -> int:
    from smartlap.craft.chordpro import sung_line
    from smartlap.craft.scheme import is_section_marker, scheme_letters
    from smartlap.craft.syllables import syllables

    lines = _read_lyrics(args.file).splitlines()
    letters = scheme_letters(lines)
    rows = []
    for number, (text, letter) in enumerate(zip(lines, letters, strict=True), start=1):
        sung = sung_line(text)  # ChordPro chords and directives are not sung
        rows.append({"line": number, "text": text, "sung": sung,
                     "syllables": 0 if is_section_marker(sung) else syllables(sung),
                     "rhyme": letter})
    if args.json:
        print_json({"file": args.file, "scheme": "".join(letters), "lines": rows})
        return 0
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(args.file) if args.file != "-" else None, title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("line")
    table.add_column("syl", justify="right")
    table.add_column("rhyme", justify="center", style="bold")
    for row in rows:
        blank = not row["sung"].strip() or is_section_marker(row["sung"])
        table.add_row(str(row["line"]), Text(row["text"]),
                      "" if blank else str(row["syllables"]),
                      "" if blank else row["rhyme"])
    console = out_console()
    console.print(table)
    return 0
