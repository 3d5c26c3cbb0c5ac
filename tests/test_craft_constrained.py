"""Constrained next lines and style structure, on a tiny random model built in the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartlap.craft.originality import OriginalityIndex
from smartlap.lm.constrained import (
    COPY_PENALTY,
    combine,
    current_stanza,
    line_logprob,
    next_line_candidates,
    rhyme_partner,
    rhyme_score,
    song_plan,
    syllable_fit,
    write_song,
)
from smartlap.styles import Style


def _style(**changes) -> Style:
    values = {"name": "test", "description": "", "rhyme_scheme": "AABB", "syllables": (6, 9),
              "structure": ("couplet", "refrein", "couplet", "refrein")}
    values.update(changes)
    return Style(**values)


def test_rhyme_partner_follows_the_scheme_within_each_repetition() -> None:
    stanza = ["de zon gaat onder in de stad", "ik denk aan wat ik had", "de regen op straat"]
    assert rhyme_partner("AABB", stanza[:1]) == stanza[0]
    assert rhyme_partner("AABB", stanza[:2]) is None  # line 3 opens the B pair
    assert rhyme_partner("AABB", stanza) == stanza[2]
    assert rhyme_partner("ABAB", stanza[:2]) == stanza[0]
    assert rhyme_partner("ABAB", stanza) == stanza[1]
    assert rhyme_partner("AABB", [*stanza, "x"]) is None  # second round: AABB again
    assert rhyme_partner("A-A-", stanza[:1]) is None
    assert rhyme_partner("", stanza) is None


def test_current_stanza_starts_after_blank_lines_and_markers() -> None:
    context = "oud couplet\n\n[Refrein]\nO mijn hart\nzo vol smart\n"
    assert current_stanza(context) == ["O mijn hart", "zo vol smart"]
    assert current_stanza("Refrein:\neen\n") == ["een"]


def test_song_plan_numbers_couplets_and_keeps_one_refrein_marker() -> None:
    plan = song_plan(_style(structure=("intro", "couplet", "refrein", "couplet", "refrein",
                                       "brug", "refrein")), lines_per_section=3)
    assert [s.marker for s in plan] == ["[Intro]", "[Couplet 1]", "[Refrein]", "[Couplet 2]",
                                        "[Refrein]", "[Brug]", "[Refrein]"]
    assert all(s.lines == 3 for s in plan)


def test_score_parts() -> None:
    assert rhyme_score("ik denk aan wat ik had", "de zon gaat onder in de stad") == 1.0
    assert rhyme_score("ik zag de maan", "jij bent mijn man") == 0.0
    assert rhyme_score("ik heb een kat", "wat heb ik gehad") == 1.0
    assert rhyme_score("de zwarte kat", "ik mis de klap") == 0.5  # same stressed vowel
    assert rhyme_score("mijn hart", "jouw hart") == 0.0  # repetition is no rhyme
    assert rhyme_score("mijn hart", None) == 0.0
    assert syllable_fit(8, 8) == 0.0
    assert syllable_fit(6, 8) == -2.0
    assert syllable_fit(11, (7, 10)) == -1.0
    assert syllable_fit(8, (7, 10)) == 0.0
    assert syllable_fit(3, None) == 0.0
    assert combine(-2.0, 1.0, -2.0, False) == pytest.approx(-2.0 + 3.0 - 1.0)
    assert combine(-2.0, 0.0, 0.0, True) == pytest.approx(-2.0 - COPY_PENALTY)


@pytest.fixture(scope="module")
def tiny(tiny_gpt2_dir: Path):
    from smartlap.lm.loading import load_model

    return load_model(str(tiny_gpt2_dir), device="cpu")


@pytest.mark.slow
def test_candidates_are_ordered_by_the_documented_score(tiny) -> None:
    from smartlap.lm.generation import GenerationSettings

    context = "In de kroeg op de hoek brandt nog licht,\n"
    found = next_line_candidates(tiny, context, rhyme_with="licht", syllables=8, candidates=4,
                                 settings=GenerationSettings(seed=7, max_new_tokens=14))
    assert 1 <= len(found) <= 4
    assert len({c.text.casefold() for c in found}) == len(found)
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    for c in found:
        assert c.score == pytest.approx(combine(c.logprob, c.rhyme, c.fit, c.copied))
        assert c.logprob == pytest.approx(line_logprob(tiny, context, c.text), abs=1e-4)
        assert c.fit == syllable_fit(c.syllables, 8)
        assert c.to_dict()["text"] == c.text
    again = next_line_candidates(tiny, context, rhyme_with="licht", syllables=8, candidates=4,
                                 settings=GenerationSettings(seed=7, max_new_tokens=14))
    assert [c.text for c in again] == [c.text for c in found]  # same seed, same candidates


@pytest.mark.slow
def test_copied_candidates_are_flagged_and_penalised(tiny) -> None:
    from smartlap.lm.generation import GenerationSettings

    settings = GenerationSettings(seed=3, max_new_tokens=16)
    plain = next_line_candidates(tiny, "", candidates=3, settings=settings)
    index = OriginalityIndex([c.text for c in plain], min_words=1)
    flagged = next_line_candidates(tiny, "", candidates=3, settings=settings,
                                   originality=index)
    by_text = {c.text: c for c in plain}
    for c in flagged:
        if c.copied:
            assert c.source is not None
            assert c.score == pytest.approx(by_text[c.text].score - COPY_PENALTY)
    assert any(c.copied for c in flagged)


def test_bad_targets_are_usage_errors(tiny) -> None:
    from smartlap.errors import UsageError

    with pytest.raises(UsageError):
        next_line_candidates(tiny, "x", candidates=0)
    with pytest.raises(UsageError):
        next_line_candidates(tiny, "x", syllables=0)


@pytest.mark.slow
def test_write_song_follows_the_structure_and_repeats_the_refrein(tiny) -> None:
    from smartlap.lm.generation import GenerationSettings

    seen: list[str] = []
    text = write_song(tiny, _style(), "Ik loop alleen door de nacht",
                      settings=GenerationSettings(seed=1, max_new_tokens=12), candidates=2,
                      lines_per_section=2, on_line=seen.append)
    lines = text.splitlines()
    assert lines == seen
    assert [line for line in lines if line.startswith("[")] == [
        "[Couplet 1]", "[Refrein]", "[Couplet 2]", "[Refrein]"]
    assert lines[1] == "Ik loop alleen door de nacht"
    first = lines.index("[Refrein]")
    second = lines.index("[Refrein]", first + 1)
    assert lines[first + 1:first + 3] == lines[second + 1:second + 3]
    assert len(lines) == 4 * 3 + 3  # four sections of marker + 2 lines, blank lines between
