"""Generation settings: temperature, top-p, max tokens, seed, alternatives — each validated."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from smartlap.tui.controls import FIELDS, GenerationControls


class SettingsDialog(ModalScreen[GenerationControls | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"),
                                             Binding("ctrl+s", "apply", "Apply")]

    def __init__(self, controls: GenerationControls) -> None:
        super().__init__(classes="dialog-screen")
        self.controls = controls

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Generation settings", classes="dialog-question")
            with Grid(id="settings-grid"):
                for name, (label, _) in FIELDS.items():
                    value = getattr(self.controls, name)
                    yield Label(label)
                    yield Input("" if value is None else str(value), id=name, compact=True)
                    yield Static("", id=f"{name}-error", classes="field-error")
            yield Button("Apply (Ctrl+S)", variant="primary", id="apply")

    def on_input_changed(self, event: Input.Changed) -> None:
        _, problem = FIELDS[event.input.id][1](event.value)
        self.query_one(f"#{event.input.id}-error", Static).update(problem or "")

    def on_input_submitted(self) -> None:
        self.action_apply()

    def on_button_pressed(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        values = {}
        for name, (_, parse) in FIELDS.items():
            value, problem = parse(self.query_one(f"#{name}", Input).value)
            if problem:
                self.query_one(f"#{name}-error", Static).update(problem)
                self.query_one(f"#{name}", Input).focus()
                return
            values[name] = value
        self.dismiss(GenerationControls(**values))

    def action_cancel(self) -> None:
        self.dismiss(None)
