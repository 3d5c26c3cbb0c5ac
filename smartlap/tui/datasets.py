"""The Datasets screen: the table of datasets, song preview, import dialog with its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from smartlap.errors import SmartlapError
from smartlap.tui.dialogs import ConfirmScreen, MarkdownScreen
from smartlap.tui.messages import DatasetImported, StoreChanged, WorkFailed
from smartlap.tui.view import LateBuiltView, keep_cursor, show_damaged, unless_torn_down

FORMATS = [("auto-detect", "auto"), ("CSV", "csv"), ("JSON lines", "jsonl"),
           ("folder of lyric files", "dir"), ("text dump (also .lrc)", "txt"),
           ("ChordPro", "chordpro")]  # values are the importer's formats


def _store() -> Any:
    from smartlap.store import datasets

    return datasets


def report_markdown(name: str, report: Any) -> str:
    """The import report (imported, skipped by reason with examples, site boilerplate dropped,
    warnings) as Markdown."""
    data = report.to_dict() if hasattr(report, "to_dict") else dict(report or {})
    lines = [f"**{data.get('imported', 0)}** songs imported into **{name}**, "
             f"**{data.get('skipped_count', 0)}** skipped."]
    by_reason = data.get("skipped_by_reason") or {}
    if by_reason:
        lines += ["", "| reason | skipped |", "|---|---:|"]
        lines += [f"| {reason} | {count} |" for reason, count in by_reason.items()]
    skipped = data.get("skipped") or []
    if skipped:
        lines += ["", "**Skipped:**", ""]
        lines += [f"- {s.get('where', '?')}: {s.get('reason', '?')}"
                  + (f" — {s['detail']}" if s.get("detail") else "") for s in skipped[:50]]
        if len(skipped) > 50:
            lines.append(f"- … and {len(skipped) - 50} more")
    boilerplate = data.get("boilerplate") or []
    if boilerplate:
        lines += ["", "**Site boilerplate dropped:**", ""]
        lines += [f"- {b.get('line', '?') if b.get('kind') == 'leftover' else repr(b.get('line'))}"
                  f": {b.get('songs', 0)} songs" for b in boilerplate[:50]]
    warnings = data.get("warnings") or []
    if warnings:
        lines += ["", "**Warnings:**", ""] + [f"- {w}" for w in warnings]
    return "\n".join(lines)


def path_completion(value: str) -> str | None:
    """``value`` completed to the first file or folder name it begins (folders end in '/').

    One function for the ghost text, Tab and the check beside the field, so the three
    always agree. None when nothing (more) matches.
    """
    if not value:
        return None
    path = Path(value).expanduser()
    folder, stem = (path, "") if value.endswith("/") else (path.parent, path.name)
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                       if p.name.startswith(stem) and not p.name.startswith("."))
    except OSError:
        return None
    completed = value + names[0][len(stem):] if names else None
    return completed if completed != value else None


class PathSuggester(Suggester):
    """Completes file and folder names as the person types a path."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return path_completion(value)


