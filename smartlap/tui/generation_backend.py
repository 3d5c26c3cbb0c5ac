"""The Write screen's seam to generation: ``smartlap.lm.session.GenerationSession``, the
front door ``smartlap generate`` uses too, imported when the person first generates.

Tests and benchmarks hand the Write screen a stand-in with the same four methods.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from smartlap.tui.controls import GenerationControls, effective_settings


def style_named(name: str | None) -> Any:
    """The named style (None for none); the one place the Write screen loads one."""
    if not name:
        return None
    from smartlap.styles import get_style

    return get_style(name)


class GenerationBackend:
    """The Write screen's seam to ``smartlap.lm.session.GenerationSession``, the generation
    front door ``smartlap generate`` uses too (imported when the person first generates)."""

    def load(self, name: str) -> Any:
        """A ``GenerationSession`` on the model, its torch threads the studio's share."""
        from smartlap.lm.session import GenerationSession
        from smartlap.lm.threads import studio_generation_threads, use_threads

        use_threads(studio_generation_threads())  # leave cores to the UI and training
        return GenerationSession.open(name)

    def stream(self, session: Any, prompt: str, controls: GenerationControls,
               stop: threading.Event, style: str | None) -> Iterator[Any]:
        """The same generation as ``smartlap generate``: style defaults, then the knobs."""
        chosen = style_named(style)
        return session.stream(prompt, effective_settings(controls, chosen), stop=stop,
                              style=chosen)

    def next_lines(self, session: Any, context: str, style: str | None) -> list[Any]:
        return session.next_lines(context, style=style_named(style))

    def copies(self, session: Any, prompt: str, text: str
               ) -> tuple[str | None, list[tuple[int, Any]], str | None]:
        """The training dataset, the (line number, match) pairs of text copied from it, and
        why the check was skipped (None when it ran or there was nothing to check)."""
        check = session.copy_check
        rows = check.rows(text, prompt)
        return check.dataset, rows, check.skipped
