"""`smartlap report`: the seeds' analysis built from a real (tiny) trained model."""

from __future__ import annotations

import re

import pytest
from train_support import training_dataset

from smartlap.cli import main
from smartlap.lm.train.config import TrainConfig
from smartlap.lm.train.engine import run_training


@pytest.fixture
def trained(tmp_path, tiny_gpt2_dir) -> str:
    dataset = training_dataset(tmp_path)
    run_training(TrainConfig(model=str(tiny_gpt2_dir), dataset=dataset, name="verslag",
                             epochs=2, block_size=32, batch_size=4, device="cpu",
                             max_songs=20, sample_tokens=4))
    return "verslag"


def test_mermaid_graph_follows_the_real_module_tree(tiny_gptneo_dir) -> None:
    from transformers import AutoModelForCausalLM

    from smartlap.lm.report import mermaid_graph

    graph = mermaid_graph(AutoModelForCausalLM.from_pretrained(tiny_gptneo_dir))
    assert graph.startswith("graph TD\n  N0[GPTNeoForCausalLM]")
    for node in ("GPTNeoModel_transformer", "Embedding_wte", "ModuleList_h",
                 "((GPTNeoBlock x2))", "Linear_q_proj", "Linear_c_fc", "Linear_lm_head"):
        assert node in graph
    # every edge joins two declared nodes
    declared = set(re.findall(r"(N\d+)[\[(]", graph))
    for source, target in re.findall(r"(N\d+) --> (N\d+)", graph):
        assert source in declared and target in declared


def test_report_has_the_seeds_sections(trained, tmp_path, capsys) -> None:
    out = tmp_path / "verslag.md"
    assert main(["report", trained, "--out", str(out), "--prompt", "de haven\\nis stil"]) == 0
    text = out.read_text()
    assert text.startswith("# Model analysis verslag")
    for section in ("### General Information", "### Dataset", "### Model Architecture",
                    "```mermaid", "#### Test Results", "#### Generated Text"):
        assert section in text
    assert "| Time (min) | Memory (MB) | Loss (Avg) | Val loss | Perplexity |" in text
    assert "| Class | GPT2LMHeadModel |" in text
    assert "GPT2Block x2" in text
    assert "de haven\nis stil" in text
    assert "### 2 Epochs - cpu" in text, text[text.find("## Tests"):][:200]
    # the table of contents names the run heading too, with the anchor GitHub gives it
    heading = text[text.index("### 2 Epochs - cpu") + 4:].split("\n", 1)[0]
    assert f"  - [{heading}](#{_github_anchor(heading)})" in text
    # what was really run: the 20-song slice, not the dataset's whole count
    assert "Trained on 20 training and 4 validation songs of the dataset" in text
    assert "--max-songs 20" in text


def _github_anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_results_time_is_the_whole_run_and_the_folder_has_a_model_card(trained) -> None:
    import json
    from pathlib import Path

    from smartlap.store import runs
    from smartlap.store.models import get_model

    info = get_model(trained)
    results = info.training["results"]
    finished = next(e for e in runs.read_run_events(info.training["run"])
                if e.kind == "run_finished")
    assert results["seconds"] == pytest.approx(finished.seconds, abs=0.05)
    assert sum(h["seconds"] for h in info.training["history"]) <= finished.seconds
    card = (Path(info.path) / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage: nl\nlibrary_name: transformers\n")
    assert "pipeline_tag: text-generation" in card and "# verslag" in card
    assert "| epochs | 2 |" in card and "| max_songs | 20 |" in card
    assert "| Time (min) | Memory (MB) |" in card
    assert "| 1 * |" in card or "| 2 * |" in card  # the history marks the saved epoch
    assert "smartlap generate --model verslag" in card
    assert json.loads((Path(info.path) / "smartlap.json").read_text())["training"][
        "songs_used"] == {"train": 20, "val": 4}


def test_one_epoch_is_singular_and_references_come_from_the_catalog() -> None:
    from smartlap.lm.report import _epochs_heading, references_lines

    assert _epochs_heading({"epochs": 1, "device": "cpu"}) == "1 Epoch - cpu"
    assert _epochs_heading({"epochs": 3, "device": "cuda"}) == "3 Epochs - cuda"
    lines = references_lines("GroNLP/gpt2-small-dutch")
    assert lines[0].startswith("- Hugging Face: [GroNLP/gpt2-small-dutch]"
                               "(https://huggingface.co/GroNLP/gpt2-small-dutch)")
    assert "arXiv:2012.05628" in lines[1]
    assert references_lines("gpt-neo-125M-dutch")[1].startswith("- Paper: architecture:")
    assert references_lines("my-own-model") == []


def test_model_card_names_a_hub_base_in_its_front_matter() -> None:
    from smartlap.lm.model_card import model_card

    card = model_card("kroeg", {"base": "gpt2-small-dutch", "base_hub_id":
                                "GroNLP/gpt2-small-dutch", "mode": "lora", "dataset": None,
                                "training": {}})
    assert "base_model: GroNLP/gpt2-small-dutch\n" in card
    assert "## References" in card and "(https://huggingface.co/GroNLP/gpt2-small-dutch)" in card
    local = model_card("kroeg", {"base": "my-folder", "mode": "full", "training": {}})
    assert "base_model" not in local and "## References" not in local


def test_compare_puts_models_side_by_side(trained, tiny_gpt2_dir, capsys) -> None:
    assert main(["report", "--compare", trained, str(tiny_gpt2_dir)]) == 0
    text = capsys.readouterr().out
    assert text.count("| GPT2LMHeadModel |") == 2
    assert "| Mode | Epochs |" in text and "| full | 2 |" in text
    assert "### verslag" in text and "ferry is een grappige man" in text


def test_report_needs_exactly_one_model_or_compare(capsys) -> None:
    assert main(["report"]) == 2
    assert "--compare" in capsys.readouterr().err
