"""`smartlap datasets ...` through the real console script, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lyrics_fixtures import csv_text, lyrics_400, songs

from smartlap.cli import main

SMARTLAP = str(Path(sys.executable).with_name("smartlap"))
pytestmark = pytest.mark.slow


REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, importing this checkout (the venv may be shared)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run([SMARTLAP, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "120", "PYTHONPATH": path})


def assert_clean_error(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode != 0
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_import_prints_the_report_and_show_keeps_it(tmp_path: Path,
                                                    smartlap_home: Path) -> None:
    source = lyrics_400(tmp_path / "lyrics_400.csv")
    result = run("datasets", "import", str(source))
    assert result.returncode == 0, result.stderr
    assert "imported lyrics_400: 396 songs" in result.stdout
    assert "skipped: 4 (2 duplicate, 2 empty)" in result.stdout
    assert "row 52 (line" in result.stdout  # the first empty row, counted as a spreadsheet does

    shown = run("datasets", "show", "lyrics_400", "--json")
    data = json.loads(shown.stdout)
    assert data["name"] == "lyrics_400" and data["songs"] == 396
    assert data["train_songs"] + data["val_songs"] == 396
    assert data["lines"] > 0 and data["words"] > data["lines"]
    assert sorted(entry["reason"] for entry in data["skipped"]) == [
        "duplicate", "duplicate", "empty", "empty"]

    listed = json.loads(run("datasets", "list", "--json").stdout)
    assert "lyrics_400" in [entry["name"] for entry in listed]
    assert "skipped: 4" in run("datasets", "show", "lyrics_400").stdout


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "mijn.csv"
    source.write_text(csv_text(songs(6)), encoding="utf-8")
    assert run("datasets", "import", str(source), "--name", "mijn").returncode == 0
    out = tmp_path / "mijn.txt"
    exported = run("datasets", "export", "mijn", "--to", str(out))
    assert exported.returncode == 0 and "Wrote 6 songs" in exported.stdout
    again = run("datasets", "import", str(out), "--name", "terug", "--json")
    assert json.loads(again.stdout)["songs"] == 6


@pytest.mark.parametrize(("args", "words"), [
    (("datasets", "import", "/nope/missing.csv"), "does not exist"),
    (("datasets", "show", "nope"), "no dataset named 'nope'"),
    (("datasets", "delete", "nope", "--yes"), "no dataset named 'nope'"),
    (("datasets", "export", "nope", "--to", "x.jsonl"), "no dataset named 'nope'"),
    (("datasets", "import", "{src}", "--name", "../evil"), "may not contain"),
    (("datasets", "delete", "demo", "--yes"), "cannot be deleted"),
], ids=["missing", "show-unknown", "delete-unknown", "export-unknown", "bad-name", "demo"])
def test_errors_are_one_message_and_a_hint(args, words: str, tmp_path: Path,
                                           smartlap_home: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text(csv_text(songs(3)), encoding="utf-8")
    assert_clean_error(run(*(a.format(src=source) for a in args)), words)


def test_binary_file_and_name_taken(tmp_path: Path, smartlap_home: Path) -> None:
    binary = tmp_path / "foto.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    assert_clean_error(run("datasets", "import", str(binary)), "not a text file")
    assert not (smartlap_home / "datasets").exists() or not any(
        (smartlap_home / "datasets").iterdir())
    source = tmp_path / "s.csv"
    source.write_text(csv_text(songs(3)), encoding="utf-8")
    assert run("datasets", "import", str(source)).returncode == 0
    assert_clean_error(run("datasets", "import", str(source)), "already exists")
    assert run("datasets", "import", str(source), "--force").returncode == 0


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "datasets", "import", str(tmp_path / "missing.csv"))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_datasets_commands_never_import_torch(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text(csv_text(songs(4)), encoding="utf-8")
    script = (
        "import sys\nfrom smartlap.cli import main\n"
        f"for argv in (['datasets','import',{str(source)!r},'--name','s'], "
        "['datasets','list'], ['datasets','show','s','--json'], "
        f"['datasets','export','s','--to',{str(tmp_path / 'o.csv')!r}], "
        "['datasets','delete','s','--yes']):\n"
        "    assert main(argv) == 0, argv\n"
        "heavy = [m for m in ('torch', 'transformers', 'textual', 'accelerate', 'peft', "
        "'tokenizers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


# in-process: the remaining bad-input paths through main()


@pytest.mark.parametrize(("content", "words"), [
    (b"", "is empty"),
    (b"id,count\n1,2\n3,4\n5,6\n", "no usable lyrics column"),
    (b"Liefde \x81\x8d\x90 pijn\n" * 20, "not UTF-8"),
], ids=["empty", "no-text-column", "undecodable"])
def test_bad_files_in_process(content: bytes, words: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "input.csv"
    source.write_bytes(content)
    assert main(["datasets", "import", str(source)]) == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert words in err and "hint:" in err


def test_folder_without_text_files_in_process(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "leeg").mkdir()
    assert main(["datasets", "import", str(tmp_path / "leeg")]) == 1
    assert "no .txt, .lrc or .md files" in " ".join(capsys.readouterr().err.split())


def test_delete_asks_without_yes_when_not_a_terminal(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "s.csv"
    source.write_text(csv_text(songs(3)), encoding="utf-8")
    assert main(["datasets", "import", str(source)]) == 0
    assert main(["datasets", "delete", "s"]) == 2
    assert "--yes" in " ".join(capsys.readouterr().err.split())
    assert main(["datasets", "delete", "s", "--yes"]) == 0


def test_fresh_home_lists_and_shows_the_demo(smartlap_home: Path) -> None:
    listed = json.loads(run("datasets", "list", "--json").stdout)
    demo = next(entry for entry in listed if entry["name"] == "demo")
    assert demo["songs"] >= 120 and demo["skipped_count"] == 0
    shown = run("datasets", "show", "demo")
    assert shown.returncode == 0 and "skipped: none" in shown.stdout
