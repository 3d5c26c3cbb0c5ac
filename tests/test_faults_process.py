"""Fault matrix, processes and listings (issue 20): each case is a row of a table.

- processes: a run's pid is held by a real process this test starts (``sleep``), recorded
  under its true identity or a false one (start time, command line), or as an old run.json
  with a bare pid; a pid that now belongs to another program is never signalled;
- corrupt files: each damaged shape of events.jsonl, run.json, dataset.json, songs.jsonl,
  config.json and smartlap.json, and what every listing then shows;
- boundaries: seeds, sample counts, reserved and surrogate song titles.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smartlap import events, limits
from smartlap.cli import main
from smartlap.errors import SmartlapError, TrainingError, UsageError
from smartlap.fsutil import append_jsonl, atomic_write_json
from smartlap.lm.generation import GenerationSettings
from smartlap.lm.train.config import TrainConfig
from smartlap.names import slugify, validate_name
from smartlap.store import datasets, models, processes, runs, songbook
from smartlap.store.listing import DamagedEntry
from smartlap.store.processes import Identity, ProcessRecord
from smartlap.tui import controls
from smartlap.tui import train as train_view

# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    """A live process whose pid the tests record as a run's (it is killed at the end)."""
    process = subprocess.Popen(["sleep", "120"])
    time.sleep(0.05)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def _run_with(record: dict, run_id: str = "20261204-010000-abcd",
              run_events: tuple[events.Event, ...] | None = None) -> str:
    """A run folder whose run.json is ``record`` (plus id, created, config) and a live-looking
    log: started, one epoch, no ending."""
    path = runs.runs_dir() / run_id
    path.mkdir(parents=True)
    atomic_write_json(path / runs.RUN_FILE, {"id": run_id, "created": "2026-12-04T01:00:00+00:00",
                                            "config": {"epochs": 3}, "status": "running",
                                            **record})
    started = events.RunStarted(run_id=run_id, config={}, model="m", dataset="demo",
                                device="cpu", params=1)
    for event in run_events if run_events is not None else (started, _epoch(1)):
        append_jsonl(path / runs.EVENTS_FILE, event.to_dict())
    return run_id


def _epoch(epoch: int, val: float = 2.5) -> events.EpochEnd:
    return events.EpochEnd(epoch=epoch, train_loss=val + 0.1, val_loss=val, perplexity=12.0,
                           seconds=1.0, memory={"device": "cpu"}, epochs=3)


def _record(process: subprocess.Popen, **changes) -> dict:
    """The process record of ``process``, with some fields falsified."""
    data = processes.describe(process.pid).to_dict()
    data.update(changes)
    return data


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


# -- processes: which process is the run's -------------------------------------------------------

IDENTITY_CASES: dict[str, tuple[Callable[[subprocess.Popen], dict], Identity, str]] = {
    "true identity: running": (
        lambda p: {"pid": p.pid, "process": _record(p)}, Identity.OURS, "running"),
    "pid reused: start time differs": (
        lambda p: {"pid": p.pid, "process": _record(p, started=_record(p)["started"] - 3600)},
        Identity.OTHER, "interrupted"),
    "pid reused: command line differs": (
        lambda p: {"pid": p.pid, "process": _record(p, cmdline=[sys.executable, "-m",
                                                                "smartlap", "train"])},
        Identity.OTHER, "interrupted"),
    "process gone": (
        lambda p: {"pid": (pid := _dead_pid()), "process": {"pid": pid, "started": 1.0,
                                                            "cmdline": ["x"]}},
        Identity.GONE, "interrupted"),
    "old run.json, bare pid, process older than the file: running": (
        lambda p: {"pid": p.pid}, Identity.OURS, "running"),
}


@pytest.mark.parametrize("case", list(IDENTITY_CASES))
def test_a_runs_process_is_known_by_more_than_its_pid(case: str, sleeper) -> None:
    make, identity, status = IDENTITY_CASES[case]
    run_id = _run_with(make(sleeper))
    run = runs.get_run(run_id)
    assert processes.identify(run.process) is identity
    assert run.status == status
    assert run.resumable is False  # no state saved, whatever the status


def test_an_old_run_json_whose_pid_started_after_it_was_written_is_interrupted(sleeper) -> None:
    run_id = _run_with({"pid": sleeper.pid})
    past = time.time() - 3600  # run.json last written an hour before this process started
    os.utime(runs.run_path(run_id) / runs.RUN_FILE, (past, past))
    run = runs.get_run(run_id)
    assert run.process is not None and run.process.started is None
    assert processes.identify(run.process) is Identity.OTHER
    assert run.status == "interrupted"


