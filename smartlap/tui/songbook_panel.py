"""The Write screen's song-file side: the songbook song in the editor and its title.

Open, new, rename, delete, export, the songbook dialog (with its history) and autosave:
the first save creates the song's file on the UI thread (once, so two quick saves cannot
make two songs), later saves are written atomically in a thread, one at a time, newest
snapshot wins. ``WriteView`` is a ``SongbookPanel``; it composes the widgets this side uses
(``#song-title``, ``#song-style``, ``#editor``), its key bindings, and the status line.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from textual import on, work
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Select, TextArea

from smartlap.errors import AlreadyExistsError, SmartlapError
from smartlap.store import songbook
from smartlap.tui.dialogs import ConfirmScreen, PromptScreen
from smartlap.tui.messages import SongSaved, WorkFailed

AUTOSAVE_SECONDS = 0.8
UNTITLED = "Naamloos"


def _save_error(error: Exception) -> tuple[str, str]:
    """A failed save as message and hint (the store's own words where it has them)."""
    if isinstance(error, SmartlapError):
        return error.message, error.hint
    return f"Could not save the song: {error}", "Check that the data home is writable."


class SongbookPanel(Vertical):
    """The song the editor holds, kept in the songbook as it is typed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.song: songbook.BookSong | None = None
        self._autosave: Timer | None = None
        self._loading_song = False
        self._dirty = False
        # Which song the editor holds: bumped on New/Open/Delete, so a save that finishes
        # after the editor moved on is never adopted as the new song (the old data loss).
        self._song_key = 0
        self._save_lock = threading.Lock()
        self._save_seq = 0  # snapshots are numbered; an older one never lands after a newer
        self._written_seq = 0

    # -- what the view provides -----------------------------------------------------------

    def _set_status(self, text: str) -> None:
        raise NotImplementedError  # the view's status line

    def _refresh_gutter(self, full: bool) -> None:
        raise NotImplementedError  # the view's gutter, after the editor's text changed

    # -- the song file --------------------------------------------------------------------

    def open_song(self, slug: str) -> None:
        song = songbook.open_song(slug)
        self._begin_song()
        self._loading_song = True
        self.song = song
        self.query_one("#song-title", Input).value = song.title
        style = self.query_one("#song-style", Select)
        if song.style and any(song.style == value for _, value in style._options):
            style.value = song.style
        self.query_one("#editor", TextArea).load_text(song.lyrics)
        # After the paint: the first count loads the syllable lexicon.
        self.call_after_refresh(self._refresh_gutter, True)
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self._loading_song = False
        self._dirty = False

    def _current_style(self) -> str:
        value = self.query_one("#song-style", Select).value
        return "" if value is Select.NULL or value is None else str(value)

    def _begin_song(self) -> None:
        """The editor now holds another song: pending saves of the last one stay its own."""
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None
        self._song_key += 1
        self._dirty = False

    def _schedule_save(self) -> None:
        if self._loading_song:
            return
        if self._autosave is not None:
            self._autosave.stop()
        self._dirty = True
        self._autosave = self.set_timer(AUTOSAVE_SECONDS, self.save_now)

    def _snapshot(self) -> tuple[str, str, str]:
        title = self.query_one("#song-title", Input).value.strip() or UNTITLED
        text = songbook.sane_text(self.query_one("#editor", TextArea).text)
        return songbook.sane_text(title), text, self._current_style()

    def flush_pending(self) -> None:
        """Save unsaved words now, on this thread (quitting, New, opening another song)."""
        if self._autosave is not None:
            self._autosave.stop()
            self._autosave = None
        if not self._dirty:
            return
        self.save_now(in_thread=False)

    def save_now(self, in_thread: bool = True) -> None:
        """Autosave: the first save creates the song's file here (once, so two quick saves
        cannot make two songs); later saves are written atomically in a thread."""
        title, lyrics, style = self._snapshot()
        if self.song is None and not lyrics.strip():
            return
        self._dirty = False
        if self.song is None:
            try:
                self.song = songbook.new_song(title, lyrics, style=style)
            except Exception as error:  # any failed save is shown, the text kept
                self.post_message(WorkFailed("save", *_save_error(error)))
                return
            self._set_status(f"Saved to the songbook as {self.song.slug}.md")
            return
        self._save_seq += 1
        song = replace(self.song, title=title, lyrics=lyrics, style=style)
        if in_thread:
            self._save(self._song_key, self._save_seq, song)
        else:
            self._write(self._song_key, self._save_seq, song)

    @work(thread=True, exclusive=False, group="autosave", exit_on_error=False)
    def _save(self, key: int, seq: int, song: songbook.BookSong) -> None:
        self._write(key, seq, song)

    def _write(self, key: int, seq: int, song: songbook.BookSong) -> None:
        """One save at a time, newest snapshot wins; failures are shown, the text stays."""
        with self._save_lock:
            if seq < self._written_seq:
                return
            try:
                saved = songbook.save_song(song)
            except Exception as error:  # a save must never fail silently
                self.post_message(WorkFailed("save", *_save_error(error)))
                return
            self._written_seq = seq
        self.post_message(SongSaved(saved, key))

    @on(SongSaved)
    def _saved(self, message: SongSaved) -> None:
        message.stop()
        if message.key == self._song_key and self.song is not None:
            self.song = message.song  # its id and times; the editor keeps what was typed since
        self._set_status(f"Saved to the songbook as {message.song.slug}.md")

    @on(Input.Changed, "#song-title")
    def _title_changed(self, event: Input.Changed) -> None:
        clean = songbook.sane_text(event.value)
        if clean != event.value:  # a lone surrogate pasted in: show what will be kept
            event.input.value = clean
            return  # the change this makes comes back here, and schedules the save
        self._schedule_save()

    @on(Select.Changed, "#song-style")
    def _meta_changed(self) -> None:
        self._schedule_save()

    def action_new_song(self) -> None:
        self.flush_pending()
        self._begin_song()
        self.song = None
        self._loading_song = True
        self.query_one("#song-title", Input).value = ""
        self.query_one("#editor", TextArea).load_text("")
        self._refresh_gutter(full=True)
        self.call_after_refresh(self._done_loading)
        self.query_one("#editor", TextArea).focus()
        self._set_status("New song: it is saved once you type.")

    def action_songbook(self) -> None:
        from smartlap.tui.songbook_dialog import SongbookDialog

        self.flush_pending()  # before the dialog: a restore must not be saved over

        def chosen(slug: str | None) -> None:
            if slug:
                self.flush_pending()
                self.open_song(slug)
                self._set_status(f"Opened {slug}.md")
        self.app.push_screen(SongbookDialog(), chosen)

    def action_rename_song(self) -> None:
        if self.song is None:
            self.app.notify("Type something first: an empty song is not saved yet.")
            return
        current = self.song

        def renamed(title: str | None) -> None:
            if title:
                try:
                    self.flush_pending()
                    song = songbook.rename_song(current.slug, title)
                except SmartlapError as error:
                    self.app.show_error(error)
                    return
                self.open_song(song.slug)
                self._set_status(f"Renamed to {song.title} ({song.slug}.md)")
        self.app.push_screen(PromptScreen("New title", current.title,
                                          check=lambda t: None if t.strip() else "Empty title"),
                             renamed)

    def action_delete_song(self) -> None:
        if self.song is None:
            return
        song = self.song

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._begin_song()
                try:
                    songbook.delete_song(song.slug)
                except SmartlapError as error:
                    self.app.show_error(error)
                    return
                self.song = None
                self.action_new_song()
                self.app.notify(f"Deleted {song.title}. The songbook (Ctrl+B, h) can bring "
                                "it back.")
        self.app.push_screen(ConfirmScreen(f"Delete the song “{song.title}”?", "Delete"),
                             confirmed)

    def action_export_song(self, fmt: str = "txt") -> None:
        if self.song is None:
            self.app.notify("Nothing to export yet.")
            return
        song = self.song
        default = f"~/{song.slug}.{'cho' if fmt == 'chordpro' else fmt}"

        def export(target: str, force: bool) -> None:
            try:
                written = songbook.export_song(song.slug, target, force=force)
            except AlreadyExistsError:
                self.app.push_screen(ConfirmScreen(f"{target} exists. Replace it?", "Replace"),
                                     lambda yes: export(target, True) if yes else None)
                return
            except SmartlapError as error:
                self.app.show_error(error)
                return
            except OSError as error:
                self.app.notify(f"Could not write {target}: {error}", severity="error")
                return
            self.app.notify(f"Exported to {written}")

        def exported(target: str | None) -> None:
            if target:
                self.flush_pending()
                export(target, False)
        self.app.push_screen(PromptScreen("Export to (.txt, .md or .cho)", default), exported)

    def _save_failed(self, message: str) -> None:
        """A save failed: the words are still unsaved (the next change tries again)."""
        self._dirty = True
        self._set_status("Not saved: the text is still here. " + message)
