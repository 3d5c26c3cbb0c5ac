"""Song styles: bundled files, the person's overrides, and errors that name file/line/key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap.errors import InputError, NotFoundError
from smartlap.styles import bundled_styles_dir, get_style, load_style_file, load_styles

VALID = """\
description = "Mijn eigen stijl"
structure = ["couplet", "refrein"]
rhyme_scheme = "ABAB"
syllables = [6, 9]
scaffold = "Een lied:\\n{prompt}"

[sampling]
temperature = 0.7
"""


def _user_style(smartlap_home: Path, name: str, text: str) -> Path:
    folder = smartlap_home / "config" / "styles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_styles_are_complete() -> None:
    styles = load_styles()
    assert {"smartlap", "levenslied", "carnaval", "ballade", "vrij"} <= set(styles)
    for style in styles.values():
        assert style.origin == "bundled"
        assert style.description and style.structure and style.rhyme_scheme
        low, high = style.syllables
        assert 1 <= low <= high
        assert style.scaffold_prompt("XYZ").count("XYZ") == 1
        assert style.sampling.get("max_new_tokens", 1) > 0
    assert get_style("smartlap").has_refrein
    assert not get_style("ballade").has_refrein


def test_user_style_adds_and_overrides(smartlap_home: Path) -> None:
    _user_style(smartlap_home, "eigen", VALID)
    _user_style(smartlap_home, "carnaval", VALID.replace("Mijn eigen stijl", "Mijn carnaval"))
    styles = load_styles()
    assert styles["eigen"].origin == "user"
    assert styles["eigen"].scaffold_prompt("hoi") == "Een lied:\nhoi"
    assert styles["eigen"].sampling == {"temperature": 0.7}
    assert styles["carnaval"].description == "Mijn carnaval"
    assert styles["carnaval"].origin == "user"
    assert styles["smartlap"].origin == "bundled"


def test_invalid_toml_names_file_and_line(smartlap_home: Path) -> None:
    path = _user_style(smartlap_home, "kapot", VALID + "temperature = = 3\n")
    with pytest.raises(InputError) as info:
        load_styles()
    assert str(path) in info.value.message
    assert "line 9" in info.value.message


def test_unknown_key_names_file_line_and_key(smartlap_home: Path) -> None:
    path = _user_style(smartlap_home, "typo", VALID.replace("rhyme_scheme", "rhyme_shceme"))
    with pytest.raises(InputError) as info:
        load_style_file(path)
    message = info.value.message
    assert str(path) in message and "line 3" in message and "'rhyme_shceme'" in message


def test_unknown_sampling_key_names_table_and_line(smartlap_home: Path) -> None:
    path = _user_style(smartlap_home, "s", VALID + "temprature = 0.5\n")
    with pytest.raises(InputError) as info:
        load_style_file(path)
    assert "line 9" in info.value.message and "'sampling.temprature'" in info.value.message


@pytest.mark.parametrize("old,new,key", [
    ('syllables = [6, 9]', 'syllables = [9, 6]', "syllables"),
    ('structure = ["couplet", "refrein"]', 'structure = ["vers"]', "structure"),
    ('scaffold = "Een lied:\\n{prompt}"', 'scaffold = "geen plek"', "scaffold"),
    ('temperature = 0.7', 'temperature = "warm"', "sampling.temperature"),
    ('rhyme_scheme = "ABAB"', 'rhyme_scheme = "abab"', "rhyme_scheme"),
])
def test_bad_values_name_the_key(old: str, new: str, key: str, smartlap_home: Path) -> None:
    path = _user_style(smartlap_home, "fout", VALID.replace(old, new))
    with pytest.raises(InputError) as info:
        load_style_file(path)
    assert f"'{key}'" in info.value.message and "line" in info.value.message


def test_missing_required_key(smartlap_home: Path) -> None:
    path = _user_style(smartlap_home, "leeg", 'description = "x"\n')
    with pytest.raises(InputError, match="structure"):
        load_style_file(path)


def test_unknown_style_lists_known_ones() -> None:
    with pytest.raises(NotFoundError) as info:
        get_style("disco")
    assert "smartlap" in info.value.hint


def test_wheel_layout_is_preferred_over_checkout(tmp_path: Path) -> None:
    package = tmp_path / "site" / "smartlap"
    package.mkdir(parents=True)
    assert bundled_styles_dir(package) == tmp_path / "site" / "styles"
    (package / "_styles").mkdir()
    assert bundled_styles_dir(package) == package / "_styles"
    assert (bundled_styles_dir() / "smartlap.toml").is_file()


def test_styles_cli(smartlap_home: Path) -> None:
    env = {**os.environ}
    listed = subprocess.run([sys.executable, "-m", "smartlap", "styles", "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0
    assert "levenslied" in {s["name"] for s in json.loads(listed.stdout)}
    shown = subprocess.run([sys.executable, "-m", "smartlap", "styles", "show", "ballade"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0 and "ABAB" in shown.stdout
    _user_style(smartlap_home, "kapot", "description = \n")
    broken = subprocess.run([sys.executable, "-m", "smartlap", "styles", "list"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert broken.returncode == 1 and "kapot.toml" in broken.stderr.replace("\n", "")
    assert "Traceback" not in broken.stderr
