"""scripts/bootstrap installs only when something changed (its stamp), on a fake venv.

The venv's python is a stand-in that logs each pip call and does nothing, so these tests
run the real script in a copy of the project's layout in milliseconds, without pip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_PYTHON = """#!/bin/sh
case "$*" in
  *"-m pip"*) echo "$*" >> "$(dirname "$0")/../pip.log" ;;
esac
exit 0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """scripts/bootstrap and a pyproject.toml, with a venv whose python only logs pip."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "bootstrap", tmp_path / "scripts" / "bootstrap")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "smartlap"):
        (bin_dir / name).write_text(FAKE_PYTHON, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "torch").mkdir()
    return tmp_path


def installs(project: Path, *args: str, **env: str) -> int:
    """Run the bootstrap; how many `pip install -e` it ran."""
    log = project / ".venv" / "pip.log"
    log.unlink(missing_ok=True)
    subprocess.run([str(project / "scripts" / "bootstrap"), *args], check=True,
                   env={"PATH": "/usr/bin:/bin", **env}, capture_output=True)
    return log.read_text().count("install -e") if log.exists() else 0


def test_a_second_launch_installs_nothing(project: Path) -> None:
    assert installs(project) == 1
    assert installs(project) == 0
    assert installs(project) == 0


def test_a_changed_pyproject_or_venv_installs_again(project: Path) -> None:
    assert installs(project) == 1
    with (project / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('dependencies = ["rich"]\n')
    assert installs(project) == 1
    site = next((project / ".venv" / "lib").glob("python*/site-packages"))
    (site / "rich").mkdir()  # a package added (or removed, or upgraded) by hand
    assert installs(project) == 1
    (site / "__pycache__").mkdir()  # bytecode written at run time is no change
    assert installs(project) == 0
    assert installs(project, SMARTLAP_REINSTALL="1") == 1


def test_extras_are_installed_once_and_a_plain_launch_keeps_them(project: Path) -> None:
    assert installs(project) == 1
    assert installs(project, "test") == 1  # the test tools were never installed
    assert installs(project, "test") == 0
    assert installs(project) == 0  # ./scripts/studio after ./scripts/test: nothing to do
    assert installs(project, "test") == 0


def test_a_failed_install_is_tried_again(project: Path) -> None:
    python = project / ".venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON.replace("exit 0", 'case "$*" in *"install -e"*) exit 1;; '
                                          "esac\nexit 0"), encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError):
        installs(project)
    python.write_text(FAKE_PYTHON, encoding="utf-8")
    assert installs(project) == 1
