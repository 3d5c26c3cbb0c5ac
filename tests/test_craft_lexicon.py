"""Stress from the shipped pronunciation lexicon, rules for unknown words, graded rhyme and the
whole-language rhyme dictionary (issue 12). The word tables are written by hand, not taken
from a lexicon."""

from __future__ import annotations

import json

import pytest

from smartlap.cli import main
from smartlap.craft import phonetics, pronunciations, rhyme_quality, rhymes
from smartlap.craft.dictionary import check_word, dictionary_rhymes
from smartlap.craft.phonetics import analyse, lexicon, stress_index
from smartlap.craft.pronunciations import lexicon_stress, word_entries
from smartlap.craft.scheme import scheme_letters, scheme_marks
from smartlap.errors import InputError

# (word, a word that must rhyme with it, one that must not): the classes the issue names.
ADVERBIAL = [
    ("ervandaan", "slaan", "vandaag"), ("ervandaan", "gaan", "ervan"), ("vooraan", "maan", "voor"),
    ("onderaan", "staan", "onder"), ("bovenop", "kop", "boven"), ("verderop", "stop", "verder"),
    ("hardop", "op", "hard"), ("vanuit", "huid", "van"), ("onderuit", "fluit", "wonder"),
    ("tussenuit", "buit", "tussen"), ("omheen", "alleen", "om"), ("overheen", "steen", "over"),
    ("erdoorheen", "geen", "door"), ("allebei", "mei", "alle"), ("achterna", "ja", "achter"),
    ("andersom", "kom", "anders"), ("tussenin", "begin", "tussen"), ("middenin", "zin", "midden"),
    ("doordat", "stad", "door"), ("zodra", "ja", "zo"), ("zolang", "bang", "zo"),
    ("hoelang", "zang", "hoe"), ("zowel", "spel", "zo"), ("tegemoet", "goed", "tegen"),
    ("helemaal", "taal", "hele"), ("allemaal", "maal", "alle"), ("vannacht", "zacht", "van"),
]
LOANS = [
    ("terras", "glas", "meer"), ("kajuit", "uit", "kaai"), ("schavot", "god", "schaaf"),
    ("roman", "man", "roos"), ("premier", "twee", "pret"), ("dansant", "kant", "dans"),
    ("trace", "vrees", "race"), ("mail", "veel", "mijl"),
]
FRENCH = [  # silent letters, -ier sung -jee, oi sung wa
    ("croupier", "thee", "plezier"), ("metier", "twee", "hier"), ("boutique", "muziek", "boot"),
    ("trottoir", "daar", "rooi"), ("souvenir", "plezier", "zoeven"),
    ("rendez-vous", "toe", "rente"), ("biljart", "zwart", "bil"),
]
PREFIXED = [
    ("onbekend", "verwend", "ons"), ("onverwacht", "nacht", "ons"), ("gewend", "went", "geven"),
]


@pytest.mark.parametrize(("word", "rhyme", "other"), ADVERBIAL + LOANS + FRENCH + PREFIXED)
def test_issue_words_rhyme_on_their_stressed_last_part(word: str, rhyme: str, other: str) -> None:
    assert rhymes(word, rhyme), (word, analyse(word).rhyme_key, analyse(rhyme).rhyme_key)
    assert not rhymes(word, other)


def test_ervandaan_slaan_gaan_is_one_rhyme_in_a_stanza() -> None:
    lines = ["ik ging ervandaan", "ik kon het niet meer slaan", "ik moest alleen maar gaan"]
    assert scheme_letters(lines) == ["A", "A", "A"]


# Words neither the shipped lexicon nor lexicon.tsv knows: the rules must get them right.
UNKNOWN = [
    ("eronderdoor", 3, "o:r"), ("daartussenuit", 3, "9yt"), ("hierbovenop", 3, "Op"),
    ("eronderuit", 3, "9yt"), ("onverdroten", 2, "o:t@n"), ("onbespied", 2, "it"),
    ("onbevlekt", 2, "Ekt"), ("ongezouten", 2, "Aut@n"), ("gewend", 1, "Ent"),
    ("verwend", 1, "Ent"), ("herkend", 1, "Ent"), ("beklemd", 1, "Emt"),
    ("figurant", 2, "Ant"), ("plateau", 1, "o:"), ("rentenier", 2, "ir"),
    ("hemzelf", 1, "Elf"), ("gecastreerd", 2, "e:rt"), ("voorspoedig", 1, "ud@x"),
    ("toevallig", 1, "Al@x"), ("nalatig", 1, "a:t@x"),
]


