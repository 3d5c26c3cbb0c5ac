"""Originality: generated lines copied (near-)verbatim from the training lyrics are flagged."""

from __future__ import annotations

from pathlib import Path

from lyrics_fixtures import csv_text

from smartlap.craft.originality import (
    OriginalityIndex,
    index_for_dataset,
    index_for_model,
    normalise_line,
)

SONG = """Daar in de Jordaan, daar woonde mijn moeder
ze zong elke avond een lied voor het raam
de kroeg op de hoek werd haar tweede thuis
en niemand die ooit nog haar tranen zag

Het orgel speelt weer op de gracht
ik denk aan haar en aan de nacht
"""

OTHER = """De schepen varen uit naar zee
de meeuwen vliegen met ze mee
de zeeman zwaait zijn meisje na
en zegt tot ziens, ik kom weer thuis
"""


def _index() -> OriginalityIndex:
    return OriginalityIndex.from_texts([SONG, OTHER])


def test_flags_a_copied_line_ignoring_case_accents_and_punctuation() -> None:
    match = _index().check("Daar in de JORDAAN — daar wóónde mijn moeder!")
    assert match is not None
    assert match.kind == "copied"
    assert match.source == "Daar in de Jordaan, daar woonde mijn moeder"
    assert match.similarity == 1.0


def test_flags_a_near_copy_with_one_word_changed() -> None:
    match = _index().check("ze zong elke avond een lied voor het huis")
    assert match is not None
    assert match.kind == "near"
    assert match.source.startswith("ze zong elke avond")
    assert 0.85 <= match.similarity < 1.0


def test_passes_novel_lines_and_lines_that_only_share_a_phrase() -> None:
    index = _index()
    assert index.check("mijn vader werkte op de werf aan de Amstel") is None
    assert index.check("in de Jordaan zingen wij een ander lied vannacht") is None
    assert index.check("de zeeman zingt een lied van de zee en zijn vrouw") is None


def test_short_stock_phrases_are_never_flagged() -> None:
    index = OriginalityIndex(["ik hou van jou", "de nacht"])
    assert len(index) == 0
    assert index.check("ik hou van jou") is None
    strict = OriginalityIndex(["ik hou van jou"], min_words=2)
    assert strict.check("Ik hou van jou!") is not None


def test_check_text_lists_every_flagged_line_in_order() -> None:
    text = "de meeuwen vliegen met ze mee\nheel iets nieuws over de maan en mij\n" \
           "het orgel speelt weer op de gracht\n"
    matches = _index().check_text(text)
    assert [m.kind for m in matches] == ["copied", "copied"]
    assert matches[1].line == "het orgel speelt weer op de gracht"
    assert normalise_line(" Één,  twee! ") == "een twee"


def test_index_for_a_stored_dataset_is_built_once(tmp_path: Path) -> None:
    from smartlap.store.datasets import import_dataset, iter_songs

    rows = [{"title": f"Lied {i}", "artist": "Zanger", "lyrics": text}
            for i, text in enumerate([SONG, OTHER] * 6)]
    source = tmp_path / "songs.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    info = import_dataset(source, name="mini", val_fraction=0.0)
    assert info.songs >= 1
    index = index_for_dataset("mini", split=None)
    assert index is index_for_dataset("mini", split=None)
    first_line = next(iter_songs("mini")).lyrics.splitlines()[0]
    assert index.check(first_line) is not None
    assert index.check("een heel nieuwe regel die nergens in staat") is None


def test_index_for_model_needs_a_recorded_dataset() -> None:
    class Info:
        dataset = None

    assert index_for_model(Info()) is None
    Info.dataset = "gone"
    assert index_for_model(Info()) is None  # a deleted dataset is no reason to fail
