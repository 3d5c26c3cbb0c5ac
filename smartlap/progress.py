"""Progress of long store operations (an import, a model copy), for any front end to draw.

The core counts; the CLI draws a rich bar, the studio could draw a ProgressBar. Reports are
rate-limited so a fast loop does not spend its time drawing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

REPORT_EVERY_S = 0.1


@dataclass
class Progress:
    """``done`` of ``total`` units (bytes), plus a count of finished items (songs, files)."""

    callback: Callable[[Progress], None] | None = None
    total: int | None = None
    done: int = 0
    items: int = 0
    _last: float = field(default=0.0, repr=False)

    def start(self, total: int | None) -> None:
        self.total, self.done, self.items = total, 0, 0
        self._report(force=True)

    def advance(self, amount: int = 0, items: int = 0) -> None:
        self.done += amount
        self.items += items
        self._report()

    def finish(self) -> None:
        if self.total is not None:
            self.done = self.total
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.callback is not None and (force or now - self._last >= REPORT_EVERY_S):
            self._last = now
            self.callback(self)
