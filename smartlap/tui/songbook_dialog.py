"""The songbook dialog: pick a song to open, or bring back one of its kept versions.

Enter opens a song, h lists its versions (deleted songs are listed too, and open their
versions), Escape closes. Restoring happens here, so the Write screen only opens the result.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from smartlap.errors import SmartlapError
from smartlap.store import songbook

DELETED = "deleted:"  # option id prefix of a deleted song that still has versions


def _lines(count: int) -> str:
    return f"{count} line{'s' if count != 1 else ''}"


class SongbookDialog(ModalScreen[str | None]):
    """Dismisses with the slug of the song to open (a restored one included), or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close"),
                                             Binding("h", "history", "Versions")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        songs = songbook.list_songs()
        present = {s.slug for s in songs}
        deleted = [slug for slug in songbook.songs_with_history() if slug not in present]
        with Vertical(classes="dialog dialog-wide"):
            yield Label("Songbook", classes="dialog-question")
            if songs or deleted:
                yield OptionList(*[
                    Option(f"{s.title}  [dim]{s.style or ''} · {_lines(s.line_count)}[/]",
                           id=s.slug) for s in songs], *[
                    Option(f"[dim]{slug} (deleted: h brings it back)[/]", id=DELETED + slug)
                    for slug in deleted], id="songs")
            else:
                yield Static("No songs yet: type in the editor and it is saved automatically.")
            yield Static("Enter opens · h versions · Esc closes · rename/delete/export: Ctrl+P",
                         classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.startswith(DELETED):
            self._show_versions(event.option.id.removeprefix(DELETED))
            return
        self.dismiss(event.option.id)

    def action_history(self) -> None:
        listing = self.query("#songs").first(OptionList) if self.query("#songs") else None
        if listing is None or listing.highlighted is None:
            return
        option_id = listing.get_option_at_index(listing.highlighted).id or ""
        self._show_versions(option_id.removeprefix(DELETED))

    def _show_versions(self, slug: str) -> None:
        def chosen(number: int | None) -> None:
            if number is None:
                return
            try:
                restored = songbook.restore_version(slug, number)
            except SmartlapError as error:
                self.app.notify(f"{error.message} {error.hint}", severity="error")
                return
            self.app.notify(f"Restored version {number} of {restored.title}; the text it "
                            "replaced is kept as a version too.")
            self.dismiss(restored.slug)
        self.app.push_screen(VersionsDialog(slug), chosen)

    def action_close(self) -> None:
        self.dismiss(None)


class VersionsDialog(ModalScreen[int | None]):
    """A song's kept versions, newest first; Enter picks one to restore."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, slug: str) -> None:
        super().__init__(classes="dialog-screen")
        self.slug = slug

    def compose(self) -> ComposeResult:
        versions = songbook.list_versions(self.slug)
        with Vertical(classes="dialog dialog-wide"):
            yield Label(f"Versions of {self.slug}", classes="dialog-question")
            if versions:
                yield OptionList(*[
                    Option(f"{v.number}. {v.saved.replace('T', ' ')[:16]}  {v.song.title}  "
                           f"[dim]{_lines(v.song.line_count)} · {v.first_line[:40]}[/]",
                           id=str(v.number)) for v in versions], id="versions")
            else:
                yield Static("No versions kept yet: they are kept as the song is saved.")
            yield Static("Enter restores · Esc goes back", classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_close(self) -> None:
        self.dismiss(None)
