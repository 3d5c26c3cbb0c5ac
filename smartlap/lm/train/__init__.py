"""The fine-tuning engine: config -> data -> mode -> loop -> checkpoints and events.

Read in this order: ``config`` (what a run is), ``data`` (songs to packed blocks),
``modes`` (which weights learn), ``memory`` (what it costs), ``state`` (how a run resumes),
``failures`` (what can go wrong and what to tell the person), ``scratch`` (models built from
nothing), ``engine`` (the loop that ties them together).
"""

from smartlap.lm.train.config import DEFAULT_SAMPLE_PROMPT, TrainConfig

__all__ = ["DEFAULT_SAMPLE_PROMPT", "TrainConfig"]
