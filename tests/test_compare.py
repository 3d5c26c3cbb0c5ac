"""`smartlap compare`: one prompt and seed through several models, side by side."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import PARROT_LYRICS
from lyrics_fixtures import csv_text

from smartlap.cli import main


def _import_kroeg(folder: Path) -> None:
    from smartlap.store.datasets import import_dataset

    rows = [{"title": "Licht op de hoek", "artist": "Zanger", "lyrics": PARROT_LYRICS},
            {"title": "Haven", "artist": "Zanger",
             "lyrics": "De schepen varen uit naar zee\nde meeuwen vliegen met ze mee\n"}]
    source = folder / "kroeg.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    import_dataset(source, name="kroeg", val_fraction=0.0)


def _register(folder: Path, name: str, dataset: str | None = None) -> str:
    from smartlap.store.models import register_model

    extra = {"dataset": dataset} if dataset else {}
    return register_model(folder, name=name, transfer="link", **extra).name


def _compare_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["compare", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_comparison_needs_two_models_each_found_before_any_loads(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "smartlap-mini"]) == 2
    assert "at least two models" in capsys.readouterr().err

    assert main(["compare", "smartlap-mini", "no-such-model"]) != 0
    err = capsys.readouterr().err
    assert "No model named 'no-such-model'" in err
    assert "loading" not in err  # the typo is caught before the first (slow) load

    assert main(["compare", "smartlap-mini", "smartlap-mini"]) == 2
    assert "names the same model" in capsys.readouterr().err


@pytest.mark.parametrize("lean", [False, True])
def test_validation_loss_matches_transformers_own_loss(tiny_gpt2_dir: Path, lean: bool) -> None:
    import torch

    from smartlap.lm.compare import validation_loss
    from smartlap.lm.loading import load_model

    loaded = load_model(tiny_gpt2_dir, device="cpu", lean=lean)
    reference = load_model(tiny_gpt2_dir, device="cpu")  # transformers' own model and loss
    assert type(loaded.model).__name__ == ("LeanModel" if lean else "GPT2LMHeadModel")
    text = "In de kroeg op de hoek brandt nog licht"
    loss, bits, tokens = validation_loss(loaded, [text])
    ids = torch.tensor([[*reference.tokenizer.encode(text), reference.tokenizer.eos_token_id]])
    with torch.no_grad():
        expected = float(reference.model(input_ids=ids, labels=ids).loss)
    assert tokens == ids.shape[1] - 1
    assert loss == pytest.approx(expected, rel=1e-5)
    assert bits == pytest.approx(expected * tokens / 0.6931471805599453 / (len(text) + 1),
                                 rel=1e-5)
    assert validation_loss(loaded, []) == (None, None, 0)


def test_the_lean_model_scores_packed_batches_as_transformers_does(tiny_gpt2_dir: Path) -> None:
    """Several blocks per batch, the last one padded: the lean decoder (rows one by one,
    no attention mask) gives compare the same figures as the transformers model."""
    from smartlap.lm.compare import validation_loss
    from smartlap.lm.loading import load_model

    songs = [PARROT_LYRICS, "De schepen varen uit naar zee\nde meeuwen vliegen met ze mee",
             "Ik ging ervandaan, het licht bleef aan"]
    lean = validation_loss(load_model(tiny_gpt2_dir, device="cpu", lean=True), songs, 16)
    full = validation_loss(load_model(tiny_gpt2_dir, device="cpu"), songs, 16)
    assert lean[2] == full[2] > 3 * 16  # the same tokens scored, over several blocks
    assert lean[0] == pytest.approx(full[0], rel=1e-5)
    assert lean[1] == pytest.approx(full[1], rel=1e-5)


@pytest.mark.slow
def test_same_prompt_and_seed_through_each_model_with_losses_and_copies(
        parrot_dir: Path, tiny_gpt2_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _import_kroeg(tmp_path)
    parrot = _register(parrot_dir, "parrot", dataset="kroeg")
    base = _register(tiny_gpt2_dir, "tiny")
    args = [base, parrot, "--temperature", "0", "--max-new-tokens", "60", "--samples", "2",
            "--device", "cpu"]
    code, report = _compare_json(capsys, *args)
    assert code == 0
    assert report["dataset"] == "kroeg"  # the checkpoint's dataset scores every column
    assert report["settings"]["seed"] == 42
    assert [m["model"] for m in report["models"]] == ["tiny", "parrot"]
    tiny, learnt = report["models"]
    for model in report["models"]:
        assert model["error"] is None
        assert len(model["samples"]) == 2
        assert model["val_loss"] > 0 and model["perplexity"] > 1 and model["eval_tokens"] > 0
        assert model["tokens_per_second"] is not None
    assert learnt["tokens"] > 0 and learnt["tokens_per_second"] > 0
    assert "moeder wacht met de deur niet dicht." in learnt["samples"][0]
    copied = {c["line"] for c in learnt["copied_lines"]}
    assert "moeder wacht met de deur niet dicht." in copied
    assert tiny["copied_lines"] == []  # the base model was trained on no dataset
    assert learnt["trained_on"] == "kroeg" and tiny["trained_on"] is None

    # same seed and settings: the same columns again
    code, again = _compare_json(capsys, *args)
    assert [m["samples"] for m in again["models"]] == [m["samples"] for m in report["models"]]

    # the side-by-side table: one column a model, copied lines marked
    assert main(["compare", *args]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "parrot" in out and "val loss" in out
    assert "= moeder wacht met de" in out  # narrow columns fold the rest


@pytest.mark.slow
def test_a_model_that_fails_to_load_midway_leaves_the_others_shown(
        tiny_gpt2_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken_dir = tmp_path / "broken"
    shutil.copytree(tiny_gpt2_dir, broken_dir)
    _register(broken_dir, "broken")
    _register(tiny_gpt2_dir, "tiny")
    weights = broken_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])  # damaged after it was added

    code, report = _compare_json(capsys, "smartlap-mini", "broken", "tiny",
                                 "--max-new-tokens", "8", "--device", "cpu")
    assert code == 1
    mini, broken, tiny = report["models"]
    assert broken["error"] and broken["samples"] == [] and broken["hint"]
    assert mini["error"] is None and len(mini["samples"]) == 1
    assert tiny["error"] is None and len(tiny["samples"]) == 1
    assert report["dataset"] == "demo"  # no checkpoint names one

    assert main(["compare", "smartlap-mini", "broken", "tiny", "--max-new-tokens", "8",
                 "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert "failed:" in captured.out and "smartlap-mini" in captured.out
    assert "Traceback" not in captured.err
    assert "error: broken:" in captured.err
