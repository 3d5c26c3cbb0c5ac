"""The Models screen: every model with its facts, details and training results, and actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Label, ProgressBar, Static

from smartlap.errors import SmartlapError
from smartlap.tui.dialogs import ConfirmScreen, MarkdownScreen, PromptScreen
from smartlap.tui.messages import ModelPulled, ReportBuilt, StoreChanged, WorkFailed
from smartlap.tui.view import LateBuiltView, keep_cursor, show_damaged, unless_torn_down
from smartlap.units import human_bytes, human_params

STACK_BELOW = 150  # columns: narrower, and the details go below the table


def details_markdown(info: Any) -> str:
    """A model's facts, and for a fine-tuned one its training setup and per-epoch results."""
    lines = [f"### {info.name}", "",
             f"- origin: {info.origin}" + (f" ({info.hub_id})" if info.hub_id else ""),
             f"- class: {info.architecture or '?'} ({info.model_type or '?'})",
             f"- parameters: {human_params(info.params)} · vocabulary {info.vocab_size or '?'}"
             f" · context {info.context_length or '?'}",
             f"- weights: {info.weights or 'missing'} · {info.dtype or '?'} · "
             f"{human_bytes(info.size_bytes)}"]
    if info.base:
        lines.append(f"- base model: {info.base}")
    if info.dataset:
        lines.append(f"- dataset: {info.dataset}")
    training = info.training or {}
    if training:
        # The same tables as `smartlap report` (lm.report's table helpers import no torch).
        from smartlap.lm.report import history_table, results_table, settings_lines

        settings = settings_lines(training)
        if settings:
            lines += ["", "**Training**", "", *settings]
        lines += ["", "**Results**", "", *results_table(training)]
        history = history_table(training)
        if history:
            lines += ["", "**History** (* best)", "", *history]
    return "\n".join(lines)


