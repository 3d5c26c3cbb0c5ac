"""The Train screen: the run form (checked field by field), the runs, and their results.

Start launches ``smartlap train`` as a separate process (``store.runs.start_run_process``):
a crash or an out-of-memory there never takes the studio down, and the worker pane follows
the run through its events log like any other run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from smartlap import events
from smartlap.errors import SmartlapError
from smartlap.limits import SEED_MAX, SEED_MIN
from smartlap.tui.dialogs import MarkdownScreen, PromptScreen
from smartlap.tui.messages import RunEventsArrived, StoreChanged
from smartlap.tui.run_state import RunState
from smartlap.tui.view import LateBuiltView, set_choices, show_damaged, unless_torn_down
from smartlap.units import format_duration, format_mb, format_memory, one_line

MODES = ("full", "embeddings", "lora")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def _int(low: int, optional: bool = True,
         high: int | None = None) -> Callable[[str], tuple[Any, str | None]]:
    def parse(text: str) -> tuple[Any, str | None]:
        if not text.strip():
            return (None, None) if optional else (None, "required")
        try:
            value = int(text)
        except ValueError:
            return None, "a whole number"
        if high is not None and not low <= value <= high:
            return None, f"from {low} to {high}"
        return (value, None) if value >= low else (None, f"at least {low}")
    return parse


def _float(example: str, ok: Callable[[float], bool],
           problem: str) -> Callable[[str], tuple[Any, str | None]]:
    def parse(text: str) -> tuple[Any, str | None]:
        if not text.strip():
            return None, None
        try:
            value = float(text)
        except ValueError:
            return None, f"a number such as {example}"
        return (value, None) if ok(value) else (None, problem)
    return parse


_lr = _float("5e-5", lambda v: 0 < v < 1, "between 0 and 1, e.g. 5e-5")
_positive = _float("16", lambda v: v > 0, "above 0")
_fraction = _float("0.05", lambda v: 0 <= v < 1, "from 0 to below 1")


def _name(text: str) -> tuple[Any, str | None]:
    if not text.strip():
        return None, None
    from smartlap.names import validate_name

    try:
        return validate_name(text, "model"), None
    except SmartlapError as error:
        return None, error.message


def _layer_names(text: str) -> tuple[Any, str | None]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        return None, None
    bad = [name for name in names if not name.replace("_", "").isalnum()]
    return (",".join(names), None) if not bad else (None, f"not a layer name: {bad[0]}")


# field id -> (label, flag, parser)
FIELDS: dict[str, tuple[str, str, Callable[[str], tuple[Any, str | None]]]] = {
    "epochs": ("Epochs", "--epochs", _int(1, optional=False)),
    "lr": ("Learning rate", "--lr", _lr),
    "batch_size": ("Batch size", "--batch-size", _int(1)),
    "block_size": ("Block size", "--block-size", _int(8)),
    "patience": ("Patience", "--patience", _int(1)),
    "seed": ("Seed", "--seed", _int(SEED_MIN, high=SEED_MAX)),
    "name": ("Save as", "--name", _name),
}
# Shown (and passed) only when the mode is lora.
LORA_FIELDS: dict[str, tuple[str, str, Callable[[str], tuple[Any, str | None]]]] = {
    "lora_rank": ("LoRA rank", "--lora-rank", _int(1)),
    "lora_alpha": ("LoRA alpha", "--lora-alpha", _positive),
    "lora_dropout": ("LoRA dropout", "--lora-dropout", _fraction),
    "lora_targets": ("LoRA layers", "--lora-targets", _layer_names),
}
LORA_PLACEHOLDERS = {"lora_rank": "8", "lora_alpha": "2 x rank", "lora_dropout": "0.05",
                     "lora_targets": "the model's projections"}


def results_markdown(run: Any, run_events: list[events.Event]) -> str:
    """A run's per-epoch table and samples, from its events."""
    lines = [f"### Run {run.id} — {run.status}", ""]
    config = run.config or {}
    argv = config.get("argv")
    if argv:
        lines += [f"`smartlap train {' '.join(argv)}`", ""]
    epochs = [e for e in run_events if isinstance(e, events.EpochEnd)]
    if epochs:
        from smartlap.lm.train.memory import table_memory_mb

        lines += ["| epoch | train loss | val loss | perplexity | time | memory |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for e in epochs:
            val = f"{e.val_loss:.4f}" if e.val_loss is not None else "–"
            ppl = f"{e.perplexity:.1f}" if e.perplexity is not None else "–"
            lines.append(f"| {e.epoch} | {e.train_loss:.4f} | {val} | {ppl} | "
                         f"{format_duration(e.seconds)} | "
                         f"{format_mb(table_memory_mb(e.memory) or None)} |")
    else:
        lines.append("No epoch has ended yet.")
    samples = [e for e in run_events if isinstance(e, events.Sample)]
    if samples:
        prompt = one_line(samples[-1].prompt, 200)
        lines += ["", "**Samples**", "", "Each continues the prompt " +
                  (f"*“{prompt}”*" if prompt else "*(none: from the start of a song)*") + ":"]
        for s in samples:
            lines += ["", f"*epoch {s.epoch}*", "", "```", s.text.strip(), "```"]
    for e in run_events:
        if isinstance(e, events.RunFailed):
            lines += ["", f"**Failed:** {e.message}" + (f" — {e.hint}" if e.hint else "")]
    return "\n".join(lines)


class RunsTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "results", "Results"),
        Binding("u", "resume", "Resume"),
        Binding("c", "cancel", "Cancel run"),
    ]

    def action_results(self) -> None:
        self.parent_view().action_results()

    def action_resume(self) -> None:
        self.parent_view().action_resume()

    def action_cancel(self) -> None:
        self.parent_view().action_cancel()

    def parent_view(self) -> TrainView:
        return self.query_ancestor(TrainView)


