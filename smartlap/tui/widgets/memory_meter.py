"""Memory of the training process as a meter: GPU allocated/reserved/total, or RAM."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from smartlap.events import MemorySnapshot
from smartlap.units import format_memory

ALLOCATED, RESERVED, FREE = "█", "▒", "░"


def meter(memory: MemorySnapshot | dict | None, width: int) -> Text:
    memory = MemorySnapshot.coerce(memory)
    label = format_memory(memory)
    bar_w = max(width - len(label) - 1, 0)
    total = memory.total_mb or memory.system_mb
    text = Text(label + " ")
    if not bar_w or not total:
        return text
    used = (memory.allocated_mb if memory.allocated_mb is not None else memory.rss_mb) or 0
    reserved = max(memory.reserved_mb if memory.reserved_mb is not None else used, used)
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
        self.memory = MemorySnapshot()

    def set_memory(self, memory: MemorySnapshot | None) -> None:
        memory = MemorySnapshot.coerce(memory)
        if memory != self.memory:
            self.memory = memory
            self.refresh()

    def render(self) -> Text:
        return meter(self.memory, self.size.width)
