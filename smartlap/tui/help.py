"""The songwriter's help: every screen's keys and what each feature does, in plain words.

Opened with F6, ``?`` (where no text field takes the key) or "Help" in the command palette;
it replaces Textual's generic "Keys" panel, which lists editor internals a songwriter never
needs. The screen you came from comes first, then the keys that work everywhere.
``tests/test_help.py`` checks that every key a screen binds is named here, so the help
cannot fall behind the bindings.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

HELP_KEY = "f6"

EVERYWHERE = """\
### Everywhere

| key | does |
|---|---|
| F1 · F2 · F3 · F4 | go to Write, Datasets, Models, Train (or click the tab) |
| F6 or ? | this help (? only where you are not typing) |
| Ctrl+P | the command palette: type what you want, e.g. "export", "rhyme", "resume" |
| F5 | fold the runs pane at the bottom away, or bring it back |
| F8 | cancel the training run shown in the pane (asks first; it can be resumed) |
| F12 | show the next training run in the pane |
| F7 | page back through the shown run's per-epoch samples (same prompt and seed each epoch) |
| Tab / Shift+Tab | move between fields and lists |
| Escape | close a dialog (and this help) |
| Ctrl+Q | quit; your song is saved first |
"""

SECTIONS: dict[str, str] = {
    "write": """\
### Write — your song

Type in the editor; the title and style sit above it. The song is saved by itself a moment
after you stop typing (and when you quit), and the songbook keeps its last 20 versions.
Left of each line the gutter shows its syllable count and a rhyme letter: lines with the
same letter rhyme (a softer letter with `~` is a near rhyme). Long lines wrap at the edge.
Chords such as `[Am]` are dimmed and never counted.

| key | does |
|---|---|
| Ctrl+G | the model continues the song from the cursor (or the selection), word by word |
| Escape | stop the model at once |
| Ctrl+O | put the suggestion into the song at the cursor |
| Ctrl+R | try again from the same spot |
| Ctrl+T | show the next alternative (F9 sets how many) |
| Ctrl+L | next-line candidates that rhyme with their partner line and fit the syllables |
| Ctrl+K | rhymes for the word at the cursor, from the whole Dutch word list |
| Ctrl+B | the songbook: Enter opens a song, h lists its versions and brings one back |
| Ctrl+N | start a new song (the current one stays in the songbook) |
| F9 | settings: temperature (how adventurous), max tokens, alternatives, seed; kept |

A `©` before a suggested line means it was copied from the lyrics the model learned from
(`≈` for a near copy); the mark is only shown, never inserted. Rename, delete and export
(.txt, .md, ChordPro) are in the command palette.
""",
    "datasets": """\
### Datasets — lyrics to learn from

A dataset is a collection of songs the model can be trained on. The table shows songs,
lines, words and how they are split into training and validation songs; the right side
previews the highlighted one.

| key | does |
|---|---|
| i | import a CSV, JSON lines, a text dump, LRC or a folder of .txt (Tab completes the path) |
| r | the import report: what was imported, what was skipped and why |
| d or Delete | delete the dataset (asks first) |
""",
    "models": """\
### Models — the voices that suggest

Every model with where it came from and its size; the details show a trained model's
settings, results and per-epoch history.

| key | does |
|---|---|
| p | pull a Dutch GPT-2 from the catalog (needs the network once) |
| a | add a model folder you already have (Hugging Face format) |
| n | rename the model |
| d or Delete | delete the model (asks first) |
| r | the model's report: architecture, results and a sample |
| Space | mark the model (● before its name) for a comparison; again unmarks |
| c | compare the marked models: one prompt, the same seed, each column streaming live |
""",
    "train": """\
### Train — teach a model your songs

Choose a model and a dataset, and start: training runs in its own process, so the studio
stays quick and a crash there never takes your song with it. Empty fields use sensible
defaults for the model's size (shown greyed); mode lora adds its rank, alpha, dropout and
layers. The runs pane below shows loss, memory, speed, the time left and, after each epoch,
a sample: the prompt it continues, then what the model wrote.

| key | does |
|---|---|
| Ctrl+S | start training with the form |
| Enter | a run's results: per-epoch table and samples |
| u | resume a stopped run, or train a finished one further (asks for the epochs in total) |
| c | cancel a running run; it saves its state and can be resumed |
""",
}


def help_markdown(first: str | None = None) -> str:
    """All of the help: screen ``first`` (the one you came from), the keys that work
    everywhere, then the other screens in tab order."""
    parts = [SECTIONS[first]] if first in SECTIONS else []
    parts.append(EVERYWHERE)
    parts += [text for tab, text in SECTIONS.items() if tab != first]
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    """The help as a scrollable page over the studio; Escape, q, ? or F6 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(f"escape,q,question_mark,{HELP_KEY}", "close", "Close", priority=True)]

    def __init__(self, first: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.first = first

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is not needed before first paint

        with Vertical(classes="dialog dialog-wide", id="help"):
            yield Label("Help — smartlap, the songwriting studio", classes="dialog-question")
            with VerticalScroll(id="help-body"):
                yield Markdown(help_markdown(self.first))
            yield Static("↑↓ PgUp PgDn scroll · Esc closes", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
