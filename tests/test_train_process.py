"""Training as a real process: SIGKILL + resume, SIGINT cancel, pipeline loading, torchrun."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from train_support import (
    REPO,
    epoch_losses,
    json_lines,
    run_cli,
    smartlap_env,
    training_dataset,
)

from smartlap import events
from smartlap.store import processes, runs

pytestmark = pytest.mark.slow


def train_args(model_dir: Path, dataset: str, name: str, epochs: int = 3) -> list[str]:
    return ["--model", str(model_dir), "--dataset", dataset, "--name", name,
            "--epochs", str(epochs), "--block-size", "32", "--batch-size", "2",
            "--max-songs", "12", "--device", "cpu", "--lr", "2e-3",
            "--patience", "9", "--seed", "7"]


def wait_for(predicate, timeout: float = 90.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def only_run_id(home: Path) -> str:
    ids = [p.name for p in (home / "runs").iterdir() if not p.name.startswith(".")]
    assert len(ids) == 1, ids
    return ids[0]


def logged(home: Path, run_id: str) -> list[dict]:
    path = home / "runs" / run_id / "events.jsonl"
    return json_lines(path.read_text()) if path.exists() else []


def test_resume_after_sigkill_reproduces_the_uninterrupted_losses(tmp_path, tiny_gpt2_dir,
                                                                   smartlap_home) -> None:
    dataset = training_dataset(tmp_path)
    reference = run_cli(smartlap_home, "train", *train_args(tiny_gpt2_dir, dataset, "reference"),
                        "--json")
    assert reference.returncode == 0, reference.stderr
    expected = epoch_losses(json_lines(reference.stdout))
    assert sorted(expected) == [1, 2, 3]

    killed_home = tmp_path / "killed-home"
    shutil.copytree(smartlap_home, killed_home, ignore=shutil.ignore_patterns("runs", "models"))
    process = subprocess.Popen(
        [sys.executable, "-m", "smartlap", "train", *train_args(tiny_gpt2_dir, dataset, "killed"),
         "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=smartlap_env(killed_home), cwd=REPO)
    try:
        def state_saved() -> str | None:
            runs_dir = killed_home / "runs"
            if not runs_dir.exists():
                return None
            for run_dir in runs_dir.iterdir():
                if any(e["event"] == "checkpoint_saved" and e["checkpoint"] == "state"
                       for e in logged(killed_home, run_dir.name)):
                    return run_dir.name
            return None

        run_id = wait_for(state_saved)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    before = logged(killed_home, run_id)
    assert not any(e["event"] == "run_finished" for e in before), "killed too late"

    env_home = killed_home
    listed = run_cli(env_home, "runs", "show", run_id, "--json")
    assert json.loads(listed.stdout)["status"] == "interrupted"
    resumed = run_cli(env_home, "train", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    resumed_events = json_lines(resumed.stdout)
    started = next(e for e in resumed_events if e["event"] == "run_started")
    assert 2 <= started["resumed_from_epoch"] <= 3
    got = epoch_losses(logged(env_home, run_id))
    assert sorted(got) == [1, 2, 3]
    for epoch, (train_loss, val_loss) in expected.items():
        assert abs(got[epoch][0] - train_loss) <= 1e-5, (epoch, got[epoch], train_loss)
        assert abs(got[epoch][1] - val_loss) <= 1e-5, (epoch, got[epoch], val_loss)
    for line in (env_home / "runs" / run_id / "events.jsonl").read_text().splitlines():
        events.parse_line(line)


def test_cancel_with_sigint_saves_state_and_resumes(tmp_path, tiny_gpt2_dir,
                                                    smartlap_home) -> None:
    dataset = training_dataset(tmp_path)
    run_id = runs.start_run_process(train_args(tiny_gpt2_dir, dataset, "cancelled", epochs=12))
    run = runs.get_run(run_id)
    assert run.pid and run.status in {"starting", "running"}
    def stepping() -> bool:
        assert processes.is_running(run.process), (run.path / runs.OUTPUT_LOG).read_text()
        return any(e["event"] == "step" for e in logged(smartlap_home, run_id))

    wait_for(stepping)
    runs.cancel_run(run_id)
    assert processes.wait_for_exit(run.process, 60)
    run = runs.get_run(run_id)
    assert run.status == "cancelled" and run.resumable
    cancelled = [e for e in logged(smartlap_home, run_id) if e["event"] == "run_cancelled"]
    assert cancelled and cancelled[0]["resumable"] is True

    listing = run_cli(smartlap_home, "runs", "list", "--json")
    assert json.loads(listing.stdout)[0]["status"] == "cancelled"
    resumed = run_cli(smartlap_home, "train", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    started = next(e for e in json_lines(resumed.stdout) if e["event"] == "run_started")
    assert started["resumed_from_epoch"] == cancelled[0]["epoch"]
    finished = run_cli(smartlap_home, "runs", "show", run_id, "--json")
    assert json.loads(finished.stdout)["status"] == "finished"


def test_saved_model_loads_in_plain_transformers_pipeline(tmp_path, tiny_gptneo_dir,
                                                          smartlap_home) -> None:
    dataset = training_dataset(tmp_path)
    result = run_cli(smartlap_home, "train",
                     *train_args(tiny_gptneo_dir, dataset, "plain", epochs=1))
    assert result.returncode == 0, result.stderr
    code = ("import sys\nfrom transformers import pipeline\n"
            "pipe = pipeline('text-generation', model=sys.argv[1])\n"
            "print(pipe('de haven', max_new_tokens=5, do_sample=False)[0]['generated_text'])")
    loaded = subprocess.run([sys.executable, "-c", code, str(smartlap_home / "models" / "plain")],
                            capture_output=True, text=True, timeout=120,
                            env=smartlap_env(smartlap_home))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("de haven")


def test_two_processes_under_torchrun_only_rank_zero_writes(tmp_path, tiny_gpt2_dir,
                                                            smartlap_home) -> None:
    dataset = training_dataset(tmp_path)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun), "--nproc_per_node", "2", "--master_port", "29517", "-m",
               "smartlap", "train", *train_args(tiny_gpt2_dir, dataset, "ddp", epochs=2), "--json"]
    env = smartlap_env(smartlap_home)
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    run_id = only_run_id(smartlap_home)
    log = logged(smartlap_home, run_id)
    kinds = [e["event"] for e in log]
    assert kinds.count("run_started") == 1 and kinds.count("run_finished") == 1
    assert kinds.count("epoch_end") == 2
    started = log[0]
    assert "2 processes" in started["device"]
    assert (smartlap_home / "models" / "ddp" / "model.safetensors").is_file()
    assert os.listdir(smartlap_home / "models") == ["ddp"]


def test_resume_refuses_options_that_would_change_the_run(smartlap_home) -> None:
    result = run_cli(smartlap_home, "train", "--resume", "20260101-000000-abcd", "--epochs",
                     "20", "--lr", "1e-3", "--batch-size", "4", "--sample-prompt", "",
                     "--patience", "5")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error, hint = result.stderr.split("hint:")
    assert "--lr, --batch-size, --sample-prompt" in error
    for allowed in ("--epochs", "--patience"):
        assert allowed not in error
    assert "start a new run to change --lr" in " ".join(hint.split())
    assert not (smartlap_home / "runs").exists() or not any((smartlap_home / "runs").iterdir())


def test_check_launch_tells_a_single_cpu_process_from_a_real_world() -> None:
    from smartlap.errors import UsageError
    from smartlap.lm.train.launch import check_launch

    simple = {"ACCELERATE_USE_CPU": "True", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    with pytest.raises(UsageError, match="started only one") as caught:
        check_launch(simple)
    assert "torchrun --nproc_per_node 2" in caught.value.hint
    check_launch({**simple, "WORLD_SIZE": "2"})  # torchrun / accelerate's multi launchers
    check_launch({**simple, "OMPI_COMM_WORLD_SIZE": "2"})  # mpirun (accelerate multi-CPU)
    check_launch({"ACCELERATE_USE_CPU": "True"})  # accelerate launch --cpu, one process asked
    check_launch({})  # plain `smartlap train`


def test_accelerate_launch_with_two_cpu_processes_says_it_would_run_one(
        tmp_path, tiny_gpt2_dir, smartlap_home) -> None:
    accelerate = Path(sys.executable).with_name("accelerate")
    dataset = training_dataset(tmp_path)
    command = [str(accelerate), "launch", "--num_processes", "2", "--cpu", "-m", "smartlap",
               "train", *train_args(tiny_gpt2_dir, dataset, "ddp", epochs=1)]
    env = {**smartlap_env(smartlap_home), "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env,
                            cwd=REPO)
    assert result.returncode != 0
    said = " ".join(result.stderr.split())
    assert "error: accelerate launch was asked for several CPU processes, but started only " \
        "one" in said and "hint: Use 'torchrun --nproc_per_node 2 -m smartlap train" in said
    # (accelerate's launcher then prints its own traceback for the child's exit code 2)
    assert not (smartlap_home / "runs").exists() or not any((smartlap_home / "runs").iterdir())
