"""`smartlap runs`: list, show, follow and cancel training runs.

``tail`` follows ``runs/<id>/events.jsonl`` with ``run_summary.LogFold`` (a progress bar for
the current epoch, one table row per finished epoch) until the run ends or its process dies,
folding only the new lines of each poll into the run's ``RunSummary``;
``--json`` prints the raw event lines instead. ``EventView`` is shared with ``smartlap
train``, so a run looks the same whether it is watched live or followed later.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from smartlap import events
from smartlap.cli.console import (
    err_console,
    out_console,
    print_damaged,
    print_json,
    print_json_line,
)
from smartlap.units import format_duration, format_memory, one_line, table_cell

POLL_SECONDS = 0.25


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("runs", help="list, follow and cancel training runs")
    verbs = parser.add_subparsers(dest="runs_command", metavar="ACTION")

    listing = verbs.add_parser("list", help="all runs, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="a run's config, status and epochs")
    show.add_argument("run", metavar="RUN")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--samples", action="store_true",
                      help="every epoch's fixed-prompt sample beside its losses")
    show.set_defaults(func=run_show)

    tail = verbs.add_parser("tail", help="follow a run live (progress bar and epoch table)")
    tail.add_argument("run", metavar="RUN")
    tail.add_argument("--json", action="store_true", help="print the raw events as JSON lines")
    tail.add_argument("--no-follow", action="store_true",
                      help="print what is there and stop, even if the run is still going")
    tail.set_defaults(func=run_tail)

    cancel = verbs.add_parser("cancel", help="stop a run; it saves state and can be resumed")
    cancel.add_argument("run", metavar="RUN")
    cancel.add_argument("--force", action="store_true", help="send SIGTERM instead of SIGINT")
    cancel.add_argument("--wait", action="store_true", help="wait until the process has ended")
    cancel.add_argument("--json", action="store_true", help="print the outcome as JSON")
    cancel.set_defaults(func=run_cancel)
    parser.set_defaults(func=lambda args: run_list(argparse.Namespace(json=False)))


def run_list(args: argparse.Namespace) -> int:
    from smartlap.store.runs import scan_runs

    listing = scan_runs()
    found = listing.entries
    print_damaged(listing.damaged)
    if args.json:
        print_json([run.to_dict() for run in found])
        return 0
    console = out_console()
    if not found:
        if not listing.damaged:
            console.print("No runs yet. Start one with 'smartlap train --model M --dataset D'.")
        return 0
    table = Table()
    # The run id is the handle every other command needs: never cut it; the rest may wrap.
    table.add_column("run", no_wrap=True, min_width=max(len(run.id) for run in found))
    for column in ("status", "model", "dataset", "output", "epoch", "best val loss"):
        table.add_column(column, overflow="fold")
    for run in found:
        config = run.config
        epoch = f"{run.epoch or 0}/{run.epochs or '?'}"
        table.add_row(run.id, run.status + (" (resumable)" if run.resumable else ""),
                      str(config.get("model") or config.get("preset") or "-"),
                      str(config.get("dataset", "-")), str(config.get("name") or "-"), epoch,
                      table_cell(run.best_val_loss, 4))
    console.print(table)
    return 0


def epoch_table(run_events: list[events.Event]) -> Table:
    table = Table("epoch", "train loss", "val loss", "perplexity", "seconds", "tokens/s",
                  "memory MB", "best", title="Epochs")
    for row in events.epoch_rows(run_events):
        table.add_row(*_epoch_cells(row))
    return table


def _epoch_cells(row: events.EpochRow) -> list[str]:
    return [str(row.epoch), table_cell(row.train_loss, 4), table_cell(row.val_loss, 4),
            table_cell(row.perplexity, 2), table_cell(row.seconds, 1),
            table_cell(row.tokens_per_s, 0), f"{row.memory_mb:.0f}", "*" if row.best else ""]


def run_show(args: argparse.Namespace) -> int:
    from smartlap.store.runs import get_run, read_run_events

    run = get_run(args.run)
    run_events = read_run_events(run.id)
    _warn_unreadable(run)
    if getattr(args, "samples", False):
        return _show_samples(run, run_events, as_json=args.json)
    if args.json:
        print_json({**run.to_dict(), "events": [e.to_dict() for e in run_events]})
        return 0
    console = out_console()
    console.print(f"[bold]{run.id}[/]  {run.status}" + ("  (resumable: smartlap train "
                                                         f"--resume {run.id})"
                                                         if run.resumable else ""))
    for key in ("model", "preset", "dataset", "name", "mode", "epochs", "lr", "batch_size",
                "grad_accum", "block_size", "precision", "seed"):
        if run.config.get(key) is not None:
            console.print(f"  {key:<11} {run.config[key]}")
    if run.message:
        console.print(f"[red]failed:[/] {run.message}")
    console.print(epoch_table(run_events))
    samples = [e for e in run_events if isinstance(e, events.Sample)]
    if samples:
        sample = samples[-1]
        console.print(f"[bold]Sample after epoch {sample.epoch}[/]")
        prompt = sample.prompt.strip().replace("\n", "\n          ")
        console.print(f"  prompt: {prompt or '(none: from the start of a song)'}",
                      style="dim", markup=False, highlight=False)
        text = sample.text.strip().replace("\n", "\n    ")
        console.print(f"  → {text}", markup=False, highlight=False)
    return 0


def _show_samples(run: Any, run_events: list[events.Event], *, as_json: bool) -> int:
    """Each epoch's sample, oldest first: the same prompt and seed, so only training changed."""
    from rich.markup import escape

    from smartlap.store.run_summary import RunSummary

    samples = RunSummary.of(run.id, run_events).epoch_samples()
    if as_json:
        print_json({"run": run.id, "samples": [sample.to_dict() for sample in samples]})
        return 0
    console = out_console()
    if not samples:
        console.print(f"{run.id} has no samples yet: one is written after each epoch.")
        return 0
    console.print(f"[bold]{run.id}[/]: prompt [dim]{escape(samples[0].prompt.strip() or '(none)')}"
                  "[/], same seed every epoch")
    for sample in samples:
        losses = (f"train {table_cell(sample.train_loss, 4)}, "
                  f"val {table_cell(sample.val_loss, 4)}" + (", best" if sample.best else ""))
        console.print(f"\n[bold]Epoch {sample.epoch}[/] [dim]({losses})[/]")
        console.print(f"[dim]{escape(sample.prompt)}[/]{escape(sample.text)}", highlight=False)
    return 0


