"""Shared fixtures: every test gets its own data home; tiny models are built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The test models are tiny: intra-op threads gain them nothing, and on a busy 2-core machine
# OpenMP threads spin-waiting for a descheduled sibling make each step up to 100x slower.
# Set before torch is imported (here and in every subprocess the tests start).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def smartlap_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data home for each test (never the person's real one)."""
    home = tmp_path / "smartlap-home"
    home.mkdir()
    monkeypatch.setenv("SMARTLAP_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return home


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-gpt2"), "gpt2")


@pytest.fixture(scope="session")
def tiny_gptneo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-gptneo"), "gpt_neo")


@pytest.fixture(scope="session")
def parrot_dir(tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny GPT-2 after learning helpers.PARROT_LYRICS by heart."""
    from helpers import build_parrot

    return build_parrot(tiny_gpt2_dir, tmp_path_factory.mktemp("parrot"))
