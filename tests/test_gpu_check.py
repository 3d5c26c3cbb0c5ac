"""The prepared GPU check (scripts/gpu-check): its dry run end to end, its guards, its report.

No GPU here: the dry run runs every step's code on the CPU with tiny shapes, with textual,
platformdirs and pyphen refused as the lent GPU machine lacks them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import gpu_report
from benchmarks.gpu_steps import Step, run_all, run_step

REPO = Path(__file__).resolve().parent.parent
ABSENT = ("textual", "platformdirs", "pyphen")


@pytest.mark.slow
def test_dry_run_runs_every_step_on_the_cpu_and_writes_the_report(tmp_path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    env.pop("SMARTLAP_HOME", None)  # the check makes its own data home
    result = subprocess.run([str(REPO / "scripts" / "gpu-check"), "--dry-run", "--out",
                             str(out)], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "gpu-check.json").read_text())
    statuses = {key: record["status"] for key, record in gpu_report.records(report)}
    assert set(statuses.values()) == {"ok"}, statuses
    assert {"device", "train/lean-attention", "train/tiny-gpt2", "train/tiny-gpt2-trainer",
            "train/tiny-gpt-neo", "train/tiny-gpt-neo-trainer", "generate/bf16",
            "generate/stop-and-hygiene", "resume",
            "train/tiny-gpt2-medium-embeddings"} == set(statuses)
    train = report["train"]
    ours = train["tiny-gpt2"]["figures"]
    assert ours["precision"] == "bf16" and len(ours["epochs"]) == 2  # autocast, as on a GPU
    assert ours["songs"] == 24 and ours["train_loss"] > 0 and ours["val_loss"] > 0
    assert train["tiny-gpt2-trainer"]["figures"]["pad_share"] > 0  # per-song padding
    medium = train["tiny-gpt2-medium-embeddings"]["figures"]
    assert medium["mode"] == "embeddings" and medium["trainable_params"] < medium["params"]
    lean = train["lean-attention"]["figures"]
    assert lean["gpt2"]["handover_ok"] and lean["gpt_neo"]["handover_ok"]
    assert lean["gpt_neo"]["calls"]["recomputed"] == 2 and lean["gpt_neo"]["grads_finite"]
    speed = report["generate"]["bf16"]["figures"]
    assert speed["fast_decoder"] and set(speed["paths"]) == {
        "smartlap stream_generate", "model.generate", "pipeline"}
    assert report["generate"]["stop-and-hygiene"]["figures"]["ok"]
    resume = report["resume"]["figures"]
    assert resume["status_after_kill"] == "interrupted" and resume["losses_match"]
    assert resume["epochs_compared"] == [1, 2, 3]
    text = (out / "gpu-check.md").read_text()
    assert "### GPU check: dry run on the CPU" in text and "| tiny-gpt-neo (full) |" in text
    assert "smartlap vs HF Trainer + per-song padding" in text
    assert text == gpu_report.markdown(report)
    assert not [p for p in out.iterdir() if p.name not in {"gpu-check.json", "gpu-check.md"}]


def test_without_a_gpu_the_full_run_refuses_with_a_hint_and_no_traceback(tmp_path) -> None:
    pytest.importorskip("torch").cuda.is_available() and pytest.skip("this machine has a GPU")
    env = {**os.environ, "PYTHON": sys.executable}
    out = tmp_path / "out"
    result = subprocess.run([str(REPO / "scripts" / "gpu-check"), "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert "no CUDA GPU here" in result.stderr and "hint: " in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    bad = subprocess.run([str(REPO / "scripts" / "gpu-check"), "--dry-run", "--minutes", "0"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "--minutes must be above 0" in bad.stderr


def test_the_check_and_the_core_paths_it_runs_import_without_textual_platformdirs_pyphen(
        tmp_path) -> None:
    code = f"""
import os, sys
os.environ["SMARTLAP_HOME"] = {str(tmp_path)!r}
from benchmarks import import_guard
import_guard.install()
try:
    import textual
