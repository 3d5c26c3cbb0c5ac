"""The runs store and the `smartlap runs` command, on run folders written like a real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from smartlap import events
from smartlap.cli import main
from smartlap.errors import NotFoundError, TrainingError, UsageError
from smartlap.store import runs


def fake_run(config: dict | None = None, *, pid: int | None = None,
             kinds: tuple[str, ...] = ("started", "epoch", "finished")) -> str:
    path = runs.create_run(config or {"model": "m", "dataset": "demo", "epochs": 2,
                                      "name": "out"}, pid=pid)
    run_id = path.name
    if "started" in kinds:
        runs.append_event(run_id, events.RunStarted(run_id=run_id, config={}, model="m",
                                                    dataset="demo", device="cpu", params=10))
    if "epoch" in kinds:
        for epoch, val in ((1, 3.0), (2, 2.5)):
            runs.append_event(run_id, events.Step(epoch=epoch, step=1, loss=3.1, lr=1e-3,
                                                  tokens_per_s=100.0, total_steps=1))
            runs.append_event(run_id, events.EpochEnd(
                epoch=epoch, train_loss=val + 0.1, val_loss=val, perplexity=2.718 ** val,
                seconds=1.0, memory={"device": "cpu", "rss_mb": 100.0, "peak_rss_mb": 120.0},
                epochs=2, best=True))
            runs.append_event(run_id, events.Sample(epoch=epoch, prompt="ferry ", text="zingt"))
    if "finished" in kinds:
        runs.append_event(run_id, events.RunFinished(model="out", best_epoch=2,
                                                     best_val_loss=2.5))
    if "failed" in kinds:
        runs.append_event(run_id, events.RunFailed(message="The GPU ran out of memory.",
                                                   hint="Lower --batch-size"))
    return run_id


def test_run_ids_sort_by_time_and_never_escape() -> None:
    first, second = runs.new_run_id(), runs.new_run_id()
    assert first != second and len(first) == len("20261121-231500-a3f9")
    for bad in ("../x", "a/b", ".locks", ""):
        with pytest.raises(UsageError):
            runs.run_path(bad)


def test_status_comes_from_events_and_pid() -> None:
    finished = fake_run()
    failed = fake_run(kinds=("started", "epoch", "failed"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    interrupted = fake_run(pid=int(dead), kinds=("started", "epoch"))
    alive = fake_run(pid=__import__("os").getpid(), kinds=("started",))
    assert runs.get_run(finished).status == "finished"
    info = runs.get_run(failed)
    assert info.status == "failed" and "out of memory" in info.message
    assert runs.get_run(interrupted).status == "interrupted"
    assert runs.get_run(alive).status == "running"
    assert runs.get_run(finished).best_val_loss == 2.5 and runs.get_run(finished).epoch == 2
    assert {r.id for r in runs.list_runs()} == {finished, failed, interrupted, alive}


def test_a_resumed_run_is_judged_by_its_latest_attempt() -> None:
    run_id = fake_run(pid=__import__("os").getpid(), kinds=("started",))
    runs.append_event(run_id, events.RunCancelled(epoch=1))
    assert runs.get_run(run_id).status == "cancelled"
    runs.append_event(run_id, events.RunStarted(run_id=run_id, config={}, model="m",
                                                dataset="demo", device="cpu", params=1,
                                                resumed_from_epoch=1))
    assert runs.get_run(run_id).status == "running"


def test_a_background_resume_keeps_the_runs_training_config(monkeypatch) -> None:
    run_id = fake_run({"model": "m", "dataset": "demo", "epochs": 2, "name": "out"})
    launched = []

    class Launched:
        pid = 4242

    monkeypatch.setattr(runs.subprocess, "Popen",
                        lambda command, **kwargs: launched.append(command) or Launched())
    assert runs.start_run_process(["--resume", run_id], run_id=run_id, niceness=0) == run_id
    record = json.loads((runs.run_path(run_id) / runs.RUN_FILE).read_text())
    assert record["config"]["model"] == "m" and record["pid"] == 4242
    assert launched[-1][-4:] == ["--resume", run_id, "--run-id", run_id]

    fresh = runs.start_run_process(["--model", "x", "--dataset", "demo"], niceness=0)
    record = json.loads((runs.run_path(fresh) / runs.RUN_FILE).read_text())
    assert record["config"] == {"argv": ["--model", "x", "--dataset", "demo"]}


def test_unknown_run_and_cancel_of_a_dead_run_are_clear_errors() -> None:
    with pytest.raises(NotFoundError):
        runs.get_run("20200101-000000-dead")
    with pytest.raises(TrainingError):
        runs.cancel_run(fake_run())


def test_output_lock_is_exclusive_and_released() -> None:
    with runs.output_lock("mijn-model"):
        with pytest.raises(TrainingError), runs.output_lock("mijn-model"):
            pass
        with runs.output_lock("ander-model"):
            pass
    with runs.output_lock("mijn-model"):
        pass
    assert [r.id for r in runs.list_runs()] == []  # the lock folder is not a run


def test_runs_cli_list_show_and_tail_json(capsys) -> None:
    run_id = fake_run()
    assert main(["runs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["id"] == run_id and listed[0]["status"] == "finished"
    assert main(["runs", "show", run_id]) == 0
    shown = capsys.readouterr().out
    assert "finished" in shown and "2.5000" in shown
    assert "prompt: ferry\n  → zingt" in shown  # the prompt apart from what was written
    assert main(["runs", "tail", run_id, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "run_started"
    assert lines[-1]["event"] == "run_finished"
    for line in lines:
        events.from_dict(line)


def test_runs_tail_renders_epochs_and_exits_when_the_run_ended(capsys) -> None:
    run_id = fake_run(kinds=("started", "epoch", "failed"))
    assert main(["runs", "tail", run_id]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "2.5000" in out


def test_runs_tail_shows_each_samples_prompt_and_the_steps_memory_and_eta(capsys) -> None:
    from smartlap.cli.runs import step_detail

    run_id = fake_run()
    assert main(["runs", "tail", run_id]) == 0
    out = capsys.readouterr().out
    assert 'sample after epoch 1, prompt "ferry"\n  → zingt' in out
    step = events.Step(epoch=1, step=3, loss=3.1234, lr=1e-3, tokens_per_s=950.0,
                       total_steps=9, memory={"device": "cpu", "rss_mb": 812.0,
                                              "system_mb": 15872.0}, eta_seconds=185)
    assert step_detail(step) == "loss 3.123  950 tok/s  RAM 812 MB of 15.5 GB  ETA 3m05s"
    older = events.Step(epoch=1, step=3, loss=3.0, lr=1e-3, tokens_per_s=10.0)
    assert step_detail(older) == "loss 3.000  10 tok/s"  # logs from before: no gaps shown


def test_runs_cancel_of_unknown_run_prints_error(capsys) -> None:
    assert main(["runs", "cancel", "20200101-000000-dead"]) == 1
    assert "no run" in capsys.readouterr().err.lower()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_background_runs_yield_the_cpu_to_the_studio() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        before = os.getpriority(os.PRIO_PROCESS, child.pid)
        runs.lower_priority(child.pid, 5)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, before + 5)
    finally:
        child.kill()
        child.wait()


def _epoch(run_id: str, epoch: int, val: float, text: str, best: bool = True) -> None:
    runs.append_event(run_id, events.EpochEnd(
        epoch=epoch, train_loss=val + 0.1, val_loss=val, perplexity=2.718 ** val, seconds=1.0,
        memory={"device": "cpu", "rss_mb": 100.0}, epochs=3, best=best))
    runs.append_event(run_id, events.Sample(epoch=epoch, prompt="In de kroeg ", text=text))


def test_runs_show_samples_pages_every_epoch_and_a_resume_replaces_redone_epochs(
        capsys) -> None:
    run_id = fake_run(kinds=("started",))
    _epoch(run_id, 1, 3.0, "la la la")
    _epoch(run_id, 2, 2.6, "eerste poging")
    runs.append_event(run_id, events.RunCancelled(epoch=2))
    runs.append_event(run_id, events.RunStarted(run_id=run_id, config={}, model="m",
                                                dataset="demo", device="cpu", params=10,
                                                resumed_from_epoch=1))
    _epoch(run_id, 2, 2.4, "brandt nog licht")
    _epoch(run_id, 3, 2.5, "moeder wacht", best=False)

    assert main(["runs", "show", run_id, "--samples", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["samples"]
    assert [(s["epoch"], s["text"], s["val_loss"]) for s in shown] == [
        (1, "la la la", 3.0), (2, "brandt nog licht", 2.4), (3, "moeder wacht", 2.5)]
    assert [s["best"] for s in shown] == [True, True, False]

    assert main(["runs", "show", run_id, "--samples"]) == 0
    out = capsys.readouterr().out
    assert out.index("Epoch 1") < out.index("Epoch 2") < out.index("Epoch 3")
    assert "In de kroeg brandt nog licht" in out and "eerste poging" not in out
    assert "val 2.4000, best" in out


def test_runs_show_samples_of_a_run_without_epochs_says_so(capsys) -> None:
    run_id = fake_run(kinds=("started",))
    assert main(["runs", "show", run_id, "--samples"]) == 0
    assert "no samples yet" in capsys.readouterr().out
