"""Small modal dialogs shared by the screens: confirm, ask for text, show Markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no; Enter or y confirms, Escape or n declines."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "Yes"),
                                             Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__(classes="dialog-screen")
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; ``check`` returns an error to show under the field, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str = "", placeholder: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.question, self.value, self.placeholder, self.check = (question, value, placeholder,
                                                                   check)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-question")
            yield Input(self.value, placeholder=self.placeholder, id="answer")
            yield Static("", classes="field-error", id="answer-error")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#answer-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        problem = self.check(event.value) if self.check else None
        if problem:
            self.query_one("#answer-error", Static).update(problem)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MarkdownScreen(ModalScreen[None]):
    """A scrollable Markdown document (import reports, model reports, run results)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.markdown = title, markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is not needed before first paint

        with Vertical(classes="dialog dialog-wide"):
            yield Label(self.title_text, classes="dialog-question")
            with VerticalScroll():
                yield Markdown(self.markdown)
            yield Static("Esc closes", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
