"""The package's ground floor: paths, names, atomic writes, events, the CLI's error path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap import events
from smartlap.errors import UsageError
from smartlap.fsutil import append_jsonl, atomic_directory, atomic_write_text
from smartlap.names import slugify, validate_name
from smartlap.paths import get_paths


def test_smartlap_home_overrides_every_directory(smartlap_home: Path) -> None:
    paths = get_paths()
    for value in paths.as_dict().values():
        assert Path(value).is_relative_to(smartlap_home)
    assert paths.datasets == smartlap_home / "datasets"


@pytest.mark.parametrize("name", ["demo", "mijn liedjes", "set_2.v1", "Café-Ölé"])
def test_valid_names_pass(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "  ", "../etc", "a/b", "a\\b", "..", ".hidden",
                                  "bad\x00name", "tab\tname", "con", "x" * 65, "-dash"])
def test_hostile_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_name(name, "dataset")
    assert info.value.hint


def test_slugify_makes_file_names_from_titles() -> None:
    assert slugify("Moeder, ik mis je!") == "moeder-ik-mis-je"
    assert slugify("Één café") == "een-cafe"
    assert slugify("???") == "song"


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "file.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_directory_leaves_nothing_on_failure(tmp_path: Path) -> None:
    tmp_path = tmp_path / "store"
    target = tmp_path / "ds"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.json").write_text("{")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(target) as tmp:
        (tmp / "ok.json").write_text("{}")
    assert (target / "ok.json").exists()
    with pytest.raises(FileExistsError), atomic_directory(target) as tmp:
        pass
    with atomic_directory(target, replace=True) as tmp:
        (tmp / "new.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    assert [p.name for p in target.iterdir()] == ["new.json"]


def test_events_round_trip_and_reject_drift(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    sent = [
        events.Step(epoch=1, step=3, loss=2.5, lr=1e-4, tokens_per_s=100.0),
        events.EpochEnd(epoch=1, train_loss=2.5, val_loss=2.7, perplexity=14.9, seconds=3.0,
                        memory={"device": "cpu", "rss_mb": 300.0}),
        events.Token(text="ë"),
    ]
    for event in sent:
        append_jsonl(log, event.to_dict())
    with open(log, "a") as handle:
        handle.write('{"event": "step", "epo')  # a torn line from a writer mid-append
    received = events.read_events(log)
    assert [e.to_dict() for e in received] == [e.to_dict() for e in sent]
    with pytest.raises(events.EventError):
        events.from_dict({"event": "nope", "time": 1})
    with pytest.raises(events.EventError):
        events.from_dict({"event": "token", "time": 1, "text": "a", "extra": 1})
    with pytest.raises(events.EventError):
        events.from_dict({"event": "run_failed", "time": 1})


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartlap", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_help_does_not_import_torch_or_textual() -> None:
    code = ("import sys; from smartlap.cli import build_parser; build_parser().format_help();"
            "print(sorted(m for m in ('torch', 'transformers', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_option_is_one_message_with_hint_and_exit_2() -> None:
    result = _run_cli("paths", "--no-such-option")
    assert result.returncode == 2
    assert "error:" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_paths_json(smartlap_home: Path) -> None:
    result = _run_cli("paths", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["datasets"] == str(smartlap_home / "datasets")


def test_event_tail_reads_only_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    tail = events.EventTail(log)
    assert tail.poll() == []
    append_jsonl(log, events.Token(text="a").to_dict())
    with open(log, "a") as handle:
        handle.write('{"event":"token","time":1,"te')
    assert [e.text for e in tail.poll()] == ["a"]
    assert tail.poll() == []
    with open(log, "a") as handle:
        handle.write('xt":"b"}\n')
    assert [e.text for e in tail.poll()] == ["b"]
    assert [e.text for e in events.EventTail(log).poll()] == ["a", "b"]  # re-attach replays
