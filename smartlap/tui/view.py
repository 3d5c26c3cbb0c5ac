"""A mixin for the studio's tab views (Datasets, Models, Train)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from textual.css.query import NoMatches


class LateBuiltView:
    """A tab view that is mounted just after the first paint, so the studio opens fast.

    A plain mixin (put it before the container class) so it adds no CSS type of its own.
    Because it is built late, the person may already be quitting when it mounts: then its
    widgets are gone, and ``setup`` (and any message queued before the quit, such as the
    first row's highlight) is skipped instead of raising.
    """

    def on_mount(self) -> None:
        # The studio may have quit while this view was being built.
        if not self.is_attached:  # type: ignore[attr-defined]
            return
        with unless_torn_down():
            self.setup()

    def setup(self) -> None:
        """Fill the view once its widgets exist (tables' columns, first refresh)."""


@contextlib.contextmanager
def unless_torn_down() -> Iterator[None]:
    """Skip what follows if the view's widgets are gone: the studio is quitting."""
    with contextlib.suppress(NoMatches):
        yield
