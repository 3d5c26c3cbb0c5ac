"""Line endings steered to a rhyme: the token trie, the steering on a tiny random model (which
would never rhyme by itself), the syllable fit, and the honest fallback without rhyme words."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartlap.craft import rhymes, syllables
from smartlap.craft.rhyme import RhymeIndex
from smartlap.lm.constrained import line_logprob, next_line_candidates, syllable_target
from smartlap.lm.generation import GenerationSettings
from smartlap.lm.line_ending import PromptCache, TokenTrie, plan_ending
from smartlap.styles import Style

CONTEXT = "[Couplet 1]\nIn de kroeg op de hoek brandt nog licht,\n"


@pytest.fixture(scope="module")
def tiny(tiny_gpt2_dir: Path):
    from smartlap.lm.loading import load_model

    return load_model(str(tiny_gpt2_dir), device="cpu")


def _decode(tokenizer, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


def test_the_trie_spells_words_that_span_several_bpe_pieces(tiny) -> None:
    tokenizer = tiny.tokenizer
    words = ["verdriet", "niet", "gezicht", "dicht"]
    trie = TokenTrie(tokenizer, words)
    assert trie.words == words
    for word in words:
        path = trie.spell(word)
        assert path == tokenizer.encode(" " + word, add_special_tokens=False)
        assert _decode(tokenizer, path) == " " + word
    assert len(trie.spell("verdriet")) > 1  # the tiny tokenizer has no token for it
    # first tokens by syllable count: only words of that many syllables start there
    assert trie.starts({3}) == []
    two = trie.starts({2})
    assert trie.spell("verdriet")[0] in two and trie.spell("gezicht")[0] in two
    one = set(trie.starts({1}))
    assert trie.spell("niet")[0] in one and trie.spell("dicht")[0] in one


def test_names_are_spelled_as_the_lyrics_write_them(tiny) -> None:
    trie = TokenTrie(tiny.tokenizer, ["jordaan", "staan"], names=frozenset({"jordaan"}))
    assert trie.words == ["Jordaan", "staan"]
    assert _decode(tiny.tokenizer, trie.spell("Jordaan")) == " Jordaan"


def test_the_trie_leaves_out_words_the_tokenizer_cannot_spell_back() -> None:
    class Lossy:  # a tokenizer that loses the letter q
        def encode(self, text, add_special_tokens=False):
            return [ord(ch) for ch in text if ch != "q"]

        def decode(self, ids, **kwargs):
            return "".join(map(chr, ids))

    trie = TokenTrie(Lossy(), ["quiz", "bus"])
    assert trie.words == ["bus"] and trie.spell("quiz") is None
    assert trie.priors({1}) == ([ord(" ")], [pytest.approx(-3.0)])  # " bus": 4 pieces


def test_the_rhyme_index_ranks_by_use_and_reads_a_lines_last_word() -> None:
    index = RhymeIndex([("dicht", 3), ("gezicht", 9), ("licht", 5), ("kat", 4), ("Plicht,", 1)])
    assert index.rhymes_for("de kroeg brandt nog licht") == ["gezicht", "dicht", "plicht"]
    assert index.rhymes_for("licht", limit=1) == ["gezicht"]
    assert index.rhymes_for("hond") == []


def test_the_syllable_target_is_the_partners_own_count() -> None:
    style = Style(name="t", description="", rhyme_scheme="AABB", syllables=(7, 10),
                  structure=("couplet",))
    partner = "Ze kijkt me aan en vraagt beleefd: wie bent u, meneer?"
    assert syllable_target(partner, None, style) == syllables(partner) == 13
    assert syllable_target(partner, 8, style) == 8
    assert syllable_target("licht", None, style) == (7, 10)  # a word has no meter
    assert syllable_target(None, None, None) is None


@pytest.mark.parametrize("arch", ["gpt2", "gpt_neo"])
def test_the_prompt_cache_scores_a_line_as_a_fresh_forward_does(arch, tiny_gpt2_dir,
                                                               tiny_gptneo_dir,
                                                               monkeypatch) -> None:
    from smartlap.lm.loading import load_model

    folder = tiny_gpt2_dir if arch == "gpt2" else tiny_gptneo_dir
    tiny = load_model(str(folder), device="cpu")
    ids = tiny.tokenizer.encode(CONTEXT, add_special_tokens=False)
    line = tiny.tokenizer.encode("ik doe de deur weer dicht\n", add_special_tokens=False)
    expected = line_logprob(tiny, CONTEXT, "ik doe de deur weer dicht")
    fast = PromptCache(tiny, ids, 40)
    assert fast.fast is not None
    fast.step(line[0])  # a continuation that is then rewound
    assert fast.mean_logprob(line) == pytest.approx(expected, abs=1e-4)
    assert fast.mean_logprob(line) == pytest.approx(expected, abs=1e-4)  # rewinds each time
    monkeypatch.setenv("SMARTLAP_FAST_DECODE", "0")  # transformers' cache, cropped
    tiny = load_model(str(folder), device="cpu")
    plain = PromptCache(tiny, ids, 40)
    assert plain.fast is None
    plain.step(line[0])
    assert plain.mean_logprob(line) == pytest.approx(expected, abs=1e-4)


@pytest.mark.slow
def test_steering_makes_a_random_model_end_its_lines_on_a_rhyme(tiny) -> None:
    settings = GenerationSettings(seed=11)  # lines get the full LINE_TOKEN_LIMIT
    found = next_line_candidates(tiny, CONTEXT, rhyme_with="In de kroeg op de hoek brandt "
                                 "nog licht,", candidates=6, settings=settings)
    assert found and not found.notes
    partner = "brandt nog licht"
    assert all(rhymes(c.text, partner) and c.rhyme == 1.0 for c in found), \
        [c.text for c in found]
    target = syllables("In de kroeg op de hoek brandt nog licht,")
    assert all(abs(c.syllables - target) <= 1 for c in found), [(c.text, c.syllables)
                                                                for c in found]
    unsteered = plan_ending(tiny, None, target)
    assert unsteered.trie is None and not unsteered.notes


@pytest.mark.slow
def test_an_asked_syllable_count_is_met_within_one(tiny) -> None:
    settings = GenerationSettings(seed=5, max_new_tokens=40)
    for target in (5, 9):
        found = next_line_candidates(tiny, CONTEXT, rhyme_with="licht", syllables=target,
                                     candidates=4, settings=settings)
        assert found
        assert all(abs(c.syllables - target) <= 1 and c.rhyme == 1.0 for c in found), \
            [(c.text, c.syllables) for c in found]
        assert all(c.fit >= -1 for c in found)


@pytest.mark.slow
def test_a_rare_ending_draws_its_rhymes_from_the_whole_word_list(tiny) -> None:
    """No lyric the model knows ends on -orf; the Dutch word list has korf."""
    from smartlap.lm.line_ending import plan_ending, rhyme_dictionary

    assert not rhyme_dictionary(tiny).lyrics.rhymes_for("plorf")
    ending = plan_ending(tiny, "ik at een plorf", 7)
    assert ending.trie is not None and "korf" in ending.trie.words and not ending.notes
    settings = GenerationSettings(seed=2, max_new_tokens=40)
    found = next_line_candidates(tiny, "ik at een plorf\n", rhyme_with="ik at een plorf",
                                 syllables=7, candidates=2, settings=settings)
    assert found and not found.notes and all(c.rhyme == 1.0 for c in found)


@pytest.mark.slow
def test_without_rhyme_words_the_lines_only_scan_and_a_note_says_so(tiny) -> None:
    settings = GenerationSettings(seed=2, max_new_tokens=40)
    found = next_line_candidates(tiny, "ik at een knorpf\n", rhyme_with="ik at een knorpf",
                                 syllables=7, candidates=4, settings=settings)
    assert found.notes and "'knorpf'" in found.notes[0] and "syllable count only" in \
        found.notes[0]
    assert found and all(c.rhyme < 1.0 for c in found)  # (an assonance may come by chance)
    assert all(abs(c.syllables - 7) <= 1 for c in found), [(c.text, c.syllables)
                                                           for c in found]


@pytest.mark.slow
def test_near_the_token_budget_the_rhyme_word_starts_whatever_the_count(tiny) -> None:
    settings = GenerationSettings(seed=4, max_new_tokens=10)
    found = next_line_candidates(tiny, CONTEXT, rhyme_with="licht", syllables=14,
                                 candidates=3, settings=settings)
    assert found and all(c.rhyme == 1.0 for c in found), [c.text for c in found]
    assert all(c.syllables < 13 for c in found)  # cut short by the budget, yet rhyming
