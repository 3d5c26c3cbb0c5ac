"""Songcraft core: syllables, rhyme and rhyme schemes against hand-labelled Dutch sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartlap.craft import rhyme_key, rhyme_scheme, rhymes, syllables
from smartlap.craft.scheme import scheme_letters
from smartlap.craft.syllables import number_words

DATA = Path(__file__).parent / "data" / "craft"


def _rows(name: str) -> list[list[str]]:
    rows = []
    for raw in (DATA / name).read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            rows.append(raw.split("\t"))
    return rows


SYLLABLE_ROWS = _rows("syllables.tsv")
RHYME_ROWS = _rows("rhymes.tsv")


def test_labelled_sets_are_big_enough() -> None:
    assert len(SYLLABLE_ROWS) >= 400
    assert len(RHYME_ROWS) >= 300
    assert sum(1 for r in RHYME_ROWS if r[2] == "0") >= 100


@pytest.mark.parametrize(("category", "floor"), [("lyric", 0.995), ("general", 0.97)])
def test_syllable_accuracy_on_labelled_words(category: str, floor: float) -> None:
    rows = [r for r in SYLLABLE_ROWS if r[2] == category]
    wrong = [(w, int(n), syllables(w)) for w, n, _ in rows if syllables(w) != int(n)]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= floor, wrong


def test_rhyme_recall_and_false_positive_rate_on_labelled_pairs() -> None:
    positives = [(a, b) for a, b, label, *_ in RHYME_ROWS if label == "1"]
    negatives = [(a, b) for a, b, label, *_ in RHYME_ROWS if label == "0"]
    missed = [(a, b, rhyme_key(a), rhyme_key(b)) for a, b in positives if not rhymes(a, b)]
    false = [(a, b, rhyme_key(a)) for a, b in negatives if rhymes(a, b)]
    assert 1 - len(missed) / len(positives) >= 0.95, missed
    assert len(false) / len(negatives) <= 0.01, false


@pytest.mark.parametrize(("a", "b"), [
    ("maken", "laken"), ("lopen", "kopen"), ("geven", "leven"), ("hart", "smart"),
    ("wijd", "tijd"), ("feit", "tijd"), ("houd", "koud"), ("held", "geld"),
    ("vergeten", "weten"), ("lopen", "open"), ("studeren", "leren"), ("melodie", "knie"),
    ("bakkerij", "mij"), ("café", "nee"), ("hotel", "snel"),
])
def test_rhymes_from_the_stressed_vowel(a: str, b: str) -> None:
    assert rhymes(a, b)
    assert rhymes(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("hart", "hart"), ("Lopen", "lopen!"), ("man", "maan"), ("pot", "poot"),
    ("lachen", "maken"), ("geven", "gaven"), ("nieuw", "eeuw"), ("eindelijk", "eigenlijk"),
])
def test_non_rhymes_and_repetition(a: str, b: str) -> None:
    assert not rhymes(a, b)


def test_rhymes_compares_the_last_words_of_lines() -> None:
    assert rhymes("De zon gaat onder in de stad,", "ik denk aan alles wat ik had")
    assert rhymes("'k heb je lief, 'k heb je nooit vergeten", "dat wil ik wel weten 't")
    assert not rhymes("", "hart")


def test_rhyme_key_is_the_sound_from_the_stressed_vowel() -> None:
    assert rhyme_key("tijd") == rhyme_key("feit") != ""
    assert rhyme_key("koud") == rhyme_key("hout")
    assert rhyme_key("studeren") == rhyme_key("leren")
    assert rhyme_key("zonneschijn") == rhyme_key("schijn")  # a compound rhymes on its last part
    assert rhyme_key("boeken") != rhyme_key("ken")  # ... but boe-ken is no compound
    assert rhyme_key("'t") == ""
    assert rhyme_key("   ") == ""


@pytest.mark.parametrize(("line", "count"), [
    ("Ik heb m'n hart verloren in Amsterdam", 11),
    ("'k Zag twee beren broodjes smeren", 8),
    ("zo'n lieve meid, da's wat ik zoek", 8),
    ("De auto's en de foto's van 't café", 10),
    ("Geef mij maar Amsterdam", 6),
    ("Zonne-schijn en regen", 6),
    ("In 1964", 8),
    ("", 0),
    ("...!?", 0),
])
def test_syllables_of_lines_as_sung(line: str, count: int) -> None:
    assert syllables(line) == count


def test_numbers_are_counted_as_spoken() -> None:
    assert number_words(21) == ["een", "en", "twintig"]
    assert number_words(1964) == ["negentien", "vier", "en", "zestig"]
    assert number_words(300) == ["drie", "honderd"]
    assert syllables("100") == 2


STANZAS = [
    (["De zon gaat onder in de stad", "ik denk aan alles wat ik had",
      "de regen valt nu op de straat", "omdat jij nu voorgoed weer gaat"], "AABB"),
    (["Ik loop alleen door de nacht", "mijn hart is zwaar van verdriet",
      "de maan die boven mij lacht", "die weet van mijn liefde niet"], "ABAB"),
    (["Moeder, waar ben je gebleven", "ik zoek je nog elke dag",
      "je hebt me zoveel gegeven", "ik mis nog steeds je lach"], "ABAB"),
    (["Het orgel speelt op het plein", "de mensen staan er stil",
      "een liedje vol van pijn", "zo gaat het als God het wil"], "ABAB"),
    (["Daar in de Jordaan", "zag ik haar staan",
      "ze keek me even aan", "toen moest ik gaan"], "AAAA"),
    (["Ik hou van jou", "de lucht is grijs",
      "je bent mijn vrouw", "het water koud"], "A-A-"),
]


@pytest.mark.parametrize(("lines", "expected"), STANZAS)
def test_rhyme_scheme_of_hand_written_stanzas(lines: list[str], expected: str) -> None:
    assert rhyme_scheme(lines) == expected


def test_scheme_skips_blanks_and_markers_and_letters_span_the_song() -> None:
    song = ["[Couplet 1]", "Ik zing een lied voor jou", "want jij bent mij zo trouw", "",
            "[Refrein]", "O mijn hart", "zo vol smart", "ik zing een lied voor jou"]
    assert scheme_letters(song) == ["-", "A", "A", "-", "-", "B", "B", "A"]


def test_a_repeated_word_alone_is_not_a_rhyme() -> None:
    assert rhyme_scheme(["mijn hart", "jouw hart", "de nacht"]) == "---"
    assert rhyme_scheme(["mijn hart", "jouw hart", "vol smart"]) == "AAA"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_never_crashes_on_any_text(text: str) -> None:
    assert syllables(text) >= 0
    assert isinstance(rhyme_key(text), str)
    assert rhymes(text, text) is False
    assert len(rhyme_scheme(text.splitlines())) == len(text.splitlines())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzëïé'", min_size=1, max_size=14),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyzëïé'", min_size=1, max_size=14))
def test_rhyme_is_symmetric(a: str, b: str) -> None:
    assert rhymes(a, b) == rhymes(b, a)


def test_craft_core_stays_free_of_torch_and_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, smartlap.craft, smartlap.craft.originality, smartlap.cli.craft\n"
            "smartlap.craft.rhyme_scheme(['mijn hart', 'vol smart'])\n"
            "print(sorted(m for m in ('torch', 'textual', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent.parent).stdout
    assert out.strip() == "[]"


def test_line_marks_for_the_gutter() -> None:
    from smartlap.craft.scheme import line_marks

    song = ["[Refrein]", "O mijn hart", "", "zo vol smart", "'k heb je lief"]
    assert line_marks(song) == [(0, "-"), (3, "A"), (0, "-"), (3, "A"), (3, "-")]
