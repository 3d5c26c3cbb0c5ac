"""A mixin for the studio's tab views (Datasets, Models, Train), and list refresh helpers."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

if TYPE_CHECKING:  # annotations only: the Write screen's first paint needs no DataTable
    from textual.widgets import DataTable, Select, Static


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


_FILLED: weakref.WeakSet = weakref.WeakSet()


def set_choices(select: Select, values: list[str], fallback: str | None) -> None:
    """Refill a select; the person's choice stays if still offered, else ``fallback``.

    A select the person emptied on purpose stays empty when the list is refilled (a store
    change must not choose for them); only its first fill, or a choice that is gone, falls
    back."""
    from textual.widgets import Select

    chosen = select.value
    emptied = select in _FILLED and chosen is Select.NULL
    select.set_options([(value, value) for value in values])
    _FILLED.add(select)
    if chosen in values:
        select.value = chosen
    elif fallback in values and not emptied:
        select.value = fallback


def keep_cursor(table: DataTable, keys: list[str], selected: str | None) -> bool:
    """After a refill, put the cursor back on ``selected``; False if that row is gone."""
    if selected not in keys:
        return False
    table.move_cursor(row=keys.index(selected))
    return True


def show_damaged(note: Static, damaged: Sequence[Any]) -> None:
    """Fill a view's damaged-entries note (hidden when nothing was skipped): one line per
    entry a listing skipped (``store.listing.Damaged``), so the rest of the list stays."""
    from rich.markup import escape

    note.update("\n".join(f"[b]⚠[/b] {escape(entry.line)}" for entry in damaged))
    note.set_class(bool(damaged), "-shown")
