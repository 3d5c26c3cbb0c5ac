"""Epoch-loss chart: train and validation curves on one small character grid.

Drawn as Rich text (no plotting dependency); redrawn only when an epoch ends, so its cost
never matters. Train points are ``●``, validation ``◆``, both in one cell ``◉``.
"""

from __future__ import annotations

from itertools import pairwise

from rich.text import Text
from textual.widget import Widget

TRAIN_STYLE = "bold #3a86ff"
VAL_STYLE = "bold #f3722c"
LINE_STYLE = "#8d99ae"
LABEL_WIDTH = 6


def _fmt(value: float) -> str:
    return f"{value:5.2f}" if value < 100 else f"{value:5.0f}"


def draw(train: list[float], val: list[float | None], width: int, height: int) -> Text:
    """The chart as text of ``height`` lines, ``width`` cells wide (legend on the last line)."""
    plot_w, plot_h = max(width - LABEL_WIDTH, 4), max(height - 1, 2)
    values = [v for v in [*train, *val] if v is not None]
    legend = Text.assemble(("●", TRAIN_STYLE), " train ", ("◆", VAL_STYLE), " val")
    if not values:
        lines = [" " * width] * (plot_h - 1)
        message = Text("no epochs yet".center(width), style="dim")
        return Text("\n").join([Text(line) for line in lines] + [message, legend])
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    epochs = max(len(train), len(val))
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * plot_w for _ in range(plot_h)]

    def cell(index: int, value: float) -> tuple[int, int]:
        x = round(index * (plot_w - 1) / (epochs - 1)) if epochs > 1 else 0
        y = round((hi - value) / span * (plot_h - 1))
        return x, y

    for series, marker, style in ((train, "●", TRAIN_STYLE), (val, "◆", VAL_STYLE)):
        points = [cell(i, v) for i, v in enumerate(series) if v is not None]
        for (x0, y0), (x1, y1) in pairwise(points):
            for x in range(x0 + 1, x1):
                y = round(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
                if grid[y][x][0] == " ":
                    grid[y][x] = ("·", style.replace("bold ", ""))
        for x, y in points:
            both = grid[y][x][0] in ("●", "◆") and grid[y][x][0] != marker
            grid[y][x] = ("◉", "bold") if both else (marker, style)

    text = Text()
    for row, cells in enumerate(grid):
        label = _fmt(hi) if row == 0 else _fmt(lo) if row == plot_h - 1 else ""
        text.append(f"{label:>{LABEL_WIDTH - 1}}│", style="dim")
        for char, style in cells:
            text.append(char, style=style or None)
        text.append("\n")
    last = f"epoch {epochs}"
    text.append_text(legend)
    text.append(f"  {last}", style="dim")
    return text


class LossChart(Widget):
    """Train and validation loss per epoch."""

    DEFAULT_CSS = """
    LossChart { height: 6; min-width: 20; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.train: list[float] = []
        self.val: list[float | None] = []

    def set_losses(self, train: list[float], val: list[float | None]) -> None:
        if (train, val) != (self.train, self.val):
            self.train, self.val = list(train), list(val)
            self.refresh()

    def render(self) -> Text:
        return draw(self.train, self.val, self.size.width, self.size.height)
