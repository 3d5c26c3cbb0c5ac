"""Compounds rhyme on their last part (issue 12): kampvuur / muur, opstaan / gaan.

Cases written by hand, by class: noun compounds, compounds with a linking sound, particle
verbs, the numbers 13-19, compounds whose last part is itself long; and the words that look
like compounds but are not (plurals, schwa syllables, suffixes, words far commoner than
their "parts")."""

from __future__ import annotations

import pytest

from smartlap.craft import rhyme_key, rhymes, syllables
from smartlap.craft.compounds import compound_head
from smartlap.craft.dictionary import dictionary_rhymes
from smartlap.craft.phonetics import analyse, base_letters, nuclei_of, rhyme_nucleus, stress_index

COMPOUNDS = [  # word, its last part, a word that rhymes with that part only
    ("kampvuur", "vuur", "muur"),
    ("zakdoek", "doek", "boek"),
    ("potlood", "lood", "dood"),
    ("hoeksteen", "steen", "alleen"),
    ("kleinzoon", "zoon", "troon"),
    ("melkboer", "boer", "stoer"),
    ("ogenblik", "blik", "ik"),
    ("zonneschijn", "schijn", "pijn"),      # linking -e-
    ("boerenzoon", "zoon", "schoon"),       # linking -en-
    ("vissersvrouw", "vrouw", "trouw"),     # linking -s-
    ("sigarenboer", "boer", "stoer"),
    ("vaderland", "land", "strand"),
    ("draaimolen", "molen", "gestolen"),    # a last part of two syllables
    ("havermelk", "melk", "elk"),           # its e keeps its full sound
    ("schiettent", "tent", "bent"),
    ("opstaan", "staan", "gaan"),           # particle verbs
    ("uitgaat", "gaat", "laat"),
    ("opgestaan", "gestaan", "gaan"),
    ("zeventien", "tien", "misschien"),     # the numbers 13-19
    ("veertien", "tien", "zien"),
    ("kroegbaas", "baas", "dwaas"),         # in no list: split by its parts alone
]

NOT_COMPOUNDS = [  # word, what a false split would rhyme it with
    ("boeken", "ken"),           # a plural: boe-ken
    ("wandelen", "delen"),       # wan-de-len, the e is a schwa
    ("moeder", "der"),
    ("niemand", "mand"),         # far commoner than nie and mand
    ("holland", "land"),
    ("harrie", "rie"),
    ("vrijheid", "tijd"),        # suffixes carry no rhyme
    ("eenzaamheid", "tijd"),
    ("walgelijk", "gelijk"),
    ("houding", "ding"),
    ("waardering", "ring"),
    ("kunstenaar", "naar"),
    ("twintig", "tig"),
    ("volgend", "end"),
    ("meisjes", "jes"),
    ("connie", "knie"),          # pet names: con-nie, not con|nie
    ("freddie", "die"),
    ("belegering", "ring"),      # belegeer-ing, whatever the parts table knows
    ("vergadering", "ring"),
]


@pytest.mark.parametrize(("word", "head", "partner"), COMPOUNDS)
def test_a_compound_rhymes_on_its_last_part(word: str, head: str, partner: str) -> None:
    assert rhyme_key(word) == rhyme_key(head) != ""
    assert rhymes(word, partner) and rhymes(f"ik zag het {word}", f"en toen {partner}")


@pytest.mark.parametrize(("word", "head", "partner"), COMPOUNDS)
def test_the_split_changes_neither_syllables_nor_the_main_stress(word: str, head: str,
                                                                partner: str) -> None:
    sound = analyse(word)
    assert sound.syllables == len(nuclei_of(word)) == syllables(word)
    assert sound.stress == stress_index(word)  # the main stress stays on the first part
    assert sound.stress < rhyme_nucleus(word, nuclei_of(word), sound.stress)


@pytest.mark.parametrize(("word", "false_partner"), NOT_COMPOUNDS)
def test_words_that_only_look_like_compounds_keep_their_stress(word: str,
                                                               false_partner: str) -> None:
    nuclei = nuclei_of(word)
    stress = stress_index(word, nuclei)
    assert rhyme_nucleus(word, nuclei, stress) == stress
    assert not rhymes(word, false_partner)


def test_the_longest_common_last_part_wins_and_is_split_again() -> None:
    def head(word: str) -> str | None:
        nuclei = nuclei_of(word)
        cuts = [(nuclei[k - 1].end, nuclei[k].start) for k in range(1, len(nuclei))]
        return compound_head(base_letters(word), stress_index(word, nuclei), cuts)

    assert head("sigarenboer") == "boer"
    assert head("hartaanval") == "aanval"  # not val: the longest part first ...
    assert rhyme_key("hartaanval") == rhyme_key("val") == rhyme_key("bal")  # ... split again


def test_words_stressed_on_their_last_part_are_left_alone() -> None:
    for word, partner in (("ervandaan", "slaan"), ("onbekend", "end"), ("vandaag", "vraag")):
        nuclei = nuclei_of(word)
        assert rhyme_nucleus(word, nuclei, stress_index(word, nuclei)) == stress_index(word)
        assert rhymes(word, partner)


def test_the_rhyme_dictionary_lists_compounds_under_their_last_part() -> None:
    found = {entry.word for entry in dictionary_rhymes("vuur")}
    assert {"kampvuur", "muur"} <= found
    assert "kampvuur" in {entry.word for entry in dictionary_rhymes("muur")}
