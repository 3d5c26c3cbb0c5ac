"""config.toml: one table written at a time, the rest of the person's file kept as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartlap import config
from smartlap.config import tomllib
from smartlap.errors import SmartlapError
from smartlap.tui.controls import GenerationControls, controls_from, load_controls, save_controls


def test_a_missing_file_reads_as_an_empty_table(tmp_path: Path) -> None:
    assert config.read_table("studio.generation", tmp_path / "config.toml") == {}


def test_writing_a_table_keeps_other_tables_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\n[studio.generation]\ntemperature = 0.5 # old\n\n'
                    '[other]\nname = "kroeg" # keep\n', encoding="utf-8")
    config.write_table("studio.generation", {"temperature": 1.1, "seed": None,
                                             "label": 'een "lied" – é'}, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# mine\n") and 'name = "kroeg" # keep' in text
    assert "0.5" not in text and "seed" not in text
    data = tomllib.loads(text)
    assert data["studio"]["generation"] == {"temperature": 1.1, "label": 'een "lied" – é'}
    assert data["other"] == {"name": "kroeg"}


def test_a_new_table_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[other]\nx = 1\n', encoding="utf-8")
    config.write_table("studio.generation", {"samples": 2}, path)
    assert tomllib.loads(path.read_text()) == {"other": {"x": 1},
                                               "studio": {"generation": {"samples": 2}}}


@pytest.mark.parametrize("content", ["[studio.generation\nx = ", "studio = { generation = 3 }\n"])
def test_a_file_that_cannot_be_updated_safely_is_never_overwritten(tmp_path: Path,
                                                                  content: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SmartlapError):
        config.write_table("studio.generation", {"samples": 2}, path)
    assert path.read_text(encoding="utf-8") == content


def test_controls_from_stored_values_report_each_bad_one() -> None:
    controls, problems = controls_from({"temperature": 5, "top_p": 0.5, "samples": "many",
                                        "seed": True, "colour": "red"})
    assert controls == GenerationControls(top_p=0.5)
    assert len(problems) == 4
    assert any(p.startswith("temperature") and "between" in p for p in problems)
    assert any("colour" in p for p in problems)


def test_controls_survive_a_round_trip(smartlap_home: Path) -> None:
    chosen = GenerationControls(temperature=1.25, top_p=0.8, max_new_tokens=40, seed=7,
                                samples=3)
    save_controls(chosen)
    assert load_controls() == (chosen, [])
    save_controls(GenerationControls())  # seed None: left out, read back as None
    assert load_controls() == (GenerationControls(), [])
