"""Memory of the training process as a meter: GPU allocated/reserved/total, or RAM."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from smartlap.units import format_memory

ALLOCATED, RESERVED, FREE = "█", "▒", "░"


def meter(memory: dict[str, Any], width: int) -> Text:
    label = format_memory(memory)
    bar_w = max(width - len(label) - 1, 0)
    total = memory.get("total_mb") or memory.get("system_mb")
    text = Text(label + " ")
    if not bar_w or not total:
        return text
    used = memory.get("allocated_mb", memory.get("rss_mb", 0)) or 0
    reserved = max(memory.get("reserved_mb", used) or 0, used)
    a = min(round(used / total * bar_w), bar_w)
    r = min(round(reserved / total * bar_w), bar_w) - a
    share = used / total
    style = "red" if share > 0.9 else "yellow" if share > 0.75 else "green"
    text.append(ALLOCATED * a, style=style)
    text.append(RESERVED * r, style=style)
    text.append(FREE * (bar_w - a - r), style="dim")
    return text


class MemoryMeter(Widget):
    DEFAULT_CSS = "MemoryMeter { height: 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.memory: dict[str, Any] = {}

    def set_memory(self, memory: dict[str, Any]) -> None:
        if memory != self.memory:
            self.memory = dict(memory)
            self.refresh()

    def render(self) -> Text:
        return meter(self.memory, self.size.width)
