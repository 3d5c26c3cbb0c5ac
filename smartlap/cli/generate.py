"""`smartlap generate`: stream lyrics from a model to the terminal (or as JSON lines)."""

from __future__ import annotations

import argparse
import sys
import threading
from contextlib import closing
from typing import TYPE_CHECKING

from smartlap.cli.console import err_console, out_console, print_json_line
from smartlap.cli.options import add_loading_options
from smartlap.errors import InputError, interrupt_exit_code
from smartlap.fsutil import read_capped
from smartlap.limits import MAX_SAMPLES, SEED_MAX, samples_type, seed_type

if TYPE_CHECKING:
    from smartlap.craft.originality import Match
    from smartlap.lm.session import GenerationSession

HEADER_WIDTH = 40


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="generate lyrics with a model, streamed as they are written",
        description="Continue a prompt (or start from nothing) with a model, streaming each "
        "sample to the terminal. Ctrl-C stops. Style sampling defaults apply unless "
        "overridden here.")
    parser.add_argument("--model", "-m", help="model name, hub id or folder "
                        "(default: the bundled smartlap-mini)")
    parser.add_argument("--style", "-s", help="song style (see 'smartlap styles list')")
    parser.add_argument("--prompt", "-p", default="", metavar="TEXT",
                        help="the first lines to continue; '-' reads them from stdin; "
                        "empty = unconditional")
    parser.add_argument("--samples", "-n", type=samples_type,
                        help=f"number of samples (default 1, at most {MAX_SAMPLES})")
    parser.add_argument("--seed", type=seed_type, help="random seed: same seed + settings = "
                        f"same text (0 to {SEED_MAX})")
    parser.add_argument("--temperature", "-t", type=float, help="randomness (0 = greedy)")
    parser.add_argument("--top-k", type=int, help="sample from the k likeliest tokens (0 = off)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling threshold (1 = off)")
    parser.add_argument("--repetition-penalty", type=float, help="> 1 discourages repeats")
    parser.add_argument("--no-repeat-ngram-size", type=int, metavar="N",
                        help="never repeat an N-token sequence (0 = off)")
    parser.add_argument("--max-new-tokens", type=int, metavar="N", help="length limit")
    add_loading_options(parser)
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--no-originality", action="store_true",
                        help="do not check the samples for lines copied from the dataset the "
                        "model was trained on")
    _add_candidate_options(parser)
    parser.set_defaults(func=run)


def _add_candidate_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "next-line candidates", "with any of these, propose next lines that fit instead of "
        "streaming free text")
    group.add_argument("--rhyme-with", metavar="TEXT", help="the line or word to rhyme with")
    group.add_argument("--syllables", type=int, metavar="N", help="syllables in the next line")
    group.add_argument("--candidates", type=int, metavar="N",
                       help="how many candidate lines to sample and score (default 16)")


def read_prompt(value: str) -> str:
    if value != "-":
        return value
    try:
        return read_capped(sys.stdin.buffer, what="prompt").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("The prompt on stdin is not UTF-8 text.",
                         "Save it as UTF-8, or pass it with --prompt TEXT.") from None


def _settings(args: argparse.Namespace, style):
    from smartlap.lm.session import GenerationSession

    return GenerationSession.settings(
        style, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        no_repeat_ngram_size=args.no_repeat_ngram_size, max_new_tokens=args.max_new_tokens,
        seed=args.seed, samples=args.samples)


def run(args: argparse.Namespace) -> int:
    from smartlap.styles import get_style

    prompt = read_prompt(args.prompt)
    style = get_style(args.style) if args.style else None
    settings = _settings(args, style)  # bad options fail before the slow model load
    if not args.json:
        err_console().print(f"[dim]loading {args.model or 'the default model'}…[/]")
    from smartlap.lm.session import GenerationSession

    session = GenerationSession.open(args.model, device=args.device, precision=args.precision,
                                     trust_remote_code=args.trust_remote_code,
                                     allow_pickle=args.allow_pickle)
    if session.demo_notice:  # a process generates once: said once
        err_console().print(f"[yellow]note:[/] {session.demo_notice}", highlight=False,
                            soft_wrap=True)
    if args.rhyme_with is not None or args.syllables is not None or args.candidates is not None:
        return _run_candidates(args, session, prompt, settings, style)
    stop = threading.Event()
    check = not args.no_originality  # the check itself is built after the first sample
    try:
        if args.json:
            _stream_json(session, prompt, settings, stop, style, check)
        else:
            _stream_text(session, prompt, settings, stop, style, check)
    except KeyboardInterrupt as interrupt:
        stop.set()
        if not args.json:
            sys.stdout.write("\n")
            err_console().print("[yellow]stopped.[/]")
        return interrupt_exit_code(interrupt)
    return 0