def test_an_unreaped_zombie_is_not_a_running_run() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    record = processes.describe(child.pid)
    for _ in range(100):  # exited, not yet waited for: a zombie
        if processes.identify(record) is Identity.GONE:
            break
        time.sleep(0.05)
    assert processes.identify(record) is Identity.GONE
    child.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_without_psutil_the_start_time_comes_from_proc(sleeper, monkeypatch) -> None:
    truth = processes.describe(sleeper.pid)
    monkeypatch.setattr(processes, "_psutil", lambda: None)
    seen = processes.describe(sleeper.pid)
    assert seen.cmdline == ("sleep", "120")
    assert seen.started is not None
    assert abs(seen.started - truth.started) <= processes.START_TOLERANCE_S
    assert processes.identify(truth) is Identity.OURS
    assert processes.identify(ProcessRecord(sleeper.pid, truth.started - 60)) is Identity.OTHER


def test_creating_a_run_records_its_process_identity(sleeper) -> None:
    path = runs.create_run({"model": "m"}, pid=sleeper.pid)
    stored = json.loads((path / runs.RUN_FILE).read_text())
    assert stored["pid"] == sleeper.pid
    assert stored["process"]["cmdline"] == ["sleep", "120"]
    assert stored["process"]["started"] == pytest.approx(
        processes.describe(sleeper.pid).started)
    runs.update_run(path.name, status="running")  # a later rewrite keeps the identity
    assert json.loads((path / runs.RUN_FILE).read_text())["process"] == stored["process"]


CANCEL_REFUSED = {
    "pid reused: start time differs": lambda p: {
        "pid": p.pid, "process": _record(p, started=_record(p)["started"] - 3600)},
    "pid reused: command line differs": lambda p: {
        "pid": p.pid, "process": _record(p, cmdline=["python", "-m", "smartlap", "train"])},
    "old run.json, pid started after it was written": lambda p: {"pid": p.pid},
}


@pytest.mark.parametrize("case", list(CANCEL_REFUSED))
def test_cancel_never_signals_a_process_that_is_not_the_runs(case: str, sleeper,
                                                             capsys) -> None:
    run_id = _run_with(CANCEL_REFUSED[case](sleeper))
    if case.startswith("old"):
        past = time.time() - 3600
        os.utime(runs.run_path(run_id) / runs.RUN_FILE, (past, past))
    with pytest.raises(TrainingError, match="another program"):
        runs.cancel_run(run_id)
    assert main(["runs", "cancel", run_id]) == 1
    err = capsys.readouterr().err
    assert "another program" in err and "left alone" in err and "Traceback" not in err
    time.sleep(0.1)
    assert sleeper.poll() is None  # the stranger still runs: it was never signalled


def test_cancel_of_the_runs_own_process_signals_it(sleeper) -> None:
    run_id = _run_with({"pid": sleeper.pid, "process": _record(sleeper)})
    run = runs.cancel_run(run_id)
    assert sleeper.wait(10) == -signal.SIGINT
    assert processes.wait_for_exit(run.process, 5)


def test_a_signal_is_refused_when_identity_cannot_be_checked(sleeper, monkeypatch) -> None:
    monkeypatch.setattr(processes, "_observe",
                        lambda pid: processes._Seen(started=None, cmdline=None))
    record = ProcessRecord(sleeper.pid)
    assert processes.identify(record) is Identity.UNKNOWN
    with pytest.raises(TrainingError, match="Cannot tell"):
        processes.send_signal(record, signal.SIGINT)
    assert sleeper.poll() is None


