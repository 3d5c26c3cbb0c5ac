"""The one front door to generation, for ``smartlap generate`` and the studio's Write screen.

A ``GenerationSession`` is a loaded model and what goes with generating from it: settings
(smartlap's defaults, then the style's sampling defaults, then what the person set), the
stream of ``Token``/``SampleEnd`` events with its stop event, next-line candidates, the one
copied-line check against the model's training lyrics, and the demo-model notice. The CLI
renders its events as text or JSON lines, the studio as messages to its widgets; neither
builds generation any other way.

Loading asks for the lean path (``load_model(lean=True)``): GPT-2 and GPT-Neo folders are
read without importing transformers, which is most of the time to a first token.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartlap.store.models import DEFAULT_MODEL

if TYPE_CHECKING:
    from smartlap.craft.originality import CopyCheck
    from smartlap.events import Event
    from smartlap.lm.constrained import NextLines
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.loading import LoadedModel
    from smartlap.styles import Style

REAL_MODEL = "gpt2-small-dutch"  # the catalog's Dutch GPT-2, what the notice points to


def demo_notice(info: Any) -> str | None:
    """What to tell a person generating with the bundled demo model (None for any other).

    smartlap-mini is 2.5M parameters trained on the demo corpus: it shows that everything
    works, not what smartlap can write, so nobody should judge smartlap by it."""
    if getattr(info, "name", None) != DEFAULT_MODEL or getattr(info, "origin", None) != "bundled":
        return None
    return (f"{DEFAULT_MODEL} is a tiny demo model: it writes word salad, not smartlappen. "
            f"For real Dutch lyrics get one with 'smartlap models pull {REAL_MODEL}', or "
            "register a model folder with 'smartlap models add PATH'.")


class GenerationSession:
    """A loaded model and everything the fronts need to generate with it."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self._copy_check: CopyCheck | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model: str | Path | None = None, *, device: str | None = None,
             precision: str | None = "auto", trust_remote_code: bool = False,
             allow_pickle: bool = False) -> GenerationSession:
        """Load ``model`` (default: the bundled one) for generation."""
        from smartlap.lm.loading import load_model

        return cls(load_model(model, device=device, precision=precision,
                              trust_remote_code=trust_remote_code, allow_pickle=allow_pickle,
                              lean=True))

    @property
    def info(self) -> Any:
        return getattr(self.loaded, "info", None)

    @property
    def device(self) -> str:
        return str(getattr(self.loaded, "device", "?"))

    @property
    def demo_notice(self) -> str | None:
        return demo_notice(self.info)

    @staticmethod
    def settings(style: Style | None = None, **overrides: Any) -> GenerationSettings:
        """smartlap's defaults, then ``style``'s sampling defaults, then the non-None overrides."""
        from smartlap.lm.generation import GenerationSettings

        return GenerationSettings.from_style(style, **overrides)

    def stream(self, prompt: str, settings: GenerationSettings | None = None, *,
               style: Style | None = None,
               stop: threading.Event | None = None) -> Iterator[Event]:
        """``Token`` events as text appears and one ``SampleEnd`` per sample; ``stop`` ends it
        within a token."""
        from smartlap.lm.generation import stream_generate

        return stream_generate(self.loaded, prompt, settings or self.settings(style),
                               stop=stop, style=style)

    def next_lines(self, context: str, *, style: Style | None = None,
                   candidates: int | None = None, rhyme_with: str | None = None,
                   syllables: int | None = None,
                   settings: GenerationSettings | None = None) -> NextLines:
        """Candidate next lines that rhyme and scan, best first (``candidates`` sampled:
        ``constrained.CANDIDATES`` unless given), with their notes."""
        from smartlap.lm.constrained import CANDIDATES, next_line_candidates

        return next_line_candidates(self.loaded, context, rhyme_with=rhyme_with,
                                    syllables=syllables,
                                    candidates=CANDIDATES if candidates is None else candidates,
                                    settings=settings, style=style,
                                    originality=self.copy_check.index())

    @property
    def copy_check(self) -> CopyCheck:
        """The check of generated lines against the model's training lyrics (one per session:
        its index is built on the first check)."""
        with self._lock:
            if self._copy_check is None:
                from smartlap.craft.originality import CopyCheck

                self._copy_check = CopyCheck(self.info)
            return self._copy_check
