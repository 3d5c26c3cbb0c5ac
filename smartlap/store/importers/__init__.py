"""Readers that turn a lyric collection on disk into a stream of raw songs.

Each module has one job: ``decoding`` finds the text encoding (and refuses binary files)
and reads lines in bounded pieces, ``detection`` picks the format from the content,
``csv_table``, ``txt_dump``, ``folder``, ``jsonl`` and ``chordpro_files`` read one format
each, ``leftovers`` and ``boilerplate`` drop what lyric sites leave in songs (scraping debris
by its shape, templated credits by their share of song edges), ``normalise`` puts lyrics in
one canonical form, ``quality`` decides what is too short or not text, ``dedupe`` drops
exact and near-duplicate songs, and ``report`` collects what was imported, skipped and why.
``smartlap.store.datasets`` runs them in that order, streaming, so a big file never sits in
memory whole.
"""

from __future__ import annotations

from smartlap.store.importers.detection import FORMATS
from smartlap.store.importers.records import RawSong, Skipped

__all__ = ["FORMATS", "RawSong", "Skipped"]
