"""The songbook dialog: pick a song to open; Enter opens, Escape closes."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from smartlap.store import songbook


class SongbookDialog(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        songs = songbook.list_songs()
        with Vertical(classes="dialog dialog-wide"):
            yield Label("Songbook", classes="dialog-question")
            if songs:
                yield OptionList(*[
                    Option(f"{s.title}  [dim]{s.style or ''} · {s.line_count} lines[/]", id=s.slug)
                    for s in songs], id="songs")
            else:
                yield Static("No songs yet: type in the editor and it is saved automatically.")
            yield Static("Enter opens · Esc closes · rename/delete/export: Ctrl+P", classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