def copies_block(matches: list[Match], dataset: str | None) -> list[str]:
    """Rich markup lines that flag a sample's copied lines (empty when there are none)."""
    from rich.markup import escape

    if not matches:
        return []
    count = f"{len(matches)} line{'s' if len(matches) != 1 else ''}"
    lines = [f"[bold yellow]copied from training data[/] [yellow]({escape(dataset or '?')}): "
             f"{count}[/]"]
    for match in matches:
        title = f"  [dim]“{escape(match.title)}”[/]" if match.title else ""
        if match.kind == "copied":
            lines.append(f"[yellow]  = {escape(match.line)}[/]{title}")
        else:
            lines.append(f"[yellow]  ≈ {escape(match.line)}[/]  [dim]{match.similarity:.0%} "
                         f"like “{escape(match.source)}”[/]{title}")
    return lines


def _stream_json(session: GenerationSession, prompt, settings, stop, style,
                 check: bool) -> None:
    from smartlap.events import SampleEnd

    skipped_told = False
    # closing: a Ctrl+C while printing ends the stream (and joins its decode thread) here and
    # now; generation's exit guard is only the backstop
    with closing(session.stream(prompt, settings, stop=stop, style=style)) as events:
        for event in events:
            if isinstance(event, SampleEnd) and check:
                copies = session.copy_check
                matches = copies.matches(event.text or "", prompt)
                event.notes.extend(match.describe(copies.dataset) for match in matches)
                if copies.skipped and not skipped_told:
                    event.notes.append(copies.skipped)
                    skipped_told = True
            print_json_line(event.to_dict())


def _stream_text(session: GenerationSession, prompt, settings, stop, style,
                 check: bool) -> None:
    from smartlap.events import SampleEnd

    console = out_console()
    errors = err_console()
    shown_prompt = prompt.strip().replace("\n", " / ") if prompt.strip() else "(unconditional)"
    console.print(f"Model prompt >>> {shown_prompt}", markup=False)
    started: set[int] = set()
    total_tokens = 0
    total_seconds = 0.0
    with closing(session.stream(prompt, settings, stop=stop, style=style)) as events:  # as above
        for event in events:
            if event.sample not in started:
                started.add(event.sample)
                bar = "=" * HEADER_WIDTH
                sys.stdout.write(f"{bar} SAMPLE {event.sample} {bar}\n")
            if isinstance(event, SampleEnd):
                total_tokens += event.tokens
                total_seconds += event.seconds
                sys.stdout.write("\n" if not (event.text or "").endswith("\n") else "")
                sys.stdout.flush()
                for note in event.notes:
                    errors.print(f"[yellow]note:[/] {note}", highlight=False)
                if check:
                    copies = session.copy_check
                    matches = copies.matches(event.text or "", prompt)
                    for line in copies_block(matches, copies.dataset):
                        errors.print(line, highlight=False, soft_wrap=True)
                    if copies.skipped and len(started) == 1:
                        errors.print(f"[dim]{copies.skipped}[/]", highlight=False)
                rate = event.tokens / event.seconds if event.seconds > 0 else 0.0
                first = (f", first token {event.time_to_first_token:.2f} s"
                         if event.time_to_first_token is not None else "")
                errors.print(f"[dim]sample {event.sample}: {event.tokens} tokens in "
                             f"{event.seconds:.1f} s ({rate:.1f} tokens/s{first}), "
                             f"ended by {event.reason}[/]")
            else:
                sys.stdout.write(event.text)
                sys.stdout.flush()
    if len(started) > 1 and total_seconds > 0:
        errors.print(f"[dim]{total_tokens} tokens in {total_seconds:.1f} s: "
                     f"{total_tokens / total_seconds:.1f} tokens/s[/]")


def _run_candidates(args, session: GenerationSession, prompt, settings, style) -> int:
    """Propose next lines that fit (rhyme, syllables), best first, with their score parts."""
    candidates = session.next_lines(
        prompt, rhyme_with=args.rhyme_with, syllables=args.syllables,
        candidates=args.candidates, settings=settings, style=style)
    for note in getattr(candidates, "notes", []):
        err_console().print(f"[yellow]note:[/] {note}", highlight=False)
    if args.json:
        for candidate in candidates:
            print_json_line(candidate.to_dict())
        return 0
    console = out_console()
    if not candidates:
        console.print("No candidate lines came out; try a higher --temperature.")
    for rank, c in enumerate(candidates, start=1):
        console.print(f"{rank:>2}. ", end="")
        console.print(c.text, markup=False, end="")
        copied = f", copies {c.source!r}" if c.copied else ""
        console.print(f"  [dim]score {c.score:.2f} = logprob {c.logprob:.2f}, rhyme "
                      f"{c.rhyme:.1f}, {c.syllables} syllables (fit {c.fit:.2f}){copied}[/]",
                      highlight=False)
    return 0