class CatalogScreen(ModalScreen[str | None]):
    """The seed models: size, licence and a memory guide; Enter pulls the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, entries: list[Any]) -> None:
        super().__init__(classes="dialog-screen")
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label("Seed models — Enter pulls (needs the network once)",
                        classes="dialog-question")
            table = DataTable(id="catalog-table", cursor_type="row")
            table.add_columns("hub id", "params", "download", "licence", "language")
            for e in self.entries:
                table.add_row(e.hub_id, human_params(e.params), f"{e.download_mb} MB",
                              e.licence[:30], e.language, key=e.hub_id)
            yield table
            yield Static("", id="catalog-notes")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        entry = next((e for e in self.entries if e.hub_id == event.row_key.value), None)
        if entry:
            self.query_one("#catalog-notes", Static).update(
                f"{entry.notes}\n[dim]{entry.memory_guide}[/]")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_close(self) -> None:
        self.dismiss(None)


class ModelsView(LateBuiltView, Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "catalog", "Pull"),
        Binding("a", "add_local", "Add folder"),
        Binding("n", "rename_model", "Rename"),
        Binding("d,delete", "delete_model", "Delete"),
        Binding("r", "report", "Report"),
        Binding("space", "mark", "Mark", show=False),
        Binding("c", "compare", "Compare"),
    ]

    marked: list[str]
    compare_prompt = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="models-main"):
            yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="model-details-box"):
                from textual.widgets import Markdown  # imported late: markdown-it is slow

                yield Markdown("", id="model-details")
        bar = ProgressBar(id="pull-progress", show_eta=False)
        bar.display = False  # shown while a pull runs
        yield bar
        yield Static("", id="models-status")
        yield Static("", id="models-damaged", classes="damaged-note")

    _pull_timer: Timer | None = None

    def setup(self) -> None:
        self.marked = []
        self.query_one(DataTable).add_columns("name", "origin", "class", "params", "size")
        self.action_refresh()

    def focus_first(self) -> None:
        self.query_one(DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        """Details beside the table from STACK_BELOW columns on, below it when narrower,
        so the Results and History tables always get the width to read."""
        self.set_class(event.size.width < STACK_BELOW, "-stacked")

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if "models" in message.kinds and self.is_attached:
            with unless_torn_down():
                self.action_refresh()

    def action_refresh(self) -> None:
        from smartlap.store.models import scan_models

        table = self.query_one(DataTable)
        selected = self._selected()
        table.clear()
        try:
            listing = scan_models()
        except SmartlapError as error:
            self.app.show_error(error)
            return
        infos = listing.entries
        show_damaged(self.query_one("#models-damaged", Static), listing.damaged)
        names = {info.name for info in infos}
        self.marked = [name for name in self.marked if name in names]
        for info in infos:
            table.add_row(self._name_cell(info.name), info.origin, info.architecture or "?",
                          human_params(info.params), human_bytes(info.size_bytes),
                          key=info.name)
        self.query_one("#models-status", Static).update(
            f"{len(infos)} model(s). p pulls a seed model, a adds a folder, r opens the report, "
            "Space marks and c compares.")
        if not keep_cursor(table, [info.name for info in infos], selected) and infos:
            self._show(infos[0].name)

    def _name_cell(self, name: str) -> Any:
        from rich.text import Text

        return Text(f"● {name}", style="bold") if name in self.marked else name

    def action_mark(self) -> None:
        """Mark or unmark the highlighted model for a comparison (in the order marked)."""
        name = self._selected()
        if not name:
            return
        if name in self.marked:
            self.marked.remove(name)
        else:
            self.marked.append(name)
        table = self.query_one(DataTable)
        table.update_cell_at(table.cursor_coordinate._replace(column=0), self._name_cell(name))
        count = len(self.marked)
        self.query_one("#models-status", Static).update(
            f"{count} marked for a comparison" + (": press c." if count >= 2
                                                  else " (mark two or more with Space)."))

    def action_compare(self) -> None:
        """Ask for a prompt, then run the marked models side by side."""
        if len(self.marked) < 2:
            self.app.notify("Mark two or more models with Space, then press c.",
                            title="Compare", severity="warning")
            return
        models = list(self.marked)

        def chosen(prompt: str | None) -> None:
            if prompt is None:
                return
            from smartlap.tui.compare import CompareScreen

            self.compare_prompt = prompt
            self.app.push_screen(CompareScreen(models, prompt.replace(" / ", "\n")))
        self.app.push_screen(PromptScreen(
            f"Compare {', '.join(models)} — prompt (' / ' starts a new line; empty: none)",
            self.compare_prompt, placeholder="Ik mis je nog elke dag"), chosen)

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None:
            with unless_torn_down():  # the first row's highlight may arrive after a quit
                self._show(str(event.row_key.value))

    def _show(self, name: str) -> None:
        from smartlap.store.models import get_model

        try:
            info = get_model(name)
        except SmartlapError as error:
            self.query_one("#model-details").update(error.message)
            return
        self.query_one("#model-details").update(details_markdown(info))

    def action_catalog(self) -> None:
        try:
            from smartlap.lm.catalog import CATALOG
        except ImportError:
            self.app.notify("The seed model catalog is not available in this build.",
                            severity="warning")
            return

        def chosen(hub_id: str | None) -> None:
            if hub_id:
                self._start_pull(next(e for e in CATALOG if e.hub_id == hub_id))
        self.app.push_screen(CatalogScreen(list(CATALOG)), chosen)

    def _start_pull(self, entry: Any) -> None:
        """Pull in a thread; the bar follows the bytes arriving in the hub cache folder."""
        bar = self.query_one("#pull-progress", ProgressBar)
        bar.display = True
        bar.update(total=entry.download_mb * 1024 * 1024, progress=0)
        self.query_one("#models-status", Static).update(f"Pulling {entry.hub_id}…")
        from smartlap.store.models import cache_repo_dir

        cache = cache_repo_dir(entry.hub_id)  # where lm.hub.pull downloads it
        if self._pull_timer is not None:
            self._pull_timer.stop()
        from smartlap.fsutil import dir_size

        def tick() -> None:
            if cache.is_dir():
                bar.update(progress=dir_size(cache))
        self._pull_timer = self.set_interval(0.5, tick)
        self._pull(entry.hub_id)

    def _end_pull(self) -> None:
        if self._pull_timer is not None:
            self._pull_timer.stop()
            self._pull_timer = None
        self.query_one("#pull-progress").display = False

    @work(thread=True, exclusive=True, group="pull", exit_on_error=False)
    def _pull(self, hub_id: str) -> None:
        try:
            from smartlap.lm.hub import pull

            info = pull(hub_id, progress=False)
        except ImportError:
            self.post_message(WorkFailed("pull", "Pulling models is not available in this "
                                         "build."))
            return
        except SmartlapError as error:
            self.post_message(WorkFailed("pull", error.message, error.hint))
            return
        self.post_message(ModelPulled(getattr(info, "name", hub_id)))

    @on(ModelPulled)
    def _pulled(self, message: ModelPulled) -> None:
        message.stop()
        self._end_pull()
        self.app.notify(f"Pulled {message.name}.", title="Models")
        self.action_refresh()

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        message.stop()
        if message.action == "pull":
            self._end_pull()
        self.query_one("#models-status", Static).update(f"{message.action} failed.")
        self.app.show_error(SmartlapError(message.message, message.hint))

    def action_add_local(self) -> None:
        def chosen(path: str | None) -> None:
            if not path:
                return
            from smartlap.store.models import register_model

            try:
                info = register_model(Path(path).expanduser())
            except SmartlapError as error:
                self.app.show_error(error)
                return
            self.app.notify(f"Added {info.name}.")
            self.action_refresh()
        self.app.push_screen(PromptScreen("Model folder (Hugging Face format)",
                                          placeholder="~/models/my-gpt2",
                                          check=_check_folder), chosen)

    def action_rename_model(self) -> None:
        name = self._selected()
        if not name:
            return

        def chosen(new: str | None) -> None:
            if new and new != name:
                from smartlap.store.models import rename_model

                try:
                    rename_model(name, new.strip())
                except SmartlapError as error:
                    self.app.show_error(error)
                    return
                self.action_refresh()
        self.app.push_screen(PromptScreen(f"New name for {name}", name), chosen)

    def action_delete_model(self) -> None:
        name = self._selected()
        if not name:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                from smartlap.store.models import delete_model

                try:
                    delete_model(name)
                except SmartlapError as error:
                    self.app.show_error(error)
                    return
                self.app.notify(f"Deleted model {name}.")
                self.action_refresh()
        self.app.push_screen(ConfirmScreen(f"Delete the model {name}?", "Delete"), confirmed)

    def action_report(self) -> None:
        from smartlap.store.models import get_model

        name = self._selected()
        if not name:
            return
        info = get_model(name)
        report = next((p for p in (Path(info.path) / "REPORT.md", Path(info.path) / "report.md")
                       if p.is_file()), None)
        if report is not None:
            self.app.push_screen(MarkdownScreen(f"Report: {name}",
                                                report.read_text(encoding="utf-8")))
            return
        self.query_one("#models-status", Static).update(f"Writing the report of {name}…")
        self._build_report(name)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _build_report(self, name: str) -> None:
        """The same analysis as `smartlap report NAME` (loads the model, so in a thread)."""
        try:
            from smartlap.lm.report import build_report

            markdown = build_report(name)
        except SmartlapError as error:
            self.post_message(WorkFailed("report", error.message, error.hint))
            return
        self.post_message(ReportBuilt(name, markdown))

    @on(ReportBuilt)
    def _report_built(self, message: ReportBuilt) -> None:
        message.stop()
        self.query_one("#models-status", Static).update("")
        self.app.push_screen(MarkdownScreen(f"Report: {message.name}", message.markdown))


def _check_folder(text: str) -> str | None:
    path = Path(text.strip()).expanduser()
    if not path.is_dir():
        return "not a folder"
    if not (path / "config.json").is_file():
        return "no config.json in that folder"
    return None
