"""`smartlap craft`: syllables, rhymes and schemes from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lyrics_fixtures import csv_text

from smartlap.cli import main

SONG = """[Couplet 1]
De zon gaat onder in de stad
ik denk aan alles wat ik had
de regen valt nu op de straat
omdat jij nu voorgoed weer gaat

[Refrein]
O mijn hart, mijn hart doet pijn
ik wil alleen maar bij je zijn
"""


def test_syllables_prints_the_total_and_each_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "syllables", "Ik", "heb", "m'n", "hart", "verloren"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("7 syllables")
    assert "verloren 3" in out
    assert main(["craft", "syllables", "zonneschijn", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["syllables"] == 3
    assert data["words"] == [{"word": "zonneschijn", "syllables": 3}]


def test_scheme_shows_each_line_with_syllables_and_letter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    song = tmp_path / "lied.txt"
    song.write_text(SONG, encoding="utf-8")
    assert main(["craft", "scheme", str(song), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scheme"] == "-AABB--CC"
    assert [r["syllables"] for r in data["lines"]] == [0, 8, 8, 8, 8, 0, 0, 7, 8]
    assert main(["craft", "scheme", str(song)]) == 0
    out = capsys.readouterr().out
    assert "[Refrein]" in out  # shown as text, not eaten as markup
    assert "ik wil alleen maar bij je zijn" in out


def test_scheme_reads_windows_1252_files(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    song = tmp_path / "oud.txt"
    song.write_bytes("Het was één keer in het café\nik dronk een glas en zij zei nee\n"
                     .encode("cp1252"))
    assert main(["craft", "scheme", str(song), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scheme"] == "AA"
    assert data["lines"][0]["text"].endswith("café")


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing.txt", "no such file"),
    (lambda p: p, "is a folder"),
    (lambda p: (p / "bin.txt", (p / "bin.txt").write_bytes(b"\x00\x01\x02lyrics"))[0],
     "binary"),
])
def test_scheme_bad_files_give_one_clear_error(tmp_path: Path, make, message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "scheme", str(make(tmp_path))]) == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long paths
    assert "error:" in err and message in err
    assert "hint:" in err
    assert "Traceback" not in err


def test_rhymes_ranked_by_frequency_in_a_dataset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from smartlap.store.datasets import import_dataset

    texts = [SONG, "mijn hart\nvol smart\nzo zwart\nvol smart\nde smart\nik smart\n" * 2,
             "het glas is leeg\nmijn hart is zwart en koud\nik heb je lief\nik blijf je trouw\n"]
    rows = [{"title": f"Lied {i}", "artist": "Zanger", "lyrics": t}
            for i, t in enumerate(texts * 4)]
    source = tmp_path / "lyrics.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    import_dataset(source, name="rijm", val_fraction=0.0)
    assert main(["craft", "rhymes", "hart", "--dataset", "rijm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    words = [r["word"] for r in data["rhymes"]]
    assert words[:2] == ["smart", "zwart"]
    assert "hart" not in words and "glas" not in words
    counts = [r["score"] for r in data["rhymes"]]
    assert counts == sorted(counts, reverse=True)
    assert main(["craft", "rhymes", "hart", "--dataset", "rijm", "--limit", "1"]) == 0
    assert "smart" in capsys.readouterr().out


def test_rhymes_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "rhymes", "hart", "--dataset", "nergens"]) == 1
    assert "no dataset named 'nergens'" in capsys.readouterr().err
    assert main(["craft", "rhymes", "'t", "--dataset", "x"]) == 1
    assert "no vowel" in capsys.readouterr().err
    assert main(["craft", "rhymes", "hart", "--limit", "0"]) == 2
    assert main(["craft", "rhymes", "hart", "--dataset", "a", "--model", "b"]) == 2


@pytest.mark.slow
def test_rhymes_ranked_by_a_model(tiny_gpt2_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["craft", "rhymes", "nacht", "--model", str(tiny_gpt2_dir), "--device", "cpu",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    scores = [r["score"] for r in data["rhymes"]]
    assert scores == sorted(scores, reverse=True)
    assert all(r["word"] != "nacht" for r in data["rhymes"])


def test_real_console_script_reads_stdin() -> None:
    result = subprocess.run([sys.executable, "-m", "smartlap", "craft", "scheme", "-", "--json"],
                            input="Ik hou van jou\nje bent mijn vrouw\n", capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scheme"] == "AA"