def _warn_unreadable(run: Any) -> None:
    if run.unreadable_events:
        count = run.unreadable_events
        err_console().print(f"[yellow]warning:[/] {count} unreadable line{'s' if count > 1 else ''}"
                            f" in {run.events_path} skipped", highlight=False, soft_wrap=True)


class EventView:
    """Render run events on a terminal: progress bar per epoch, a line per epoch."""

    def __init__(self) -> None:
        self.console = out_console()
        # The detail carries the run's own ETA (all epochs left), not rich's per-bar guess.
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TaskProgressColumn(), TextColumn("{task.fields[detail]}"),
                                 console=self.console, transient=True)
        self.task: Any = None
        self.header_shown = False

    def __enter__(self) -> EventView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _print(self, *parts: Any, **kwargs: Any) -> None:
        self.progress.console.print(*parts, **kwargs)

    def show(self, event: events.Event) -> None:
        if isinstance(event, events.RunStarted):
            resumed = (f", resumed at epoch {event.resumed_from_epoch}"
                       if event.resumed_from_epoch else "")
            self._print(f"[bold]run {event.run_id}[/]: {event.model} on {event.dataset} "
                        f"({event.device}; {event.params:,} parameters, "
                        f"{event.trainable_params or 0:,} trainable{resumed})")
        elif isinstance(event, events.Step):
            description = f"epoch {event.epoch}"
            detail = step_detail(event)
            if self.task is None:
                self.task = self.progress.add_task(description, total=event.total_steps,
                                                   detail=detail)
            self.progress.update(self.task, completed=event.step, total=event.total_steps,
                                 description=description, detail=detail)
        elif isinstance(event, events.EpochEnd):
            if self.task is not None:
                self.progress.remove_task(self.task)
                self.task = None
            if not self.header_shown:
                self._print("[bold]epoch  train loss  val loss  perplexity  seconds  "
                            "tokens/s  memory MB[/]")
                self.header_shown = True
            cells = _epoch_cells(events.epoch_rows([event])[0])
            left = (f"  ETA {format_duration(event.eta_seconds)}"
                    if event.eta_seconds and event.epoch < (event.epochs or 0) else "")
            self._print(f"{cells[0]:>5}  {cells[1]:>10}  {cells[2]:>8}  {cells[3]:>10}  "
                        f"{cells[4]:>7}  {cells[5]:>8}  {cells[6]:>9} {cells[7]:1}{left}")
        elif isinstance(event, events.Sample):
            self._print(sample_markup(event), highlight=False)
        elif isinstance(event, events.CheckpointSaved) and event.checkpoint == "best":
            self._print(f"[dim]  best so far saved to {event.path}[/]")
        elif isinstance(event, events.RunFinished):
            self._print(f"[green]finished[/]: model {event.model!r} (best epoch "
                        f"{event.best_epoch}, val loss {table_cell(event.best_val_loss, 4)}"
                        f"{', stopped early' if event.stopped_early else ''})")
        elif isinstance(event, events.RunCancelled):
            self._print(f"[yellow]cancelled[/] in epoch {event.epoch}"
                        + ("; resume with 'smartlap train --resume RUN'"
                           if event.resumable else ""))
        elif isinstance(event, events.RunFailed):
            self._print(f"[red]failed[/]: {event.message}")