def test_runs_tail_returns_when_the_pid_now_belongs_to_another_program(sleeper,
                                                                      smartlap_home) -> None:
    run_id = _run_with({"pid": sleeper.pid,
                        "process": _record(sleeper, started=_record(sleeper)["started"] - 60)})
    done = subprocess.run([sys.executable, "-m", "smartlap", "runs", "tail", run_id],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SMARTLAP_HOME": str(smartlap_home)})
    assert done.returncode == 0, done.stderr
    assert "gone without finishing" in done.stdout
    assert sleeper.poll() is None


# -- corrupt files: one damaged entry never breaks a listing -------------------------------------

def _good_run(run_id: str = "20261204-000000-good") -> str:
    return _run_with({"pid": None}, run_id=run_id, run_events=(
        events.RunStarted(run_id=run_id, config={}, model="m", dataset="demo", device="cpu",
                          params=1),
        _epoch(1, 3.0), _epoch(2, 2.0), events.RunFinished(model="out", best_epoch=2)))


def _append(run_id: str, data: bytes) -> None:
    with open(runs.run_path(run_id) / runs.EVENTS_FILE, "ab") as handle:
        handle.write(data)


def _cut_character(run_id: str) -> None:
    """A sample whose 'é' lost its second byte, then the log goes on."""
    line = events.Sample(epoch=2, prompt="", text="café").to_json().encode()
    _append(run_id, line.replace("é".encode(), "é".encode()[:1]) + b"\n")


def _cut_json(run_id: str) -> None:
    line = events.Sample(epoch=2, prompt="", text="café").to_json().encode()
    _append(run_id, line[: line.index("é".encode()) + 1] + b"\n")


EVENTS_DAMAGE: dict[str, tuple[Callable[[str], None], int]] = {
    "binary bytes appended, with newlines": (
        lambda r: _append(r, b"\x00\xff\xfe\x89PNG\r\n\x1a\n\xc3\x28garbage\n"), 3),
    "binary bytes appended without a newline, the next event joins them": (
        lambda r: _append(r, os.urandom(64).replace(b"\n", b"")), 1),
    "a UTF-8 character cut inside a string": (_cut_character, 0),
    "a UTF-8 character cut, and the line with it": (_cut_json, 1),
    "an event with a value of the wrong type": (
        lambda r: _append(r, b'{"event":"epoch_end","time":1,"epoch":"two","train_loss":1,'
                             b'"val_loss":"low","perplexity":null,"seconds":1,"memory":{}}\n'), 1),
    "a line nested 100,000 deep": (lambda r: _append(r, b"[" * 100_000 + b"\n"), 1),
}


@pytest.mark.parametrize("case", list(EVENTS_DAMAGE))
def test_a_damaged_events_log_costs_only_its_damaged_lines(case: str, capsys) -> None:
    damage, unreadable = EVENTS_DAMAGE[case]
    run_id = _good_run()
    damage(run_id)
    _append(run_id, events.RunFinished(model="out", best_epoch=2).to_json().encode() + b"\n")
    run = runs.get_run(run_id)
    assert run.status == "finished" and run.epoch == 2 and run.best_val_loss == 2.0
    assert run.unreadable_events == unreadable
    assert [r.id for r in runs.list_runs()] == [run_id]
    for argv in (["runs", "list"], ["runs", "show", run_id], ["runs", "list", "--json"],
                 ["runs", "tail", run_id, "--no-follow"], ["runs", "tail", run_id, "--json"]):
        assert main(argv) == 0, argv
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert (run_id if "--json" in argv or "show" in argv else "2.0000") in out
        assert ("unreadable line" in err) == bool(unreadable and argv[1] in ("show", "tail"))


def test_a_cut_character_keeps_its_event_with_a_replacement_mark() -> None:
    run_id = _good_run()
    _cut_character(run_id)
    samples = [e for e in runs.read_run_events(run_id) if isinstance(e, events.Sample)]
    assert samples[-1].text == "caf\ufffd"


RUN_JSON_DAMAGE: dict[str, tuple[bytes, str]] = {
    "truncated": (b'{"id": "x", "created": "2026-12-0', "not valid JSON"),
    "empty": (b"", "not valid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe", "not UTF-8"),
    "a list, not an object": (b"[1, 2, 3]", "holds a list"),
    "config is a string": (b'{"config": "abc"}', "'config' has the wrong type"),
    "created is a number": (b'{"created": 5}', "'created' has the wrong type"),
    "pid is a string": (b'{"pid": "1234"}', "'pid' should be a positive whole number"),
    "process is a list": (b'{"pid": 1, "process": [1]}', "'process' should be an object"),
    "process.started is text": (b'{"process": {"pid": 1, "started": "today"}}',
                                "'process.started' should be a number"),
}


@pytest.mark.parametrize("case", list(RUN_JSON_DAMAGE))
def test_a_damaged_run_json_is_flagged_and_the_other_runs_listed(case: str, capsys) -> None:
    content, reason = RUN_JSON_DAMAGE[case]
    good = _good_run()
    bad = runs.runs_dir() / "20261204-020000-bad0"
    bad.mkdir()
    (bad / runs.RUN_FILE).write_bytes(content)
    listing = runs.scan_runs()
    assert [r.id for r in listing.entries] == [good]
    assert [d.name for d in listing.damaged] == [bad.name]
    assert reason in listing.damaged[0].reason
    assert main(["runs", "list"]) == 0
    out, err = capsys.readouterr()
    err = " ".join(err.split())
    assert "2.0000" in out and bad.name in err and reason in err and "Traceback" not in err
    assert main(["runs", "show", bad.name]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "is damaged" in err and reason in err and "Traceback" not in err
    with pytest.raises(DamagedEntry):
        runs.get_run(bad.name)
    assert main(["runs", "cancel", bad.name]) == 1


def _import(name: str) -> Path:
    source = Path(os.environ["SMARTLAP_HOME"]).parent / f"{name}.csv"
    source.write_text("title,lyrics\n" + "".join(
        f'"{name} {i}","Regel een van {name} {i}\nen regel twee {i} {name}\nnog een {i}"\n'
        for i in range(3)), encoding="utf-8")
    return datasets.import_dataset(source, name=name).path


DATASET_DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "truncated": (lambda raw: raw[: len(raw) // 2], "not valid JSON"),
    "not UTF-8": (lambda raw: b"\xff\xfe" + raw, "not UTF-8"),
    "a list": (lambda raw: b"[]", "holds a list"),
    "stats missing": (lambda raw: b'{"name": "x"}', "missing 'stats'"),
    "a count that is text": (
        lambda raw: raw.replace(b'"songs": 3', b'"songs": "three"'), "stats.songs"),
}


@pytest.mark.parametrize("case", list(DATASET_DAMAGE))
def test_a_damaged_dataset_json_is_flagged_and_demo_and_the_rest_listed(case: str,
                                                                        capsys) -> None:
    damage, reason = DATASET_DAMAGE[case]
    _import("goed")
    broken = _import("kapot")
    info_file = broken / "dataset.json"
    info_file.write_bytes(damage(info_file.read_bytes()))
    listing = datasets.scan_datasets()
    assert [d.name for d in listing.entries] == ["demo", "goed"]
    assert [(d.name, reason in d.reason) for d in listing.damaged] == [("kapot", True)]
    assert main(["datasets", "list"]) == 0
    out, err = capsys.readouterr()
    assert "demo" in out and "goed" in out and "kapot" in err and "Traceback" not in err
    assert main(["datasets", "show", "kapot"]) == 1
    assert "is damaged" in capsys.readouterr().err


def test_a_truncated_demo_dataset_json_is_repaired_so_demo_is_always_listed() -> None:
    datasets.ensure_demo()
    info_file = datasets.get_dataset("demo").path / "dataset.json"
    info_file.write_bytes(info_file.read_bytes()[:40])
    listing = datasets.scan_datasets()
    assert [d.name for d in listing.entries] == ["demo"] and not listing.damaged


def test_a_damaged_songs_line_is_a_clear_error_not_a_traceback(capsys) -> None:
    path = _import("regels")
    with open(path / "songs.jsonl", "ab") as handle:
        handle.write(b'{"id": "x", "title": \n')
    with pytest.raises(DamagedEntry, match=r"songs\.jsonl line 4"):
        list(datasets.iter_songs("regels"))
    assert main(["datasets", "export", "regels", "--to",
                 str(path.parent.parent / "out.jsonl")]) == 1
    assert "songs.jsonl line 4" in capsys.readouterr().err


def _model(name: str, config: object = None, meta: bytes | None = None) -> Path:
    entry = models.get_paths().models / name
    entry.mkdir(parents=True)
    (entry / "config.json").write_text(json.dumps(config if config is not None else {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_positions": 64}))
    if meta is not None:
        (entry / models.METADATA_FILE).write_bytes(meta)
    return entry


MODEL_DAMAGE: dict[str, tuple[dict, bool]] = {
    "smartlap.json link is a number": ({"meta": b'{"link": 5}'}, True),
    "smartlap.json truncated": ({"meta": b'{"origin": "lo'}, False),
    "smartlap.json wrong types": ({"meta": b'{"params": "many", "created": "today", '
                                           b'"origin": 3, "training": [1]}'}, False),
    "config.json architectures is a number": ({"config": {"architectures": 5,
                                                          "vocab_size": "big"}}, False),
    "config.json is a list": ({"config": [1, 2]}, False),
}


@pytest.mark.parametrize("case", list(MODEL_DAMAGE))
def test_a_damaged_model_entry_never_breaks_models_list(case: str, capsys) -> None:
    spec, damaged = MODEL_DAMAGE[case]
    _model("goed")
    _model("kapot", spec.get("config"), spec.get("meta"))
    listing = models.scan_models()
    names = [m.name for m in listing.entries]
    assert "goed" in names and ("kapot" in names) is not damaged
    assert [d.name for d in listing.damaged] == (["kapot"] if damaged else [])
    for argv in (["models", "list"], ["models", "list", "--json"]):
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert "goed" in out and "Traceback" not in err
        assert ("kapot" in err) is damaged
    assert main(["models", "show", "kapot"]) == (1 if damaged else 0)
    assert "Traceback" not in capsys.readouterr().err


# -- boundaries ---------------------------------------------------------------------------------

SEEDS = {0: True, 42: True, limits.SEED_MAX: True, -1: False, limits.SEED_MAX + 1: False,
         2**70: False}


@pytest.mark.parametrize("seed", list(SEEDS))
def test_seeds_are_range_checked_everywhere_one_is_accepted(seed: int, capsys) -> None:
    ok = SEEDS[seed]
    assert (limits.seed_problem(seed) is None) is ok
    assert (controls.FIELDS["seed"][1](str(seed))[1] is None) is ok
    assert (train_view.FIELDS["seed"][2](str(seed))[1] is None) is ok
    assert (not controls.controls_from({"seed": seed})[1]) is ok
    for build in (lambda: GenerationSettings(seed=seed).validate(),
                  lambda: TrainConfig(model="m", dataset="d", seed=seed).validate()):
        if ok:
            build()
        else:
            with pytest.raises(UsageError, match=str(limits.SEED_MAX)):
                build()
    if not ok:  # each CLI refuses it before loading anything: one line, exit 2
        for argv in (["generate", "--seed", str(seed)],
                     ["train", "--model", "m", "--dataset", "demo", "--seed", str(seed)],
                     ["report", "--seed", str(seed)],
                     ["compare", "a", "b", "--seed", str(seed)]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert str(limits.SEED_MAX) in err and "Traceback" not in err


SAMPLES = {1: True, limits.MAX_SAMPLES: True, 0: False, limits.MAX_SAMPLES + 1: False,
           10**9: False}


@pytest.mark.parametrize("samples", list(SAMPLES))
def test_the_number_of_samples_is_capped(samples: int, capsys) -> None:
    ok = SAMPLES[samples]
    if ok:
        assert GenerationSettings(samples=samples).validate().samples == samples
        return
    with pytest.raises(UsageError, match=f"1 to {limits.MAX_SAMPLES}"):
        GenerationSettings(samples=samples).validate()
    for argv in (["generate", "--samples", str(samples)],
                 ["compare", "a", "b", "--samples", str(samples)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"1 to {limits.MAX_SAMPLES}" in err and "Traceback" not in err


def test_a_seed_that_is_not_a_number_is_one_clear_line(capsys) -> None:
    assert main(["generate", "--seed", "2**70"]) == 2
    err = capsys.readouterr().err
    assert "not a whole number" in err and "Traceback" not in err


RESERVED_TITLES = {"Nul": "nul-song", "CON": "con-song", "aux": "aux-song",
                   "Com1": "com1-song", "nul.txt": "nul-txt"}


@pytest.mark.parametrize("title", list(RESERVED_TITLES))
def test_a_reserved_file_name_is_a_fine_song_title(title: str, capsys) -> None:
    song = songbook.new_song(title, "Nul komma nul")
    assert song.slug == RESERVED_TITLES[title] and song.title == title
    assert songbook.open_song(song.slug).title == title
    assert main(["songs", "list"]) == 0 and title in capsys.readouterr().out
    with pytest.raises(UsageError, match="reserved"):  # as a folder name it stays refused
        validate_name(title, "dataset")
    assert slugify(title, "dataset") == RESERVED_TITLES[title].replace("-song", "-dataset")
    assert not validate_name(song.slug, "song").startswith(title.lower() + ".")


def test_a_lone_surrogate_is_cleaned_where_the_title_comes_in(capsys) -> None:
    song = songbook.new_song("Moeder \udc80 lief", "tekst \ud800 hier")
    assert song.title == "Moeder \ufffd lief" and song.lyrics == "tekst \ufffd hier"
    saved = songbook.save_song(songbook.BookSong(**{**song.__dict__,
                                                    "title": "Vader \udfff lief"}))
    assert saved.title == "Vader \ufffd lief"
    assert main(["songs", "list"]) == 0
    assert "Vader \ufffd lief" in capsys.readouterr().out


def test_every_listing_error_is_a_smartlap_error() -> None:
    """The mechanism's contract: a damaged entry raised to a caller is a SmartlapError (one
    message and a hint in every front end)."""
    error = DamagedEntry("run", "x", "run.json is not valid JSON", "hint")
    assert isinstance(error, SmartlapError)
    assert error.message == "The run 'x' is damaged: run.json is not valid JSON."
