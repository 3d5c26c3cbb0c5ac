"""The Write screen: the view that composes song editor, gutter and suggestion pane.

It is split by job: the song file (open/new/rename/history/autosave, the title) is
``songbook_panel.SongbookPanel``, which this view extends; the editor with its gutter kept in
step (syllables, debounced rhyme letters, scroll and wrap) is ``widgets.editor_pane``; what
the suggestion pane holds is
the pure fold ``suggestions.Suggestions``; generation goes through
``generation_backend.GenerationBackend`` to ``smartlap.lm.session.GenerationSession``, the
front door ``smartlap generate`` uses too (the F9 knobs are overrides on its settings).

Model loading and generation run in one exclusive thread worker. The thread never touches a
widget: it gathers tokens for ~40 ms and posts ``TokensArrived``; the UI folds each batch in
as a ``Token`` and appends it to the suggestion area (an append, never a re-render of the
whole text); each ``SampleEnd`` brings the sample's final text and notes. Escape sets a
``threading.Event`` the generator checks every token, and the UI stops listening at once.
When an alternative ends, another worker checks it against the model's training lyrics and
the UI marks the copied lines it reports (``CopiesFound``).
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, Select, Static, TextArea

from smartlap.errors import SmartlapError
from smartlap.events import Token
from smartlap.store import songbook
from smartlap.tui.controls import (
    GenerationControls,
    effective_settings,
    load_controls,
    save_controls,
)
from smartlap.tui.generation_backend import GenerationBackend, style_named
from smartlap.tui.messages import (
    CandidatesFound,
    CopiesFound,
    GenerationEnded,
    ModelLoaded,
    StoreChanged,
    TokensArrived,
    WorkFailed,
)
from smartlap.tui.songbook_panel import UNTITLED, SongbookPanel
from smartlap.tui.suggestions import Change, Suggestions, copies_notice, note_sentences
from smartlap.tui.view import set_choices
from smartlap.tui.widgets.editor_pane import EditorPane
from smartlap.tui.widgets.gutter import LineFacts

BATCH_SECONDS = 0.04


def _model_names() -> list[str]:
    from smartlap.store.models import DEFAULT_MODEL, list_models

    try:
        names = [m.name for m in list_models()]
    except SmartlapError:
        return []
    return sorted(names, key=lambda n: (n != DEFAULT_MODEL, n))


def _style_names() -> list[str]:
    try:
        from smartlap.styles import load_styles
    except ImportError:
        return []
    try:
        styles = load_styles()
    except SmartlapError:
        return []
    return sorted(styles) if isinstance(styles, dict) else sorted(s.name for s in styles)


class WriteView(SongbookPanel):
    """Editor, gutter, title/style/model bar, and the suggestion area with alternatives."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+g", "generate", "Generate", tooltip="Continue the song from the cursor"),
        Binding("escape", "stop", "Stop", priority=True),
        Binding("ctrl+o", "accept", "Accept", tooltip="Insert the suggestion at the cursor"),
        Binding("ctrl+r", "regenerate", "Again"),
        Binding("ctrl+t", "next_alternative", "Alt"),
        Binding("ctrl+l", "next_lines", "Next line"),
        Binding("ctrl+b", "songbook", "Songs"),
        Binding("ctrl+n", "new_song", "New"),
        Binding("f9", "settings", "Settings"),
        Binding("ctrl+k", "rhymes", "Rhymes", show=False, priority=True,
                tooltip="Rhymes for the word at the cursor, from the whole Dutch word list"),
    ]

    generating: reactive[bool] = reactive(False)

    def __init__(self, backend: GenerationBackend | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.backend = backend or GenerationBackend()
        self.controls, self._control_problems = load_controls()
        self._sampling = effective_settings(self.controls, None)
        self.facts = LineFacts()
        self.loaded: Any = None
        self.loaded_name: str | None = None
        self.suggestions = Suggestions()
        self.generation = 0
        self.last_prompt: str | None = None
        self._stop = threading.Event()
        self._told_skipped: str | None = None
        self._told_demo = False
        self._head: str | None = None

    @property
    def alternatives(self) -> list[str]:
        return self.suggestions.alternatives

    @property
    def shown(self) -> int:
        return self.suggestions.shown

    def watch_generating(self, generating: bool) -> None:
        self.suggestions.streaming = generating

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="song-bar"):
            yield Label("Title ", classes="bar-label")
            yield Input(placeholder=UNTITLED, id="song-title", compact=True)
            yield Select([(s, s) for s in _style_names()], prompt="style", id="song-style",
                         compact=True)
            models = _model_names()
            yield Select([(m, m) for m in models], prompt="model", id="song-model",
                         compact=True, value=models[0] if models else Select.NULL)
        with Horizontal(id="write-main"):
            yield EditorPane(self.facts, id="editor-box")
            with Vertical(id="suggestion-box"):
                yield Static(id="suggestion-head")
                yield TextArea(id="suggestion", read_only=True, soft_wrap=True)
                notice = Static(id="suggestion-notice")
                notice.display = False
                yield notice
        yield Static(id="write-status")

    def on_mount(self) -> None:
        songs = songbook.list_songs()
        if songs:
            self.open_song(songs[0].slug)
        self._refresh_sampling()
        self._set_status("Type a few lines, then Ctrl+G to let the model continue.")
        if self._control_problems:
            self.app.notify("; ".join(self._control_problems) + ". Those settings use their "
                            "defaults; F9 sets and keeps them.", title="config.toml",
                            severity="warning")
        self._warm_craft()

    @work(thread=True, exclusive=True, group="warm", exit_on_error=False)
    def _warm_craft(self) -> None:
        """Load the syllable dictionaries after the first paint, not on the first keystroke."""
        craft = self.facts.craft
        if craft is not None:
            craft[0]("warm")

    def focus_first(self) -> None:
        self.query_one("#editor", TextArea).focus()

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        """A model trained, pulled or added elsewhere appears in the model select."""
        if "models" not in message.kinds:
            return
        models = _model_names()
        set_choices(self.query_one("#song-model", Select), models, models[0] if models else None)

    @on(TextArea.Changed, "#editor")
    def _editor_changed(self) -> None:
        if self._loading_song:
            return  # open_song refreshes the gutter after the paint
        self._refresh_gutter(full=False)
        self._schedule_save()

    @on(Select.Changed, "#song-style")
    def _style_changed(self) -> None:
        self._refresh_sampling()

    # -- gutter ---------------------------------------------------------------------------

    def _refresh_gutter(self, full: bool) -> None:
        self.query_one(EditorPane).refresh_gutter(full)

    # -- generation -----------------------------------------------------------------------

    def _prompt(self) -> str:
        """The song up to the cursor (or the selection) as the model reads it: sung words
        only, ChordPro chords and directives left out."""
        from smartlap.craft.chordpro import to_lyrics

        editor = self.query_one("#editor", TextArea)
        if editor.selected_text.strip():
            return to_lyrics(editor.selected_text)
        row, column = editor.cursor_location
        return to_lyrics(editor.get_text_range((0, 0), (row, column)))

    def action_generate(self) -> None:
        self._start(self._prompt())

    def action_regenerate(self) -> None:
        self._start(self.last_prompt if self.last_prompt is not None else self._prompt())

    def _start(self, prompt: str) -> None:
        value = self.query_one("#song-model", Select).value
        model = None if value is Select.NULL else str(value)
        if model is None:
            self.app.notify("There is no model to generate with.", title="No model",
                            severity="error")
            return
        self._stop.set()  # end a generation still running
        self._stop = threading.Event()
        self.generation += 1
        self.last_prompt = prompt
        self.suggestions.start(self.controls.samples)
        self.query_one("#suggestion", TextArea).load_text("")
        self._show_notice("")
        self.generating = True
        self._show_head()
        self._set_status("Loading the model…" if model != self.loaded_name else "Generating…")
        self._generate(self.generation, model, prompt, self.controls, self._current_style(),
                       self._stop)

    def _word_at_cursor(self) -> str:
        """The word under (or just before) the cursor; ChordPro chords [Am] are not words."""
        import re

        editor = self.query_one("#editor", TextArea)
        row, column = editor.cursor_location
        line = re.sub(r"\[[^\]]*\]", lambda m: " " * len(m.group()),
                      editor.document.get_line(row))
        before = [m for m in re.finditer(r"[^\W\d_][\w'’-]*", line) if m.start() <= column]
        return before[-1].group() if before else ""

    def action_rhymes(self) -> None:
        """Ctrl+K: rhymes for the word at the cursor from the whole-language dictionary."""
        word = self._word_at_cursor()
        if not word:
            self.app.notify("Put the cursor on a word to find its rhymes.", title="Rhymes")
            return
        self._lookup_rhymes(word)

    @work(thread=True, exclusive=True, group="rhymes", exit_on_error=False)
    def _lookup_rhymes(self, word: str) -> None:
        """Worker thread: the dictionary loads once (about a second), then answers at once."""
        from smartlap.craft.dictionary import dictionary_rhymes, rhymes_on
        from smartlap.errors import SmartlapError

        try:
            found = dictionary_rhymes(word, loose=True)
        except SmartlapError as error:
            self.app.call_from_thread(self.app.notify, error.message, title="Rhymes",
                                      severity="warning")
            return
        perfect = [f"{r.word} ({r.syllables})" for r in found if r.quality == "perfect"][:12]
        near = [f"{r.word}~" for r in found if r.quality == "n-deletion"][:4]
        text = ", ".join(perfect + near) or "no rhymes in the Dutch word list"
        part = rhymes_on(word)
        title = f"Rhymes for {word}" + (f" (on {part})" if part else "")
        self.app.call_from_thread(self.app.notify, text, title=title, timeout=12)

    def action_next_lines(self) -> None:
        """Rhyme- and syllable-aware candidates for the next line, best first."""
        value = self.query_one("#song-model", Select).value
        if value is Select.NULL:
            self.app.notify("There is no model to generate with.", severity="error")
            return
        self._stop.set()
        self._stop = threading.Event()
        self.generation += 1
        self.suggestions.start(0)
        self.query_one("#suggestion", TextArea).load_text("")
        self._show_notice("")
        self.generating = True
        self._show_head()
        self._set_status("Looking for a next line that rhymes and scans…")
        self._candidates(self.generation, str(value), self._prompt(), self._current_style())

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _candidates(self, generation: int, model: str, context: str, style: str) -> None:
        try:
            self._ensure_loaded(model)
            found = self.backend.next_lines(self.loaded, context, style or None)
            self.post_message(CandidatesFound(list(found), generation,
                                              list(getattr(found, "notes", []))))
        except SmartlapError as error:
            self.post_message(WorkFailed("generate", error.message, error.hint))
        except Exception as error:
            self.post_message(WorkFailed("generate", f"Next-line search failed: {error}",
                                         "Run 'smartlap --debug craft ...' for details."))
        finally:
            self.post_message(GenerationEnded(None, generation))

    @on(CandidatesFound)
    def _candidates_found(self, message: CandidatesFound) -> None:
        message.stop()
        if message.generation != self.generation or not self.generating:
            return
        dataset = getattr(getattr(self.loaded, "info", None), "dataset", None)
        listing = self.suggestions.candidates(message.candidates, dataset)
        self.query_one("#suggestion", TextArea).load_text(listing)
        self._show_notice(copies_notice(len(self.suggestions.copies), dataset, "candidate"))
        self.generating = False  # done: the end of the search must not say "Done." over this
        self._show_head()
        notes = note_sentences(message.notes)
        self._set_status(f"{len(message.candidates)} candidates, best first: Ctrl+O inserts "
                         f"the first, Ctrl+T picks the next.{notes}")

    @work(thread=True, exclusive=True, group="generate", exit_on_error=False)
    def _generate(self, generation: int, model: str, prompt: str,
                  controls: GenerationControls, style: str, stop: threading.Event) -> None:
        """Worker thread: load if needed, stream, and post tokens in ~40 ms batches."""
        try:
            self._ensure_loaded(model)
            pending: dict[int, list[str]] = {}
            last_flush = time.monotonic()
            for event in self.backend.stream(self.loaded, prompt, controls, stop,
                                             style or None):
                if event.kind == "token":
                    pending.setdefault(event.sample, []).append(event.text)
                    if time.monotonic() - last_flush >= BATCH_SECONDS:
                        self._flush(pending, generation)
                        last_flush = time.monotonic()
                elif event.kind == "sample_end":
                    self._flush(pending, generation)
                    self.post_message(GenerationEnded(event, generation))
            self._flush(pending, generation)
        except SmartlapError as error:
            self.post_message(WorkFailed("generate", error.message, error.hint))
        except Exception as error:  # a bug or a library error: keep the studio up
            self.post_message(WorkFailed("generate", f"Generation failed: {error}",
                                         "Run 'smartlap --debug generate ...' to see the "
                                         "details."))
        finally:
            self.post_message(GenerationEnded(None, generation))

    def _ensure_loaded(self, model: str) -> None:
        """In a worker: the session on ``model``, loaded now unless it already is."""
        if self.loaded_name == model:
            return
        started = time.perf_counter()
        self.loaded, self.loaded_name = None, None
        loaded = self.backend.load(model)
        self.loaded, self.loaded_name = loaded, model
        self.post_message(ModelLoaded(model, str(getattr(loaded, "device", "?")),
                                      time.perf_counter() - started,
                                      getattr(loaded, "demo_notice", None)))

    def _flush(self, pending: dict[int, list[str]], generation: int) -> None:
        for sample, parts in pending.items():
            if parts:
                self.post_message(TokensArrived(sample, "".join(parts), generation))
        pending.clear()

    @on(TokensArrived)
    def _tokens(self, message: TokensArrived) -> None:
        message.stop()
        if message.generation != self.generation or not self.generating:
            return  # stopped or superseded: late tokens are dropped
        change = self.suggestions.apply(Token(text=message.text, sample=message.sample))
        if change.append:
            area = self.query_one("#suggestion", TextArea)
            area.insert(change.append, area.document.end, maintain_selection_offset=True)
        self._show_head()

    @on(GenerationEnded)
    def _ended(self, message: GenerationEnded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        end = message.end
        if end is not None:
            self._apply(self.suggestions.apply(end))
            self._show_head()
            text = self.suggestions.finished_text(end.sample)
            if text:
                self._check_copies(message.generation, message.sample, self.loaded,
                                   self.last_prompt or "", text)
            return
        if self.generating:
            self.generating = False
            self._settle_alternatives()
            ended = self.suggestions.ends.get(self.shown + 1)
            notes = note_sentences(self.suggestions.shown_notes())
            if ended and ended.seconds:
                rate = ended.tokens / ended.seconds
                self._set_status(f"{ended.tokens} tokens in {ended.seconds:.1f} s "
                                 f"({rate:.0f}/s, {ended.reason}). Ctrl+O inserts it.{notes}")
            else:
                self._set_status(f"Done. Ctrl+O inserts the suggestion at the cursor.{notes}")
        self._show_head()

    @work(thread=True, group="originality", exit_on_error=False)
    def _check_copies(self, generation: int, sample: int, loaded: Any, prompt: str,
                      text: str) -> None:
        """Worker thread: check a finished alternative against the model's training lyrics."""
        if loaded is None:
            return
        dataset, rows, skipped = self.backend.copies(loaded, prompt, text)
        self.post_message(CopiesFound(sample, list(rows), dataset, generation, skipped))

    @on(CopiesFound)
    def _copies_found(self, message: CopiesFound) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        if message.skipped and message.skipped != self._told_skipped:
            self._told_skipped = message.skipped  # once, not for every alternative
            self.app.notify(message.skipped, title="Originality", severity="warning")
        self._apply(self.suggestions.found_copies(message.sample, message.dataset,
                                                  message.rows))

    def _apply(self, change: Change) -> None:
        if change.rerender:
            self._render_shown()

    def _render_shown(self) -> None:
        """The shown alternative, its copied lines marked, and the notice under it."""
        self.query_one("#suggestion", TextArea).load_text(self.suggestions.marked())
        self._show_notice(self.suggestions.notice())

    def _show_notice(self, markup: str) -> None:
        notice = self.query_one("#suggestion-notice", Static)
        notice.update(markup)
        notice.display = bool(markup)

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        message.stop()
        self._set_status(f"{message.name} loaded on {message.device} in "
                         f"{message.seconds:.1f} s. Generating…")
        if message.notice and not self._told_demo:
            self._told_demo = True  # once a studio session, not at every reload
            self.app.notify(message.notice, title="Demo model", timeout=12)

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        message.stop()
        if message.action == "save":
            self._save_failed(message.message)
        if message.action == "generate":
            self.generating = False
            self._set_status("Generation failed; the editor is still yours.")
        self.app.show_error(SmartlapError(message.message, message.hint))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.generating
        if action == "accept":
            return bool(self.suggestions.offered) or None
        if action == "next_alternative":
            return len(self.suggestions.offered) > 1 or None
        return True

    def action_stop(self) -> None:
        """Escape: the generator stops at its next token; the UI stops listening now."""
        self._stop.set()
        self.generating = False
        self._settle_alternatives()
        if self.alternatives:
            self._set_status("Stopped. Ctrl+O inserts what was generated, Ctrl+R tries again.")
        else:
            self._set_status("Stopped before any words came. Ctrl+R tries again.")
        self._show_head()

    def _settle_alternatives(self) -> None:
        """Once nothing streams any more, only alternatives that hold words are offered."""
        self._apply(self.suggestions.settle())

    def action_accept(self) -> None:
        text = self.suggestions.shown_text
        if not text:
            return
        if self.generating:
            self.action_stop()
        editor = self.query_one("#editor", TextArea)
        editor.insert(text)
        editor.focus()
        self._set_status("Inserted. Ctrl+G continues from the cursor.")

    def action_next_alternative(self) -> None:
        if not self.suggestions.next_alternative():
            return
        self._render_shown()
        notes = note_sentences(self.suggestions.shown_notes())
        self._set_status(f"Alternative {self.shown + 1} of {len(self.alternatives)}.{notes}")
        self._show_head()

    def action_settings(self) -> None:
        from smartlap.tui.settings_dialog import SettingsDialog

        def changed(controls: GenerationControls | None) -> None:
            if controls is None:
                return
            self.controls = controls
            self._refresh_sampling()
            try:
                save_controls(controls)
            except (SmartlapError, OSError) as error:
                self._set_status("Settings apply to this session only: they could not be "
                                 f"kept ({getattr(error, 'message', error)}).")
            else:
                self._set_status("Settings kept for next time.")
        self.app.push_screen(SettingsDialog(self.controls), changed)

    def _refresh_sampling(self) -> None:
        """What the next generation will use: the style's defaults under the knobs set."""
        try:
            self._sampling = effective_settings(self.controls,
                                                style_named(self._current_style() or None))
        except SmartlapError as error:
            self._sampling = effective_settings(self.controls, None)
            self.app.show_error(error)
        self._show_head()

    def _show_head(self) -> None:
        c = self._sampling
        tabs = self.suggestions.tabs()
        state = "[green]streaming…[/] " if self.generating else ""
        seed = f" seed {c.seed}" if c.seed is not None else ""
        head = (f"{tabs}{state}[dim]t={c.temperature:g} p={c.top_p:g} "
                f"max {c.max_new_tokens}{seed}[/]")
        if head != self._head:  # an update re-lays out the screen: not per token batch
            self._head = head
            self.query_one("#suggestion-head", Static).update(head)

    def _set_status(self, text: str) -> None:
        self.query_one("#write-status", Static).update(text)
