"""The Compare view: the same prompt and seed through each marked model, one column a model.

It runs the core's ``smartlap.lm.compare.compare_models`` (the one ``smartlap compare``
runs) in a worker thread; each column fills live as its model streams, and its figures
(validation loss, bits per character, copied lines, tokens/s) appear when it is done. A
model that fails shows its error in its column; the others still run. Escape stops.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from smartlap.errors import SmartlapError


class CompareStarted(Message):
    def __init__(self, column: int) -> None:
        super().__init__()
        self.column = column


class CompareToken(Message):
    def __init__(self, column: int, sample: int, text: str) -> None:
        super().__init__()
        self.column, self.sample, self.text = column, sample, text


class CompareDone(Message):
    def __init__(self, column: int, result: Any) -> None:
        super().__init__()
        self.column, self.result = column, result


class CompareStatus(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CompareFailed(Message):
    def __init__(self, error: SmartlapError) -> None:
        super().__init__()
        self.error = error


class CompareColumn(Vertical):
    """One model: its name, its figures once known, and its samples as they stream."""

    def __init__(self, model: str, column: int) -> None:
        super().__init__(id=f"compare-col-{column}", classes="compare-column")
        self.model = model
        self.samples: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label(self.model, classes="compare-model")
        yield Static("waiting…", classes="compare-figures")
        with VerticalScroll(classes="compare-text-box"):
            yield Static("", classes="compare-text", markup=False)

    def started(self) -> None:
        self.query_one(".compare-figures", Static).update("loading, scoring, generating…")

    def add_token(self, sample: int, text: str) -> None:
        while len(self.samples) < sample:
            self.samples.append("")
        self.samples[sample - 1] += text
        self._show_text(self.samples)

    def done(self, result: Any) -> None:
        figures = self.query_one(".compare-figures", Static)
        figures.update("\n".join(result.figure_lines()))
        figures.set_class(bool(result.error), "compare-failed")
        if result.samples:
            self.samples = list(result.samples)  # the final text (held-back lines cut)
            self._show_text(self.samples, result.copied_lines)

    def _show_text(self, samples: list[str], copied: list[dict[str, Any]] | None = None) -> None:
        from rich.text import Text

        marks = {(c["sample"], c["row"]): c["kind"] for c in copied or []}
        text = Text()
        for number, sample in enumerate(samples, start=1):
            if len(samples) > 1:
                text.append(f"— sample {number} —\n", style="dim")
            for row, line in enumerate(sample.rstrip("\n").split("\n")):
                kind = marks.get((number, row))
                if kind is None:
                    text.append(line + "\n")
                else:
                    text.append(f"{'=' if kind == 'copied' else '≈'} {line}\n", style="yellow")
        self.query_one(".compare-text", Static).update(text)


class CompareScreen(ModalScreen[None]):
    """Side-by-side generation from the marked models (Escape stops and closes)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, models: list[str], prompt: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.models, self.prompt = models, prompt
        self.stop = threading.Event()
        self.results: dict[int, Any] = {}
        self.status_text = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog compare-dialog"):
            shown = self.prompt.strip().replace("\n", " / ") or "(no prompt)"
            yield Label(f"Compare — prompt: {shown}   (Esc stops and closes)",
                        classes="dialog-question", markup=False)
            with Horizontal(id="compare-columns"):
                for column, model in enumerate(self.models):
                    yield CompareColumn(model, column)
            yield Static("", id="compare-status")

    def on_mount(self) -> None:
        self._run()

    def _comparison(self) -> tuple[list[Any], Any]:
        from smartlap.lm.compare import DEFAULT_SEED, Comparison, default_dataset, resolve_models
        from smartlap.tui.controls import effective_settings, load_controls

        infos = resolve_models(self.models)
        controls, _ = load_controls()  # the Write screen's F9 knobs, as kept in config.toml
        settings = effective_settings(controls, None)
        if settings.seed is None:
            settings.seed = DEFAULT_SEED  # one seed for every column, or it is no comparison
        return infos, Comparison(prompt=self.prompt, settings=settings,
                                 dataset=default_dataset(infos))

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run(self) -> None:
        from smartlap.lm.compare import compare_models

        try:
            infos, comparison = self._comparison()
            self.post_message(CompareStatus(
                f"seed {comparison.settings.seed} · losses on the validation songs of "
                f"{comparison.dataset}"))
            for column, result in compare_models(
                    infos, comparison, stop=self.stop,
                    on_start=lambda column, info: self.post_message(CompareStarted(column)),
                    on_token=lambda column, token: self.post_message(
                        CompareToken(column, token.sample, token.text))):
                self.post_message(CompareDone(column, result))
        except SmartlapError as error:
            self.post_message(CompareFailed(error))

    def _column(self, index: int) -> CompareColumn:
        return self.query_one(f"#compare-col-{index}", CompareColumn)

    @on(CompareStatus)
    def _status(self, message: CompareStatus) -> None:
        self.status_text = message.text
        self.query_one("#compare-status", Static).update(message.text)

    @on(CompareStarted)
    def _started(self, message: CompareStarted) -> None:
        self._column(message.column).started()

    @on(CompareToken)
    def _token(self, message: CompareToken) -> None:
        self._column(message.column).add_token(message.sample, message.text)

    @on(CompareDone)
    def _done(self, message: CompareDone) -> None:
        self.results[message.column] = message.result
        self._column(message.column).done(message.result)
        if len(self.results) == len(self.models):
            failed = sum(1 for r in self.results.values() if r.error)
            self.query_one("#compare-status", Static).update(
                f"{self.status_text} · done" + (f", {failed} failed" if failed else ""))

    @on(CompareFailed)
    def _failed(self, message: CompareFailed) -> None:
        self.app.show_error(message.error)
        self.dismiss(None)

    def action_close(self) -> None:
        self.stop.set()
        self.dismiss(None)