def step_detail(event: events.Step) -> str:
    """'loss 3.104  950 tok/s  RAM 812 MB of 15.5 GB  ETA 3m05s' for the live progress bar."""
    parts = [f"loss {event.loss:.3f}", f"{event.tokens_per_s:,.0f} tok/s"]
    if event.memory:
        parts.append(format_memory(event.memory))
    if event.eta_seconds is not None:
        parts.append(f"ETA {format_duration(event.eta_seconds)}")
    return "  ".join(parts)


def sample_markup(event: events.Sample) -> str:
    """The epoch's sample: the prompt it continues (dim), then what the model wrote."""
    prompt = one_line(event.prompt, 100)
    shown = f'"{escape(prompt)}"' if prompt else "(no prompt: from the start of a song)"
    return (f"[dim]  sample after epoch {event.epoch}, prompt {shown}[/]\n"
            f"  [dim]→[/] {escape(one_line(event.text, 200)) or '[dim](nothing)[/]'}")


def run_tail(args: argparse.Namespace) -> int:
    """Follow a run: each poll reads only the new lines and folds them into the run's
    summary; whether it still runs comes from that summary and run.json's process record."""
    from smartlap.store.run_summary import LogFold
    from smartlap.store.runs import get_run, live_status

    run = get_run(args.run)
    _warn_unreadable(run)
    fold = LogFold(run.id, run.events_path)
    ended = None
    with (EventView() if not args.json else _NoView()) as view:

        def show(new: list[events.Event]) -> None:
            for event in new:
                print_json_line(event.to_dict()) if args.json else view.show(event)

        while True:
            new = fold.poll()
            show(new)
            ended = next((e.kind for e in reversed(new)
                          if e.kind in events.TERMINAL_RUN_EVENTS), ended)
            if args.no_follow or (ended and live_status(run.id, fold.summary) != "running"):
                break
            if ended is None and live_status(run.id, fold.summary) not in {"running",
                                                                             "starting"}:
                show(fold.poll())  # anything written just before the process ended
                break
            time.sleep(POLL_SECONDS)
    final = get_run(run.id)
    if not args.json and final.status == "interrupted":
        out_console().print("[yellow]the run's process is gone without finishing[/]"
                            + (f"; resume with 'smartlap train --resume {run.id}'"
                               if final.resumable else ""))
    return 1 if final.status == "failed" else 0


class _NoView:
    def __enter__(self) -> _NoView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def show(self, event: events.Event) -> None:
        return None


def run_cancel(args: argparse.Namespace) -> int:
    from smartlap.store.processes import wait_for_exit
    from smartlap.store.runs import cancel_run

    run = cancel_run(args.run, force=args.force)
    stopped = None if not args.wait else not run.process or wait_for_exit(run.process, 600)
    if getattr(args, "json", False):
        print_json({"action": "cancel_requested", "run": run.to_dict(),
                    "signal": "SIGTERM" if args.force else "SIGINT", "stopped": stopped})
        return 1 if stopped is False else 0
    console = out_console()
    console.print(f"asked run {run.id} (pid {run.pid}) to stop; it saves its state first.")
    if stopped is False:
        console.print("[yellow]the run is still stopping.[/]")
        return 1
    return 0