@pytest.mark.parametrize(("word", "stress", "key"), UNKNOWN)
def test_rules_for_words_no_lexicon_knows(word: str, stress: int, key: str) -> None:
    assert lexicon_stress(word) is None and word not in lexicon()  # really unknown
    assert stress_index(word) == stress
    assert analyse(word).rhyme_key == key


def test_the_lexicon_stress_wins_over_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = stress_index("kapotje", source=False)
    monkeypatch.setattr(pronunciations, "_override", {"kapotje": 2})
    pronunciations.stress_table.cache_clear()
    try:
        assert stress_index("kapotje") == 2 != rules
        assert stress_index("kapotjes") == 2  # an inflected form finds its stem
        assert stress_index("kapotje", source=False) == rules
    finally:
        monkeypatch.undo()
        pronunciations.stress_table.cache_clear()


def test_stress_is_read_once_and_the_gutter_never_loads_the_word_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-keystroke cost stays a dict lookup: one read of the stress table and of the
    compound parts per process, every word cached, and the 80,000-word dictionary only for
    rhyme lookups."""
    reads: list[str] = []
    real_rows = pronunciations._rows
    monkeypatch.setattr(pronunciations, "_rows", lambda path: reads.append(path.name)
                        or real_rows(path))
    pronunciations.stress_table.cache_clear()
    pronunciations.part_table.cache_clear()
    word_entries.cache_clear()
    phonetics.analyse.cache_clear()
    song = [f"ik zing een nieuw lied voor woord{i} en zijn vrienden" for i in range(40)]
    for _ in range(3):
        scheme_marks(song)
    assert sorted(reads) == ["parts.tsv.gz", "stress.tsv.gz"]
    assert word_entries.cache_info().currsize == 0
    before = phonetics.analyse.cache_info().misses
    scheme_marks(song)
    assert phonetics.analyse.cache_info().misses == before  # all answered from the cache


def test_shipped_rhyme_keys_match_the_rules() -> None:
    """words.tsv.gz stores keys so lookups need not analyse 80,000 words; after a rule change
    run `PYTHONPATH=. python3 scripts/build_pronunciations.py --keys`."""
    entries = sorted(word_entries().values())
    assert len(entries) > 50_000
    sample = entries[:: len(entries) // 400]
    stale = [(e.word, e.key, analyse(e.word).rhyme_key) for e in sample
             if (e.key, e.syllables) != (analyse(e.word).rhyme_key, analyse(e.word).syllables)]
    assert not stale, f"rerun scripts/build_pronunciations.py --keys: {stale[:5]}"


@pytest.mark.parametrize(("a", "b", "quality"), [
    ("hart", "smart", "perfect"), ("ervandaan", "slaan", "perfect"),
    ("alle", "wallen", "n-deletion"), ("leven", "beleve", "n-deletion"),
    ("maan", "straat", "assonance"), ("zon", "maan", "none"), ("hart", "hart", "none"),
    ("het is voorbij", "wat zeg je nou", "none"), ("de zee", "ik ga mee", "perfect"),
])
def test_rhyme_quality_is_graded(a: str, b: str, quality: str) -> None:
    assert rhyme_quality(a, b) == quality == rhyme_quality(b, a)
    assert rhymes(a, b) == (quality == "perfect")  # rhymes() stays strict


def test_gutter_marks_near_rhymes_within_a_stanza() -> None:
    lines = ["ik zie ze alle", "op de oude wallen", "mijn hart", "is zwart", "",
             "zo is het leven", "ik zing van de maan", "ik heb je gegeven", "in de straat"]
    marks = scheme_marks(lines)
    assert marks[2:5] == ["A", "A", "-"]
    assert marks[0] == marks[1] and marks[0].endswith("~")  # alle / wallen: n-deletion
    assert marks[0][0] not in (marks[2], marks[5])
    assert marks[5] == marks[7] and "~" not in marks[5]  # leven / gegeven: perfect
    assert marks[6] == marks[8] and marks[6].endswith("~")  # maan / straat: assonance
    assert scheme_letters(lines)[0] == "-"  # the strict scheme is unchanged
    apart = ["de maan", "", "de straat"]  # a blank line ends the stanza
    assert scheme_marks(apart) == ["-", "-", "-"]


def test_dictionary_lists_the_language_commonest_first() -> None:
    found = dictionary_rhymes("ervandaan")
    words = [r.word for r in found]
    assert {"gaan", "slaan", "staan", "maan"} <= set(words)
    assert "ervandaan" not in words and all(r.quality == "perfect" for r in found)
    zipfs = [r.zipf for r in found]
    assert zipfs == sorted(zipfs, reverse=True)
    two = dictionary_rhymes("leven", syllables=2)
    assert two and all(r.syllables == 2 for r in two) and "even" in [r.word for r in two]


def test_dictionary_loose_lists_near_rhymes_after_perfect_ones() -> None:
    found = dictionary_rhymes("alle", loose=True)
    qualities = [r.quality for r in found]
    assert "wallen" in [r.word for r in found if r.quality == "n-deletion"]
    assert qualities == sorted(qualities, key=["perfect", "n-deletion", "assonance"].index)
    assert len({r.word for r in found}) == len(found)


def test_dictionary_edge_words() -> None:
    assert dictionary_rhymes("blaxtrumpf") == []  # a word with no rhyme
    unknown = dictionary_rhymes("gesnaan")  # in no list: the rules say ge-SNAAN
    assert "gaan" in [r.word for r in unknown]
    assert "twee" in [r.word for r in dictionary_rhymes("café")]  # accent: stressed é
    assert "machine" in [r.word for r in dictionary_rhymes("ruïne")]  # diaeresis: ru-ï-ne
    assert check_word("Hart!") == "hart"


@pytest.mark.parametrize(("text", "message"), [
    ("", "No word"), ("   ", "No word"), ("abc123", "digits"), ("a" * 500, "at most 40"),
    ("hartлюбовь", "another script"), ("'t", "no vowel"), ("!!!", "No word"),
])
def test_check_word_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        check_word(text)
    assert message in caught.value.message and caught.value.hint


def test_cli_rhymes_from_the_word_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "rhymes", "ervandaan", "--syllables", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "dictionary"
    assert [r["word"] for r in data["rhymes"]][:3] == ["aan", "gaan", "staan"]
    assert all(r["syllables"] == 1 and r["quality"] == "perfect" for r in data["rhymes"])
    assert main(["craft", "rhymes", "alle", "--loose", "--limit", "200"]) == 0
    out = capsys.readouterr().out
    assert "n-deletion" in out and "wallen" in out
    assert data["rhymes_on"] is None


def test_cli_rhymes_say_when_a_compound_rhymes_on_its_last_part(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "rhymes", "kampvuur", "--json", "--limit", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rhymes_on"] == "vuur"
    assert {"muur", "vuur", "uur"} <= {r["word"] for r in data["rhymes"]}
    assert main(["craft", "rhymes", "kampvuur", "--limit", "3"]) == 0
    assert "kampvuur rhymes on its last part, vuur." in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["", "abc123", "x" * 500, "hartлюбовь"])
def test_cli_rhymes_bad_words_get_one_clear_error(
        bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "rhymes", bad]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "hint:" in err and "Traceback" not in err


def test_gutter_draws_a_near_rhyme_with_a_tilde() -> None:
    from smartlap.tui.widgets.gutter import Gutter, LineFacts

    facts = LineFacts()
    lines = ["ik zie ze alle", "op de oude wallen", "mijn hart", "is zwart"]
    facts.count_lines(lines)
    facts.letter_lines(lines)
    gutter = Gutter(facts)
    rows = [gutter.render_line(y).text for y in range(4)]
    assert rows[0].endswith("~") and rows[1].endswith("~") and rows[0][-2] == rows[1][-2]
    assert rows[2].rstrip().endswith("A") and "~" not in rows[2]
