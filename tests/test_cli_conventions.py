"""CLI conventions an ML engineer relies on: --json on every change, JSON errors, whole ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartlap.cli import main


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_model_changes_print_json(tiny_gpt2_dir: Path, capsys) -> None:
    code, added = _json(capsys, "models", "add", str(tiny_gpt2_dir), "--name", "klein", "--json")
    assert code == 0 and added["action"] == "added" and added["model"]["name"] == "klein"
    assert added["model"]["architecture"] == "GPT2LMHeadModel"
    code, renamed = _json(capsys, "models", "rename", "klein", "kleintje", "--json")
    assert code == 0 and renamed == {**renamed, "action": "renamed", "from": "klein"}
    assert renamed["model"]["name"] == "kleintje"
    code, deleted = _json(capsys, "models", "delete", "kleintje", "--json")
    assert code == 0 and deleted["action"] == "deleted" and deleted["folder_kept"] is False
    assert deleted["model"]["name"] == "kleintje"


def test_dataset_changes_print_json(tmp_path: Path, capsys) -> None:
    from lyrics_fixtures import csv_text

    source = tmp_path / "liedjes.csv"
    source.write_text(csv_text([{"title": "A", "artist": "Z", "lyrics":
                                 "De haven is stil\nde boten zijn weg\nik sta aan de kade"}]),
                      encoding="utf-8")
    assert main(["datasets", "import", str(source), "--json"]) == 0
    capsys.readouterr()
    target = tmp_path / "uit.jsonl"
    code, exported = _json(capsys, "datasets", "export", "liedjes", "--to", str(target),
                           "--json")
    assert code == 0 and exported == {"action": "exported", "dataset": "liedjes",
                                      "path": str(target), "format": "jsonl", "songs": 1}
    assert target.is_file()
    # --json never waits for a question on stdin: it needs --yes
    code, refused = _json(capsys, "datasets", "delete", "liedjes", "--json")
    assert code == 2 and refused["error"]["kind"] == "UsageError"
    assert "--yes" in refused["error"]["hint"]
    code, deleted = _json(capsys, "datasets", "delete", "liedjes", "--yes", "--json")
    assert code == 0 and deleted["action"] == "deleted"
    assert deleted["dataset"]["name"] == "liedjes"


def test_with_json_a_failure_is_json_on_stdout(capsys) -> None:
    code, failed = _json(capsys, "models", "pull", "GroNLP/gpt2-small-dutch", "--json")
    assert code != 0
    assert set(failed["error"]) == {"message", "hint", "kind", "exit_code"}
    assert failed["error"]["exit_code"] == code
    code, unknown = _json(capsys, "runs", "cancel", "20990101-000000-zzzz", "--json")
    assert code != 0 and unknown["error"]["kind"] == "NotFoundError"
    # without --json the same failure stays a human message on stderr
    assert main(["runs", "cancel", "20990101-000000-zzzz"]) != 0
    captured = capsys.readouterr()
    assert captured.out == "" and "error:" in captured.err


def test_runs_list_never_cuts_the_run_id_at_80_columns(capsys) -> None:
    from smartlap.store import runs

    long = "een-heel-lang-model-met-een-naam-die-nooit-past-in-tachtig-kolommen"
    path = runs.create_run({"model": long, "dataset": long, "name": long, "epochs": 20})
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(path.name in line for line in lines), lines


def test_files_in_the_data_home_follow_the_umask(tiny_gpt2_dir: Path, smartlap_home: Path,
                                                 tmp_path: Path) -> None:
    import os
    import stat

    from smartlap.fsutil import atomic_write_json, current_umask
    from smartlap.store.models import register_model

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    for umask, file_mode, dir_mode in ((0o022, 0o644, 0o755), (0o077, 0o600, 0o700)):
        previous = os.umask(umask)
        try:
            assert current_umask() == umask
            target = tmp_path / f"plain-{umask:o}.json"
            atomic_write_json(target, {"a": 1})
            assert mode(target) == file_mode
            info = register_model(tiny_gpt2_dir, f"klein-{umask:o}")
        finally:
            os.umask(previous)
        assert mode(info.path) == dir_mode
        # transformers writes model.safetensors 0600; in the data home it follows the umask
        for name in ("model.safetensors", "smartlap.json", "config.json"):
            assert mode(info.path / name) == file_mode, name


def test_import_and_model_copy_report_progress(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    from lyrics_fixtures import csv_text, songs

    from smartlap.progress import Progress
    from smartlap.store.datasets import import_dataset
    from smartlap.store.models import register_model

    source = tmp_path / "veel.csv"
    source.write_text(csv_text(songs(40)), encoding="utf-8")
    seen: list[tuple[int | None, int, int]] = []
    info = import_dataset(source, progress=Progress(
        callback=lambda p: seen.append((p.total, p.done, p.items))))
    assert seen[0] == (source.stat().st_size, 0, 0)
    assert seen[-1] == (source.stat().st_size, source.stat().st_size, info.songs)
    done = [state[1] for state in seen]
    assert done == sorted(done)  # it only ever moves forward

    copied: list[Progress] = []
    files = [p for p in tiny_gpt2_dir.iterdir() if p.is_file()]
    progress = Progress(callback=copied.append)
    register_model(tiny_gpt2_dir, "kopie", progress=progress)
    assert progress.total == sum(p.stat().st_size for p in files)
    assert progress.done == progress.total and progress.items == len(files)