except ImportError as error:
    assert "not installed on the GPU machine" in str(error)
else:
    raise SystemExit("the guard let textual in")
from benchmarks import gpu_check, gpu_device, gpu_generate, gpu_report, gpu_shapes, gpu_train
import benchmarks.generation, benchmarks.training
import smartlap.cli, smartlap.lm.device, smartlap.lm.fast_decode, smartlap.lm.generation
import smartlap.lm.loading, smartlap.lm.train.engine, smartlap.store.datasets
from smartlap.paths import get_paths
get_paths()
gpu_check.steps(gpu_check.make_plan(True, None, False, False))
print(sorted(n for n in sys.modules if n.split(".")[0] in {ABSENT!r}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_guard_refuses_to_install_after_a_blocked_package_was_imported(monkeypatch) -> None:
    from benchmarks import import_guard

    monkeypatch.setitem(sys.modules, "pyphen", object())
    with pytest.raises(RuntimeError, match="pyphen"):
        import_guard.install()


def _boom(context) -> dict:
    raise ValueError("the GPU caught fire")


def _sleep(context) -> dict:
    time.sleep(30)
    return {}


def test_a_failing_step_is_reported_and_the_rest_still_run() -> None:
    seen: list[tuple[str, dict]] = []
    steps = [Step("device", "", lambda c: {"name": c}, 1),
             Step("train", "broken", _boom, 1),
             Step("train", "fine", lambda c: {"tokens_per_s": 12.5}, 1)]

    run_all(steps, "ctx", budget_s=60, scale=1.0,
            on_record=lambda step, record: seen.append((step.key, record)))

    assert [key for key, _ in seen] == ["device", "train/broken", "train/fine"]
    records = dict(seen)
    assert records["device"]["figures"] == {"name": "ctx"}
    assert records["train/broken"]["status"] == "error"
    assert records["train/broken"]["error"] == "ValueError: the GPU caught fire"
    assert any("_boom" in line for line in records["train/broken"]["traceback"])
    assert records["train/fine"] == {**records["train/fine"], "status": "ok",
                                     "figures": {"tokens_per_s": 12.5}}


def test_a_hung_step_ends_at_its_limit() -> None:
    record = run_step(Step("generate", "hung", _sleep, 1), None, limit_s=0.3)
    assert record["status"] == "error" and record["error"].startswith("StepTimeout")
    assert record["seconds"] < 10


def test_steps_that_no_longer_fit_the_budget_are_skipped_with_the_reason() -> None:
    seen: dict[str, dict] = {}
    ran: list[str] = []
    steps = [Step("train", "needed", lambda c: ran.append("needed") or {}, 20),
             Step("train", "if-time-allows", lambda c: ran.append("optional") or {}, 600,
                  optional=True)]

    run_all(steps, None, budget_s=60, scale=1.0,
            on_record=lambda step, record: seen.__setitem__(step.key, record))

    assert ran == ["needed"]
    assert seen["train/if-time-allows"]["status"] == "skipped"
    assert "out of time" in seen["train/if-time-allows"]["reason"]
    run_all(steps[:1], None, budget_s=0, scale=1.0,
            on_record=lambda step, record: seen.__setitem__("empty", record))
    assert seen["empty"]["status"] == "skipped" and ran == ["needed"]


def _ok(figures: dict) -> dict:
    return {"status": "ok", "seconds": 1.0, "expected_s": 30, "figures": figures}


def _run(model: str, contender: str, tokens: float, peak: float, wall: float | None) -> dict:
    return _ok({"model": model, "mode": "full", "contender": contender, "precision": "bf16",
                "batch_size": 8, "block_size": 512, "grad_accum": 1, "epochs": [{}, {}, {}],
                "seconds_per_epoch": 1.5, "wall_seconds_per_epoch": wall,
                "tokens_per_s": tokens, "peak_allocated_mb": peak,
                "peak_reserved_mb": peak + 500, "train_loss": 6.123456, "val_loss": 6.5,
                "pad_share": 0.25 if wall is None else None})


def test_report_renders_the_tables_the_ratios_and_the_seeds_row() -> None:
    report = {
        "meta": {"command": "scripts/gpu-check", "dry_run": False, "device": "cuda",
                 "minutes": 7.0, "songs": 396, "epochs": 3, "started": "now", "seconds": 250},
        "device": _ok({"name": "NVIDIA H200", "memory_mb": 143_771, "capability": "9.0",
                       "bf16": True, "torch": "2.9", "cuda": "12.8",
                       "smartlap_placement": "cuda, bf16", "versions": {}}),
        "train": {
            "gpt-neo-125m": _run("gpt-neo-125m", "smartlap", 90_000.0, 3_000.0, 24.3),
            "gpt-neo-125m-trainer": _run("gpt-neo-125m", "HF Trainer + per-song padding",
                                         45_000.0, 6_000.0, None),
            "gpt2-medium-dutch-embeddings": {"status": "skipped", "seconds": 0.0,
                                             "expected_s": 90,
                                             "reason": "out of time (20 s left)"},
        },
        "generate": {"fp16": {"status": "error", "seconds": 2.0, "expected_s": 25,
                              "error": "RuntimeError: CUDA error: device-side assert"}},
        "resume": {},
    }

    text = gpu_report.markdown(report)

    assert text.startswith("### GPU check: NVIDIA H200\n")
    assert "| gpt-neo-125m (full) | smartlap | bf16 | 8 × 512 | 3 | 1.5 | 24.3 | 90,000.0 |" \
        in text
    assert "| 6.1235 | 6.5000 |" in text
    assert ("gpt-neo-125m: smartlap vs HF Trainer + per-song padding: tokens/s **×2.00**, "
            "peak allocated ×0.50 (3,000 vs 6,000 MB); the Trainer's batches were 25% "
            "padding") in text
    assert "| GPT-Neo 125M, full | 1 h 21 min, 6,048 MB | 1 h 21 min | 3,500.0 |" in text
    assert "| GPT-2 medium, embeddings | 2 h 25 min, 11,520 MB | – | – |" in text
    assert "| train/gpt2-medium-dutch-embeddings | skipped | 0.0 | 90 | out of time" in text
    assert "| fp16 | error |" in text and "device-side assert" in text
    assert gpu_report.failed(report)
    report["generate"] = {}
    assert not gpu_report.failed(report)


def test_report_rerenders_from_its_json(tmp_path, capsys) -> None:
    report = {"meta": {"command": "x", "dry_run": True, "device": "cpu", "minutes": 3,
                       "songs": 24, "epochs": 2, "started": "now", "seconds": 1.0},
              "device": _ok({"name": "x86_64"}), "train": {}, "generate": {}, "resume": {}}
    path = tmp_path / "gpu-check.json"
    path.write_text(json.dumps(report))
    assert gpu_report.main([str(path)]) == 0
    assert capsys.readouterr().out == gpu_report.markdown(report)


def test_padded_tokenizer_has_the_checkpoint_size_and_splits_text_as_trained() -> None:
    pytest.importorskip("tokenizers")
    from benchmarks.gpu_shapes import TINY_GPT2, TINY_GPT_NEO, padded_tokenizer, train_tokenizer

    texts = ["Moeder, ik mis je elke dag\nde kroeg is leeg, de nacht is zwart"] * 20
    trained = train_tokenizer(texts, [TINY_GPT_NEO, TINY_GPT2])
    padded = padded_tokenizer(trained, 1_000)
    line = "de kroeg is zwart, moeder"
    assert len(padded) == 1_000 and len(trained) < 1_000
    assert padded(line)["input_ids"] == trained(line)["input_ids"]
    assert padded.eos_token_id == trained.eos_token_id
    with pytest.raises(ValueError, match="more than"):
        padded_tokenizer(trained, len(trained) - 1)