class PathInput(Input):
    """A path field where Tab completes, as in a shell, when there is a completion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete_or_next", "Complete", show=False)]

    def action_complete_or_next(self) -> None:
        """Take the offered completion (the ghost text); with none, move on as Tab does."""
        completion = path_completion(self.value) if self.cursor_at_end else None
        if completion is None:
            self.screen.focus_next()
            return
        self.value = completion
        self.cursor_position = len(completion)


def check_source(text: str) -> str | None:
    if not text.strip():
        return "give a file or folder"
    path = Path(text.strip()).expanduser()
    if not path.exists():
        return "no such file or folder"
    return None


def source_note(text: str) -> tuple[str, bool]:
    """What to show beside the path field, and whether it is a problem (else a hint).

    A partial name of something that exists is no error: the note says what Tab takes.
    """
    problem = check_source(text) if text else None
    if problem is None:
        return "", False
    completion = path_completion(text.strip())
    if completion is not None:
        return f"Tab or → completes: {Path(completion).name or completion}", False
    return problem, True


class ImportDialog(ModalScreen[tuple[str, str, str | None] | None]):
    """Path (completed as you type, checked), format (auto-detect), and an optional name."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Label("Import a dataset", classes="dialog-question")
            yield Label("File or folder (Tab/→ completes)")
            yield PathInput(placeholder="~/lyrics.csv", id="import-path",
                            suggester=PathSuggester())
            yield Static("", id="import-path-error", classes="field-error")
            yield Label("Format")
            yield Select(FORMATS, value="auto", allow_blank=False, id="import-format")
            yield Label("Name (empty: from the file name)")
            yield Input(id="import-name")
            yield Static("", id="import-name-error", classes="field-error")
            yield Button("Import", variant="primary", id="import-go")

    @on(Input.Changed, "#import-path")
    def _path_changed(self, event: Input.Changed) -> None:
        note, problem = source_note(event.value)
        field = self.query_one("#import-path-error", Static)
        field.update(Text(note))
        field.set_class(not problem, "-hint")

    @on(Input.Changed, "#import-name")
    def _name_changed(self, event: Input.Changed) -> None:
        from smartlap.names import validate_name

        problem = None
        if event.value.strip():
            try:
                validate_name(event.value, "dataset")
            except SmartlapError as error:
                problem = error.message
        self.query_one("#import-name-error", Static).update(problem or "")

    @on(Input.Submitted)
    @on(Button.Pressed, "#import-go")
    def _go(self) -> None:
        source = self.query_one("#import-path", Input).value.strip()
        problem = check_source(source)
        if problem:
            completion = path_completion(source) if source else None
            if completion is not None:  # a partial name: say how it completes, not "no such"
                problem = f"not a whole name yet: Tab completes it to {completion}"
            field = self.query_one("#import-path-error", Static)
            field.update(Text(problem))
            field.remove_class("-hint")
            self.query_one("#import-path", Input).focus()
            return
        if str(self.query_one("#import-name-error", Static).content):
            return
        name = self.query_one("#import-name", Input).value.strip() or None
        fmt = str(self.query_one("#import-format", Select).value)
        self.dismiss((str(Path(source).expanduser()), fmt, name))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DatasetsView(LateBuiltView, Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "import_dataset", "Import"),
        Binding("d,delete", "delete_dataset", "Delete"),
        Binding("r", "show_report", "Report"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="datasets-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="dataset-preview-box"):
                yield Static("", id="dataset-summary")
                yield Static("", id="dataset-preview")
        yield Static("", id="datasets-status")
        yield Static("", id="datasets-damaged", classes="damaged-note")

    def setup(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("name", "songs", "lines", "words", "split", "source")
        self.action_refresh()

    def focus_first(self) -> None:
        self.query_one(DataTable).focus()

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if "datasets" in message.kinds and self.is_attached:
            with unless_torn_down():
                self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        selected = self._selected()
        table.clear()
        try:
            listing = _store().scan_datasets()
        except ImportError:
            self.query_one("#datasets-status", Static).update(
                "The datasets store is not available in this build.")
            return
        except SmartlapError as error:
            self.app.show_error(error)
            return
        infos = listing.entries
        show_damaged(self.query_one("#datasets-damaged", Static), listing.damaged)
        for info in infos:
            split = f"{info.train_songs}/{info.val_songs}"
            table.add_row(info.name, f"{info.songs:,}", f"{info.lines:,}", f"{info.words:,}",
                          split, _short_source(info.source), key=info.name)
        self.query_one("#datasets-status", Static).update(
            f"{len(infos)} dataset(s). i imports, d deletes, r shows the import report.")
        if not keep_cursor(table, [info.name for info in infos], selected) and infos:
            self._preview(infos[0].name)

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None:
            with unless_torn_down():  # the first row's highlight may arrive after a quit
                self._preview(str(event.row_key.value))

    def _preview(self, name: str) -> None:
        store = _store()
        try:
            info = store.get_dataset(name)
            songs = []
            for song in store.iter_songs(name):
                songs.append(song)
                if len(songs) >= 3:
                    break
        except SmartlapError as error:
            self.query_one("#dataset-preview", Static).update(error.message)
            return
        self.query_one("#dataset-summary", Static).update(
            f"[b]{info.name}[/b]: {info.songs} songs ({info.train_songs} train, "
            f"{info.val_songs} validation)")
        parts = []
        for song in songs:
            head = song.title + (f" — {song.artist}" if song.artist else "")
            body = "\n".join(song.lyrics.strip().splitlines()[:4])
            parts.append(f"[b]{_escape(head)}[/b]\n{_escape(body)}")
        self.query_one("#dataset-preview", Static).update("\n\n".join(parts) or "no songs")

    def action_import_dataset(self) -> None:
        def chosen(answer: tuple[str, str, str | None] | None) -> None:
            if answer:
                source, fmt, name = answer
                self.query_one("#datasets-status", Static).update(f"Importing {source}…")
                self._import(source, fmt, name)
        self.app.push_screen(ImportDialog(), chosen)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _import(self, source: str, fmt: str, name: str | None) -> None:
        try:
            info = _store().import_dataset(source, name=name, fmt=fmt)
        except SmartlapError as error:
            self.post_message(WorkFailed("import", error.message, error.hint))
            return
        self.post_message(DatasetImported(info))

    @on(DatasetImported)
    def _imported(self, message: DatasetImported) -> None:
        message.stop()
        info = message.info
        self.action_refresh()
        self.app.notify(f"Imported {info.songs} songs as {info.name}.", title="Dataset")
        self.app.push_screen(MarkdownScreen(f"Import report: {info.name}",
                                            report_markdown(info.name, info.report)))

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        message.stop()
        self.query_one("#datasets-status", Static).update(f"{message.action} failed.")
        self.app.show_error(SmartlapError(message.message, message.hint))

    def action_show_report(self) -> None:
        name = self._selected()
        if name:
            info = _store().get_dataset(name)
            self.app.push_screen(MarkdownScreen(f"Import report: {name}",
                                                report_markdown(name, info.report)))

    def action_delete_dataset(self) -> None:
        name = self._selected()
        if not name:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                try:
                    _store().delete_dataset(name)
                except SmartlapError as error:
                    self.app.show_error(error)
                    return
                self.app.notify(f"Deleted dataset {name}.")
                self.action_refresh()
        self.app.push_screen(ConfirmScreen(f"Delete the dataset {name}?", "Delete"), confirmed)


def _short_source(source: Any) -> str:
    if isinstance(source, dict):
        source = source.get("path") or source.get("kind") or ""
    text = Path(str(source)).name if source else ""  # the file name; the folder varies
    return text if len(text) <= 28 else "…" + text[-27:]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
