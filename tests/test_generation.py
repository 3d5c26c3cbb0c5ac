"""Streaming generation: order, completeness, seeds, stopping, hygiene and repetition."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from smartlap.errors import UsageError
from smartlap.events import SampleEnd, Token
from smartlap.lm.generation import (
    GenerationSettings,
    IncrementalDecoder,
    LineGuard,
    generate_text,
    stream_generate,
)
from smartlap.lm.loading import LoadedModel, load_model
from smartlap.store.models import ModelInfo
from smartlap.styles import get_style


@pytest.fixture(scope="module")
def gpt2(tiny_gpt2_dir: Path) -> LoadedModel:
    return load_model(tiny_gpt2_dir)


@pytest.fixture(scope="module")
def gptneo(tiny_gptneo_dir: Path) -> LoadedModel:
    return load_model(tiny_gptneo_dir)


def _split(events):
    tokens = [e for e in events if isinstance(e, Token)]
    ends = [e for e in events if isinstance(e, SampleEnd)]
    return tokens, ends


# --- a scripted model: real tokenizer, logits that follow a script ------------------------------

class _Output:
    def __init__(self, logits, past):
        self.logits = logits
        self.past_key_values = past


class ScriptedLM:
    """Stands in for a causal LM: at step i it strongly prefers ``script[i]``.

    ``tempt`` maps a step to a token id given an even higher logit (e.g. a special token
    that must never be emitted). After the script it prefers EOS, or loops forever.
    """

    def __init__(self, vocab: int, script: list[int], eos: int, *, tempt=None, loop=False,
                 on_step=None):
        import torch

        self.torch = torch
        self.vocab = vocab
        self.script = script
        self.eos = eos
        self.tempt = tempt or {}
        self.loop = loop
        self.on_step = on_step
        self.steps = 0
        self.config = type("Config", (), {"n_positions": 64})()

    def get_input_embeddings(self):
        return type("Emb", (), {"num_embeddings": self.vocab})()

    def __call__(self, input_ids, past_key_values=None, use_cache=True, logits_to_keep=0):
        torch = self.torch
        step = 0 if past_key_values is None else past_key_values + 1
        if step == 0:
            self.prompt_ids = input_ids[0].tolist()
        if self.on_step:
            self.on_step(step)
        self.steps = step + 1
        logits = torch.full((1, 1, self.vocab), -10.0)
        if step < len(self.script):
            logits[0, -1, self.script[step]] = 10.0
        elif self.loop:
            logits[0, -1, self.script[step % len(self.script)]] = 10.0
        else:
            logits[0, -1, self.eos] = 10.0
        if step in self.tempt:
            logits[0, -1, self.tempt[step]] = 20.0
        return _Output(logits, step)


def _byte_ids(tokenizer, text: str) -> list[int]:
    """One token per UTF-8 byte, so every multi-byte character is split across tokens."""
    # GPT-2's byte-level alphabet: printable bytes map to themselves, the rest to 256+n
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    ids = [tokenizer.convert_tokens_to_ids(table[b]) for b in text.encode("utf-8")]
    assert tokenizer.unk_token_id not in ids or tokenizer.unk_token_id == tokenizer.eos_token_id
    return ids


def _scripted(tiny_gpt2_dir: Path, script_text: str | None = None, ids=None, **kwargs):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|sep|>"]})
    ids = ids if ids is not None else _byte_ids(tokenizer, script_text or "")
    model = ScriptedLM(len(tokenizer), ids, tokenizer.eos_token_id, **kwargs)
    info = ModelInfo(name="scripted", path=tiny_gpt2_dir, origin="local", context_length=512)
    return LoadedModel(model=model, tokenizer=tokenizer, info=info, device="cpu"), tokenizer


GREEDY = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=300, seed=0)


# --- real tiny models, both architectures -------------------------------------------------------

@pytest.mark.parametrize("arch", ["gpt2", "gptneo"])
def test_stream_is_complete_and_in_order(arch: str, request: pytest.FixtureRequest) -> None:
    loaded = request.getfixturevalue(arch)
    settings = GenerationSettings(seed=7, samples=2, max_new_tokens=25)
    events = list(stream_generate(loaded, "In de kroeg op de hoek", settings))
    tokens, ends = _split(events)
    assert [e.sample for e in ends] == [1, 2]
    assert events[-1] is ends[-1]
    for end in ends:
        streamed = "".join(t.text for t in tokens if t.sample == end.sample)
        assert streamed == end.text
        assert 1 <= end.tokens <= 25
        assert end.reason in {"eos", "length"}
        assert end.reason == "eos" or end.tokens == 25
        if end.text:
            assert 0 <= end.time_to_first_token <= end.seconds
    # each sample's tokens come before its end event
    positions = {id(e): i for i, e in enumerate(events)}
    for token in tokens:
        end = ends[token.sample - 1]
        assert positions[id(token)] < positions[id(end)]


@pytest.mark.parametrize("arch", ["gpt2", "gptneo"])
def test_same_seed_same_text_other_seed_other_text(arch: str,
                                                   request: pytest.FixtureRequest) -> None:
    loaded = request.getfixturevalue(arch)
    settings = GenerationSettings(seed=11, samples=2, max_new_tokens=30, temperature=1.2)
    first = [e.text for e in generate_text(loaded, "Moeder", settings)]
    again = [e.text for e in generate_text(loaded, "Moeder", settings)]
    other = [e.text for e in generate_text(loaded, "Moeder", GenerationSettings(
        seed=12, samples=2, max_new_tokens=30, temperature=1.2))]
    assert first == again
    assert first[0] != first[1]  # samples use different seeds
    assert first != other


def test_seeded_generation_is_reproducible_across_threads(gpt2: LoadedModel) -> None:
    settings = GenerationSettings(seed=5, max_new_tokens=30, temperature=1.0)
    expected = generate_text(gpt2, "Op de kermis", settings)[0].text
    results: list[str] = []

    def work() -> None:
        results.append(generate_text(gpt2, "Op de kermis", settings)[0].text)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_empty_prompt_is_unconditional(tiny_gpt2_dir: Path, gpt2: LoadedModel) -> None:
    loaded, tokenizer = _scripted(tiny_gpt2_dir, "zomaar een lied\n")
    end = generate_text(loaded, "", GREEDY)[0]
    assert loaded.model.prompt_ids == [tokenizer.eos_token_id]  # like GPT-2's own samples
    assert end.text == "zomaar een lied\n"
    ends = generate_text(gpt2, "", GenerationSettings(seed=3, samples=3, max_new_tokens=10))
    assert len(ends) == 3 and all(e.reason in {"eos", "length"} for e in ends)


def test_long_prompt_is_left_truncated_with_a_note(gpt2: LoadedModel) -> None:
    prompt = "de haven is stil en de boten zijn weg " * 40  # far beyond the 128-token context
    assert len(gpt2.tokenizer.encode(prompt)) > 128
    end = generate_text(gpt2, prompt, GenerationSettings(seed=1, max_new_tokens=20))[0]
    assert any("left-truncated" in note for note in end.notes)
    assert end.tokens >= 1


def test_stop_from_another_thread_ends_within_one_token(tiny_gpt2_dir: Path) -> None:
    stop = threading.Event()
    stopped_at: list[int] = []

    def on_step(step: int) -> None:
        if step == 5:
            stop.set()
            stopped_at.append(step)

    loaded, _ = _scripted(tiny_gpt2_dir, "la la la ", loop=True, on_step=on_step)
    settings = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=50,
                                  samples=3)
    events = list(stream_generate(loaded, "x", settings, stop=stop))
    _, ends = _split(events)
    assert stopped_at == [5]
    assert len(ends) == 1  # the remaining samples are skipped
    assert ends[0].reason == "stopped"
    assert ends[0].tokens <= 6 + 1  # step 5 was being computed when stop came: one more at most
    assert loaded.model.steps <= 7


def test_closing_the_stream_early_stops_the_worker(tiny_gpt2_dir: Path) -> None:
    loaded, _ = _scripted(tiny_gpt2_dir, "abc ", loop=True)
    settings = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=500)
    stream = stream_generate(loaded, "x", settings)
    next(stream)
    stream.close()
    steps = loaded.model.steps
    assert steps < 500
    assert not [t for t in threading.enumerate() if t.name.startswith("smartlap-generate")]


def test_a_stream_nobody_closed_has_its_worker_stopped_at_exit(tiny_gpt2_dir: Path) -> None:
    """The interpreter-exit guard: an abandoned, still-open stream's decode thread is halted
    and joined (a thread left inside torch at exit aborts the process with exit -6)."""
    import time

    from smartlap.lm import generation

    # each step takes a while, so the worker is surely still decoding when exit comes
    loaded, _ = _scripted(tiny_gpt2_dir, "abc ", loop=True, on_step=lambda _: time.sleep(0.05))
    settings = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=500)
    stream = stream_generate(loaded, "x", settings)
    next(stream)  # the worker runs; the stream stays open
    workers = list(generation._LIVE_DECODES)
    assert workers and all(w.is_alive() for w in workers)
    generation._stop_decodes_at_exit()
    assert not any(w.is_alive() for w in workers)
    assert loaded.model.steps < 500
    stream.close()
    assert not generation._LIVE_DECODES


def test_multibyte_characters_are_never_split(tiny_gpt2_dir: Path) -> None:
    text = "Één café, één ruïne — zij zweeg.\n"
    loaded, _ = _scripted(tiny_gpt2_dir, text)
    events = list(stream_generate(loaded, "x", GREEDY))
    tokens, ends = _split(events)
    assert ends[0].reason == "eos"
    assert ends[0].text == text
    assert "".join(t.text for t in tokens) == text
    assert all("\ufffd" not in t.text for t in tokens)
    assert len(tokens) > 5  # it did stream, piece by piece


def test_incremental_decoder_holds_back_partial_characters(tiny_gpt2_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    decoder = IncrementalDecoder(tokenizer)
    ids = _byte_ids(tokenizer, "ë")
    assert len(ids) == 2
    assert decoder.push(ids[0]) == ""
    assert decoder.push(ids[1]) == "ë"
    assert decoder.flush() == ""


def test_special_tokens_never_appear_and_eos_ends(tiny_gpt2_dir: Path) -> None:
    loaded, tokenizer = _scripted(tiny_gpt2_dir, "ik mis je\n")
    sep = tokenizer.convert_tokens_to_ids("<|sep|>")
    loaded.model.tempt = {2: sep, 4: sep}
    end = generate_text(loaded, "x", GREEDY)[0]
    assert end.text == "ik mis je\n"
    assert "<|" not in end.text
    assert end.reason == "eos"
    assert end.tokens == len("ik mis je\n")


def test_a_line_repeated_too_often_is_cut_and_reported(tiny_gpt2_dir: Path) -> None:
    text = "ik mis je zo\nmijn hart is leeg\nik mis je zo\nik mis je zo\nnog meer\n"
    loaded, _ = _scripted(tiny_gpt2_dir, text)
    events = list(stream_generate(loaded, "x", GREEDY))
    tokens, ends = _split(events)
    assert ends[0].reason == "repetition"
    assert ends[0].text == "ik mis je zo\nmijn hart is leeg\nik mis je zo\n"
    assert "".join(t.text for t in tokens) == ends[0].text
    assert any("ik mis je zo" in note for note in ends[0].notes)


def test_refrein_lines_may_come_back(tiny_gpt2_dir: Path) -> None:
    refrein = "Refrein:\nO Jordaan\nwaar de liedjes bestaan\n\n"
    text = "couplet een\n" + refrein + "couplet twee\n" + refrein + "couplet drie\n" + refrein
    loaded, _ = _scripted(tiny_gpt2_dir, text)
    smartlap = get_style("smartlap")
    end = generate_text(loaded, "x", GREEDY, style=smartlap)[0]
    assert end.reason == "eos"
    assert end.text == text
    # a style without refrein counts those lines like any other
    ballade = dataclasses.replace(get_style("ballade"), max_line_repeats=2)
    end = generate_text(loaded, "x", GREEDY, style=ballade)[0]
    assert end.reason == "repetition"


def test_line_guard_streams_new_text_at_once() -> None:
    guard = LineGuard(max_repeats=1)
    assert guard.feed("eerste regel") == "eerste regel"
    assert guard.feed("\nEerste") == "\n"  # could become a repeat: held
    assert guard.feed(" dag") == "Eerste dag"  # diverged: released
    assert guard.feed("\neerste regel!\n") == "\n"
    assert guard.cut == "eerste regel!"


@pytest.mark.parametrize("field,value", [("temperature", -1), ("top_p", 0), ("top_p", 1.5),
                                         ("max_new_tokens", 0), ("samples", 0),
                                         ("repetition_penalty", 0)])
def test_bad_settings_are_usage_errors(field: str, value: float) -> None:
    with pytest.raises(UsageError):
        GenerationSettings(**{field: value}).validate()


def test_style_defaults_then_explicit_overrides() -> None:
    style = get_style("ballade")
    settings = GenerationSettings.from_style(style, temperature=0.5, top_k=None)
    assert settings.temperature == 0.5
    assert settings.top_k == style.sampling["top_k"]
    assert settings.no_repeat_ngram_size == style.sampling["no_repeat_ngram_size"]


def test_a_ctrl_c_while_waiting_for_the_decode_thread_still_waits_for_it() -> None:
    """The interrupt is re-raised only once the thread is done: a thread left inside torch
    at exit aborts the process (exit -6) instead of the clean 'stopped.'."""
    import signal
    import threading
    import time

    from smartlap.lm.generation import _join_through_interrupts

    stop = threading.Event()
    worker = threading.Thread(target=time.sleep, args=(0.4,), daemon=True)
    worker.start()
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _join_through_interrupts(worker, stop)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not worker.is_alive() and stop.is_set()


def test_generation_limits_are_worded_without_flags_and_the_hint_names_the_flag() -> None:
    from smartlap.lm.generation import generation_problem

    with pytest.raises(UsageError) as caught:
        GenerationSettings(top_p=1.5).validate()
    assert "--" not in caught.value.message and "top-p" in caught.value.message.lower()
    assert "--top-p" in caught.value.hint
    assert generation_problem("temperature", -0.1) == "0 or more (0 = greedy)"
    assert generation_problem("temperature", 0) is None
    assert generation_problem("max_new_tokens", 2.5) == "a whole number"
    assert generation_problem("top_k", True) == "a whole number"
    assert generation_problem("seed", -1) and generation_problem("samples", 0)
    assert generation_problem("top_p", None) is None


def test_the_studio_fields_judge_with_the_core_limits() -> None:
    from smartlap.tui.controls import FIELDS

    assert FIELDS["temperature"][1]("0") == (0.0, None)  # greedy, as `generate` allows
    assert FIELDS["temperature"][1]("-1") == (None, "between 0 and 2")
    assert FIELDS["top_p"][1]("0") == (None, "above 0 and at most 1")
    assert FIELDS["samples"][1]("0") == (None, "between 1 and 4")
    assert FIELDS["max_new_tokens"][1]("1.5")[1] == "a whole number between 1 and 1024"
