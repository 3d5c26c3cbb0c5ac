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


def test_compare_puts_models_side_by_side(trained, tiny_gpt2_dir, capsys) -> None:
    assert main(["report", "--compare", trained, str(tiny_gpt2_dir)]) == 0
    text = capsys.readouterr().out
    assert text.count("| GPT2LMHeadModel |") == 2
    assert "### verslag" in text and "ferry is een grappige man" in text


def test_report_needs_exactly_one_model_or_compare(capsys) -> None:
    assert main(["report"]) == 2
    assert "--compare" in capsys.readouterr().err
