"""Generation steps on the device: streaming speed per precision, stop and output hygiene.

Speed: smartlap's ``stream_generate`` (its fast decoder on the GPU weights) against bare
``model.generate`` and ``pipeline("text-generation")`` on the GPT-2-small shape, the paths
interleaved per repeat, with ``benchmarks/generation.py``'s runners and summary. The fast
decoder's next-token logits are also held against transformers' forward on the same
weights. Hygiene: with the logits of every special and surplus embedding row pushed far
above the rest, none may ever be sampled; with end-of-text pushed up, the sample ends at
once. Stop: a stop request ends a sample within one token.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


def _fast_vs_transformers(loaded: Any, prompt: str, steps: int = 8) -> dict[str, Any]:
    """Largest |logit difference| of the fast decoder against transformers, greedy steps."""
    import torch

    from smartlap.lm.fast_decode import fast_decoder_for

    ids = loaded.tokenizer.encode(prompt, add_special_tokens=False)
    decoder = fast_decoder_for(loaded.model, len(ids) + steps + 1)
    if decoder is None:
        return {"fast_decoder": False}
    worst, scale, agree = 0.0, 0.0, 0
    with torch.inference_mode():
        got = decoder(ids)
        for step in range(steps + 1):
            tensor = torch.tensor([ids], device=loaded.device)
            expected = loaded.model(input_ids=tensor).logits[0, -1]
            worst = max(worst, float((got.float() - expected.float()).abs().max()))
            scale = max(scale, float(expected.float().abs().max()))
            agree += int(got.argmax()) == int(expected.argmax())
            if step == steps:
                break
            ids.append(int(expected.argmax()))
            got = decoder([ids[-1]])
    return {"fast_decoder": True, "max_logit_difference": round(worst, 5),
            "max_logit": round(scale, 3), "same_next_token": f"{agree}/{steps + 1}"}


def speed(context: Any, precision: str) -> dict[str, Any]:
    """Tokens/s and time to first token of the three paths, on the device, in ``precision``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from benchmarks.generation import (
        PROMPT,
        run_generate,
        run_pipeline,
        run_smartlap,
        summarise,
    )
    from smartlap.lm.device import torch_dtype
    from smartlap.lm.loading import load_model

    plan = context.plan
    hf_logging.set_verbosity_error()
    folder = context.model("gpt2")
    loaded = load_model(folder, device=plan.device, precision=precision)
    agreement = _fast_vs_transformers(loaded, PROMPT)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype(precision))
    model = model.to(plan.device).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer,
                         device=model.device)
    tokens = plan.gen_tokens
    paths = {"smartlap stream_generate": lambda s: run_smartlap(loaded, tokens, s),
             "model.generate": lambda s: run_generate(model, tokenizer, tokens, s),
             "pipeline": lambda s: run_pipeline(generator, tokens, s)}
    for run in paths.values():  # warm-up: the first calls pay for lazy init and kernels
        run(0)
    runs: dict[str, list[dict]] = {name: [] for name in paths}
    for repeat in range(plan.gen_repeats):
        for name, run in paths.items():
            runs[name].append(run(repeat + 1))
    return {"precision": precision, "device": loaded.device, "model": plan.shapes["gpt2"].label,
            "new_tokens": tokens, "repeats": plan.gen_repeats, **agreement,
            "paths": {name: summarise(found) for name, found in runs.items()}}


@contextlib.contextmanager
def _observed() -> Iterator[list[int]]:
    """Every token id the sampler hands out, in order (``_Sampler.observe`` sees each)."""
    from smartlap.lm import generation

    seen: list[int] = []
    original = generation._Sampler.observe

    def observe(self: Any, token_id: int) -> None:
        seen.append(token_id)
        original(self, token_id)

    generation._Sampler.observe = observe
    try:
        yield seen
    finally:
        generation._Sampler.observe = original


@contextlib.contextmanager
def _boosted(ids: list[int]) -> Iterator[None]:
    """The model's next-token logits with ``ids`` raised far above every other token."""
    from smartlap.lm import generation

    original = generation._next_token_logits

    def boosted(loaded: Any, max_length: int) -> Any:
        forward = original(loaded, max_length)

        def step(new_ids: list[int]) -> Any:
            logits = forward(new_ids).clone()
            logits[ids] = logits.max() + 1e4
            return logits

        return step

    generation._next_token_logits = boosted
    try:
        yield
    finally:
        generation._next_token_logits = original


def _sample(loaded: Any, settings: Any, stop: threading.Event | None = None,
            stop_after: int | None = None) -> tuple[list[str], Any, int | None, list[int]]:
    """(token texts, the SampleEnd, ids handed out when the stop was set, all ids)."""
    from benchmarks.generation import PROMPT
    from smartlap.events import SampleEnd, Token
    from smartlap.lm.generation import stream_generate

    texts: list[str] = []
    end = None
    at_stop = None
    with _observed() as seen:
        for event in stream_generate(loaded, PROMPT, settings, stop=stop):
            if isinstance(event, Token):
                texts.append(event.text)
                if stop is not None and stop_after is not None and len(texts) >= stop_after \
                        and not stop.is_set():
                    stop.set()
                    at_stop = len(seen)
            elif isinstance(event, SampleEnd):
                end = event
    return texts, end, at_stop, seen


def stop_and_hygiene(context: Any) -> dict[str, Any]:
    """Stop within one token; special, surplus and undecodable ids never sampled; on device."""
    from smartlap.lm.generation import GenerationSettings
    from smartlap.lm.loading import load_model

    plan = context.plan
    loaded = load_model(context.model("gpt2"), device=plan.device,
                        precision=plan.gen_precisions[0])
    tokenizer = loaded.tokenizer
    settings = GenerationSettings(max_new_tokens=max(plan.gen_tokens, 32), seed=5,
                                  temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=1.0)

    stop = threading.Event()
    texts, end, at_stop, _ = _sample(loaded, settings, stop=stop, stop_after=3)
    stopped = {"reason": end.reason, "tokens": end.tokens, "ids_when_stop_was_set": at_stop,
               "tokens_after_stop": None if at_stop is None else end.tokens - at_stop}
    stopped["ok"] = end.reason == "stopped" and at_stop is not None \
        and end.tokens - at_stop <= 1

    banned = sorted({i for i in tokenizer.all_special_ids if i != tokenizer.eos_token_id}
                    | set(loaded.vocab_surplus_ids))
    with _boosted(banned):
        texts, end, _, seen = _sample(loaded, settings)
    special_text = [t for t in tokenizer.all_special_tokens if t in end.text]
    hygiene = {"banned_ids": len(banned), "sampled": len(seen),
               "banned_sampled": sorted(set(seen) & set(banned)), "reason": end.reason,
               "stream_equals_text": "".join(texts) == end.text,
               "special_tokens_in_text": special_text,
               "replacement_characters": end.text.count("\ufffd")}
    hygiene["ok"] = (bool(banned) and not hygiene["banned_sampled"] and bool(seen)
                     and hygiene["stream_equals_text"] and not special_text)

    with _boosted([tokenizer.eos_token_id]):
        _, eos_end, _, _ = _sample(loaded, settings)
    ends = {"reason": eos_end.reason, "tokens": eos_end.tokens,
            "ok": eos_end.reason == "eos" and eos_end.tokens == 0}
    return {"device": loaded.device, "precision": loaded.precision, "stop": stopped,
            "hygiene": hygiene, "end_of_text": ends,
            "ok": stopped["ok"] and hygiene["ok"] and ends["ok"]}