class TrainView(LateBuiltView, Horizontal):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "start", "Start run")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="train-form"):
            with Grid(id="train-grid"):
                yield Label("Model")
                yield Select([], prompt="model", id="train-model", compact=True)
                yield Static("", id="train-model-error", classes="field-error")
                yield Label("Dataset")
                yield Select([], prompt="dataset", id="train-dataset", compact=True)
                yield Static("", id="train-dataset-error", classes="field-error")
                yield Label("Mode")
                yield Select([(m, m) for m in MODES], value="full", allow_blank=False,
                             id="train-mode", compact=True)
                yield Static("", classes="field-error")
                yield Label("Precision")
                yield Select([(p, p) for p in PRECISIONS], value="auto", allow_blank=False,
                             id="train-precision", compact=True)
                yield Static("", classes="field-error")
                for key, (label, _, _) in FIELDS.items():
                    yield Label(label)
                    yield Input(id=f"train-{key}", compact=True)
                    yield Static("", id=f"train-{key}-error", classes="field-error")
                for key, (label, _, _) in LORA_FIELDS.items():
                    yield Label(label, classes="lora-field")
                    yield Input(id=f"train-{key}", compact=True, classes="lora-field",
                                placeholder=LORA_PLACEHOLDERS[key])
                    yield Static("", id=f"train-{key}-error", classes="field-error lora-field")
            yield Button("Start (Ctrl+S)", variant="primary", id="train-start")
        with Vertical(id="train-runs"):
            yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="train-status")
            yield Static("", id="runs-damaged", classes="damaged-note")

    def setup(self) -> None:
        self.query_one(RunsTable).add_columns("run", "model → dataset", "status", "epoch",
                                              "best val")
        self.query_one("#train-epochs", Input).value = "3"
        self._show_lora_fields(False)
        self.refresh_choices()
        self.refresh_runs()

    def focus_first(self) -> None:
        self.query_one("#train-model", Select).focus()

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if not self.is_attached:
            return
        with unless_torn_down():
            if message.kinds & {"models", "datasets"}:
                self.refresh_choices()
            if "runs" in message.kinds:
                self.refresh_runs()

    def refresh_choices(self) -> None:
        """Fill the model and dataset selects; a choice the person made stays chosen."""
        from smartlap.store.models import list_models

        try:
            models = [m.name for m in list_models()]
        except SmartlapError:
            models = []
        set_choices(self.query_one("#train-model", Select), models,
                    models[0] if models else None)
        try:
            from smartlap.store.datasets import list_datasets

            datasets = [d.name for d in list_datasets()]
        except (ImportError, SmartlapError):
            datasets = []
        set_choices(self.query_one("#train-dataset", Select), datasets, "demo")

    @on(Select.Changed, "#train-model")
    def _model_changed(self, event: Select.Changed) -> None:
        """Show the defaults the run will pick for this model's size as placeholders."""
        self.query_one("#train-model-error", Static).update("")
        if event.value is Select.NULL:
            return
        try:
            from smartlap.lm.train.config import LR_BY_MODE, size_defaults
            from smartlap.store.models import get_model

            info = get_model(str(event.value))
            defaults = size_defaults(info.params or 0)
        except (ImportError, SmartlapError):
            return
        mode = str(self.query_one("#train-mode", Select).value)
        lr = LR_BY_MODE.get(mode, defaults.lr_full) if mode != "full" else defaults.lr_full
        self.query_one("#train-lr", Input).placeholder = f"{lr:g}"
        self.query_one("#train-batch_size", Input).placeholder = str(defaults.batch_size)
        block = min(defaults.block_size, info.context_length or defaults.block_size)
        self.query_one("#train-block_size", Input).placeholder = str(block)
        self.query_one("#train-patience", Input).placeholder = "3"
        self.query_one("#train-seed", Input).placeholder = "42"

    def _show_lora_fields(self, shown: bool) -> None:
        for widget in self.query(".lora-field"):
            widget.display = shown

    @on(Select.Changed, "#train-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        self._show_lora_fields(event.value == "lora")

    @on(Select.Changed, "#train-dataset")
    def _dataset_changed(self) -> None:
        self.query_one("#train-dataset-error", Static).update("")

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("train-")
        fields = {**FIELDS, **LORA_FIELDS}
        if key in fields:
            _, problem = fields[key][2](event.value)
            self.query_one(f"#train-{key}-error", Static).update(problem or "")

    def build_argv(self) -> list[str] | None:
        """The `smartlap train` arguments, or None after marking every field that is wrong."""
        argv: list[str] = []
        ok = True
        for key in ("model", "dataset"):
            value = self.query_one(f"#train-{key}", Select).value
            if value is Select.NULL:
                self.query_one(f"#train-{key}-error", Static).update(f"choose a {key}")
                ok = False
            else:
                argv += [f"--{key}", str(value)]
        mode = str(self.query_one("#train-mode", Select).value)
        argv += ["--mode", mode,
                 "--precision", str(self.query_one("#train-precision", Select).value)]
        fields = {**FIELDS, **(LORA_FIELDS if mode == "lora" else {})}
        for key, (_, flag, parse) in fields.items():
            value, problem = parse(self.query_one(f"#train-{key}", Input).value)
            self.query_one(f"#train-{key}-error", Static).update(problem or "")
            if problem:
                ok = False
            elif value is not None:
                argv += [flag, str(value)]
        return argv if ok else None

    @on(Button.Pressed, "#train-start")
    def action_start(self) -> None:
        argv = self.build_argv()
        if argv is None:
            self.app.notify("Fix the marked fields first.", severity="warning")
            return
        self.launch(argv)

    def launch(self, argv: list[str], run_id: str | None = None) -> str | None:
        from smartlap.store.runs import start_run_process

        try:
            run_id = start_run_process(argv, run_id=run_id)
        except SmartlapError as error:
            self.app.show_error(error)
            return None
        except OSError as error:
            self.app.notify(f"Could not start training: {error}", severity="error")
            return None
        self._following = run_id
        self.query_one("#train-status", Static).update(
            f"Started {run_id}: follow it in the pane below.")
        self.refresh_runs()
        return run_id

    _following: str | None = None  # the run this screen started last, until it ends

    def _follow(self, message: RunEventsArrived) -> None:
        """The status line follows the run started here: progress, then how it ended."""
        status = self.query_one("#train-status", Static)
        ended = next((e for e in reversed(message.events)
                      if e.kind in events.TERMINAL_RUN_EVENTS), None)
        if ended is not None:
            self._following = None
            status.update(ended_line(message.run_id, ended))
            return
        from smartlap.tui.widgets.worker_pane import WorkerPane

        state = self.app.query_one(WorkerPane).runs.get(message.run_id)
        if state is not None and state.active and state.epochs:
            status.update(progress_line(state))

    # -- runs -----------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        from smartlap.store.runs import scan_runs

        table = self.query_one(RunsTable)
        selected = self._selected()
        table.clear()
        listing = scan_runs()
        show_damaged(self.query_one("#runs-damaged", Static), listing.damaged)
        for run in listing.entries:
            config = run.config or {}
            argv = config.get("argv") or []
            model = config.get("model") or _flag(argv, "--model") or "?"
            dataset = config.get("dataset") or _flag(argv, "--dataset") or "?"
            epoch = f"{run.epoch or 0}/{run.epochs or _flag(argv, '--epochs') or '?'}"
            best = f"{run.best_val_loss:.3f}" if run.best_val_loss is not None else "–"
            table.add_row(run.id, f"{model} → {dataset}", run.status, epoch, best, key=run.id)
        if selected and selected in {str(k.value) for k in table.rows}:
            table.move_cursor(row=table.get_row_index(selected))

    @on(RunEventsArrived)
    def _run_events(self, message: RunEventsArrived) -> None:
        if message.run_id == self._following:
            self._follow(message)
        if any(e.kind in ("run_started", "epoch_end", *events.TERMINAL_RUN_EVENTS)
               for e in message.events):
            self.refresh_runs()

    def _selected(self) -> str | None:
        table = self.query_one(RunsTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_results(self) -> None:
        from smartlap.store.runs import get_run, read_run_events

        run_id = self._selected()
        if run_id:
            try:
                run = get_run(run_id)
            except SmartlapError as error:  # damaged or removed since it was listed
                self.app.show_error(error)
                return
            self.app.push_screen(MarkdownScreen(f"Run {run_id}",
                                                results_markdown(run, read_run_events(run_id))))

    def action_resume(self) -> None:
        """Continue a stopped run, or train a finished one further, for a chosen total."""
        from smartlap.store.runs import get_run

        run_id = self._selected()
        if not run_id:
            return
        try:
            run = get_run(run_id)
        except SmartlapError as error:
            self.app.show_error(error)
            return
        further = run.status == "finished" and run.state_path.is_dir()
        if not (run.resumable or further):
            self.app.notify(f"Run {run_id} cannot be resumed (status: {run.status}).",
                            severity="warning")
            return
        done = run.epoch or 0
        least = done + 1
        planned = int(run.epochs or least)
        proposed = max(2 * done, least) if further else max(planned, least)

        def check(text: str) -> str | None:
            value = text.strip()
            if not value.isdigit() or int(value) < least:
                return f"a whole number of epochs, at least {least}"
            return None

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            argv = ["--resume", run_id]
            if further or int(answer) != planned:
                argv += ["--epochs", answer.strip()]
            self.launch(argv, run_id=run_id)

        question = (f"Train {run_id} further: epochs in total ({done} trained)" if further
                    else f"Resume {run_id}: epochs in total ({done} of {planned} trained)")
        self.app.push_screen(PromptScreen(question, str(proposed), check=check), chosen)

    def action_cancel(self) -> None:
        run_id = self._selected()
        if run_id:
            self.app.cancel_run_id(run_id)


def progress_line(state: RunState) -> str:
    """'r1: epoch 1/3 · step 12/40 · ETA 3m05s · RAM 812 MB — the pane below follows it.'"""
    parts = [f"epoch {state.epoch}/{state.epochs}"]
    if state.total_steps:
        parts.append(f"step {state.step}/{state.total_steps}")
    if state.eta_seconds is not None:
        parts.append(f"ETA {format_duration(state.eta_seconds)}")
    if state.memory:
        parts.append(format_memory(state.memory))
    return f"{state.run_id}: {' · '.join(parts)} — the pane below follows it."


def ended_line(run_id: str, event: events.Event) -> str:
    """How a run ended, in the words of the status line that announced its start."""
    if isinstance(event, events.RunFinished):
        took = f" in {format_duration(event.seconds)}" if event.seconds is not None else ""
        saved = f": saved as {event.model}" if event.model else ""
        early = " (stopped early: no better validation loss)" if event.stopped_early else ""
        return f"{run_id} finished{took}{saved}{early}."
    if isinstance(event, events.RunCancelled):
        where = f" in epoch {event.epoch}" if event.epoch else ""
        again = "; u resumes it" if event.resumable else ""
        return f"{run_id} was cancelled{where}{again}."
    if isinstance(event, events.RunFailed):
        return f"{run_id} failed: {event.message}"
    return f"{run_id} ended."


def _flag(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None
