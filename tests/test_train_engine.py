"""The training engine in-process: learning, modes, events, saved models, failures."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_support import TRAIN_SONGS, training_dataset

from smartlap import events
from smartlap.errors import (
    AlreadyExistsError,
    DiskFullError,
    NotFoundError,
    TrainingError,
    UsageError,
)
from smartlap.lm.train.config import TrainConfig
from smartlap.lm.train.engine import run_training
from smartlap.store import runs


def config_for(model_dir: Path, dataset: str, **overrides) -> TrainConfig:
    settings = dict(model=str(model_dir), dataset=dataset, epochs=2, block_size=32,
                    batch_size=4, device="cpu", max_songs=TRAIN_SONGS, name="out",
                    sample_tokens=8)
    settings.update(overrides)
    return TrainConfig(**settings)


def run_events(run_id: str) -> list[events.Event]:
    return events.read_events(runs.run_path(run_id) / runs.EVENTS_FILE, strict=True)


@pytest.fixture
def dataset(tmp_path: Path) -> str:
    return training_dataset(tmp_path)


@pytest.mark.parametrize("arch_fixture", ["tiny_gpt2_dir", "tiny_gptneo_dir"])
def test_tiny_models_learn_and_save_a_loadable_best(arch_fixture, request, dataset,
                                                   smartlap_home) -> None:
    model_dir = request.getfixturevalue(arch_fixture)
    seen: list[events.Event] = []
    result = run_training(config_for(model_dir, dataset, lr=3e-3), on_event=seen.append)

    assert result.status == "finished"
    first, second = result.history
    assert second["train_loss"] < first["train_loss"]
    assert second["val_loss"] < first["val_loss"]
    logged = run_events(result.run_id)  # strict: every line is a valid event
    assert [e.kind for e in logged] == [e.kind for e in seen]
    kinds = [e.kind for e in logged]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("epoch_end") == 2 and kinds.count("sample") == 2
    sample = next(e for e in logged if isinstance(e, events.Sample))
    assert "<|endoftext|>" not in sample.text
    epoch_end = next(e for e in logged if isinstance(e, events.EpochEnd))
    assert epoch_end.memory["device"] == "cpu" and epoch_end.memory["rss_mb"] > 0

    saved = smartlap_home / "models" / "out"
    meta = json.loads((saved / "smartlap.json").read_text())
    assert meta["origin"] == "fine-tuned" and meta["dataset"] == dataset
    training = meta["training"]
    assert [h["epoch"] for h in training["history"]] == [1, 2]
    assert set(training["results"]) >= {"time", "memory_mb", "loss_avg", "val_loss",
                                        "perplexity"}
    assert training["versions"]["torch"] == torch.__version__
    from smartlap.store.models import get_model

    assert get_model("out").origin == "fine-tuned"
    assert runs.get_run(result.run_id).status == "finished"


def test_step_events_carry_memory_and_eta_from_each_epochs_first_step(tiny_gpt2_dir,
                                                                       dataset) -> None:
    result = run_training(config_for(tiny_gpt2_dir, dataset, epochs=2))
    steps = [e for e in run_events(result.run_id) if isinstance(e, events.Step)]
    firsts = [e for e in steps if e.step == 1]
    assert [e.epoch for e in firsts] == [1, 2]  # reported at once, not a second later
    for step in steps:
        assert step.memory["device"] == "cpu" and step.memory["rss_mb"] > 0
        assert step.eta_seconds is not None and step.eta_seconds >= 0
    assert firsts[0].eta_seconds > 0 and steps[-1].eta_seconds == 0  # nothing left at the end


def test_eta_is_the_pace_so_far_times_the_steps_left() -> None:
    from smartlap.lm.train.engine import eta_seconds

    assert eta_seconds(10.0, 5, 20) == 40.0
    assert eta_seconds(3.0, 1, 0) == 0.0
    assert eta_seconds(0.0, 0, 20) is None  # nothing timed yet


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


@pytest.mark.parametrize("mode", ["full", "embeddings", "lora"])
def test_each_mode_trains_only_its_weights(mode, tiny_gpt2_dir, dataset, smartlap_home) -> None:
    before = _weights(tiny_gpt2_dir)
    run_training(config_for(tiny_gpt2_dir, dataset, mode=mode, epochs=1, lr=1e-2))
    after = _weights(smartlap_home / "models" / "out")
    assert set(after) == set(before)  # lora is merged: a plain GPT-2 checkpoint
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    embeddings = {"transformer.wte.weight", "transformer.wpe.weight"}
    lora_targets = {n for n in before
                    if n.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))}
    if mode == "full":
        assert changed >= embeddings | lora_targets
        assert any("ln_" in name for name in changed)
    elif mode == "embeddings":
        assert changed == embeddings
    else:
        assert changed == lora_targets
        adapter = smartlap_home / "models" / "out" / "adapter"
        config = json.loads((adapter / "adapter_config.json").read_text())
        assert set(config["target_modules"]) == {"c_attn", "c_proj", "c_fc"}


def test_gptneo_lora_targets_its_linear_layers(tiny_gptneo_dir, dataset, smartlap_home) -> None:
    before = _weights(tiny_gptneo_dir)
    run_training(config_for(tiny_gptneo_dir, dataset, mode="lora", epochs=1, lr=1e-2))
    after = _weights(smartlap_home / "models" / "out")
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight",
                                          "out_proj.weight", "c_fc.weight", "c_proj.weight"))
                           for name in changed)


def _failure(run_id_holder: list[events.Event]) -> events.RunFailed:
    failed = [e for e in run_id_holder if isinstance(e, events.RunFailed)]
    assert len(failed) == 1
    return failed[0]


def test_cuda_out_of_memory_becomes_run_failed_with_hint(tiny_gpt2_dir, dataset,
                                                          monkeypatch) -> None:
    from transformers import GPT2LMHeadModel

    def out_of_memory(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(GPT2LMHeadModel, "forward", out_of_memory)
    seen: list[events.Event] = []
    with pytest.raises(TrainingError) as info:
        run_training(config_for(tiny_gpt2_dir, dataset), on_event=seen.append)
    assert "out of memory" in info.value.message
    failed = _failure(seen)
    for word in ("--batch-size", "--block-size", "--gradient-checkpointing", "lora"):
        assert word in failed.hint


def test_dataset_smaller_than_one_block_fails_with_block_size_hint(tiny_gpt2_dir, dataset,
                                                                   monkeypatch) -> None:
    from smartlap.lm.train import engine

    monkeypatch.setattr(engine, "load_splits", lambda name, limit: (["kort lied"], ["ook"]))
    seen: list[events.Event] = []
    with pytest.raises(TrainingError) as info:
        run_training(config_for(tiny_gpt2_dir, dataset, block_size=128), on_event=seen.append)
    assert "--block-size" in info.value.hint
    assert "--block-size" in _failure(seen).hint


@pytest.mark.parametrize("missing", ["model", "dataset"])
def test_missing_model_or_dataset_fails_cleanly(missing, tiny_gpt2_dir, dataset) -> None:
    config = config_for(tiny_gpt2_dir, dataset)
    setattr(config, missing, "no-such-thing")
    seen: list[events.Event] = []
    with pytest.raises(NotFoundError):
        run_training(config, on_event=seen.append)
    assert _failure(seen).hint


def test_disk_full_while_saving_keeps_the_previous_best(tiny_gpt2_dir, dataset, smartlap_home,
                                                         monkeypatch) -> None:
    from transformers import PreTrainedModel

    real_save = PreTrainedModel.save_pretrained
    calls = []

    def save_until_full(self, *args, **kwargs):
        calls.append(1)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", save_until_full)
    seen: list[events.Event] = []
    with pytest.raises(DiskFullError) as info:
        run_training(config_for(tiny_gpt2_dir, dataset, epochs=3, lr=3e-3, max_songs=4),
                     on_event=seen.append)
    assert "disk is full" in info.value.message
    assert _failure(seen).hint
    saved = smartlap_home / "models" / "out"
    meta = json.loads((saved / "smartlap.json").read_text())
    assert [h["epoch"] for h in meta["training"]["history"]] == [1]
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(saved)  # the previous best is whole
    assert sorted(p.name for p in (smartlap_home / "models").iterdir()) == ["out"]


def test_output_name_locked_by_another_run(tiny_gpt2_dir, dataset) -> None:
    seen: list[events.Event] = []
    with runs.output_lock("out"), pytest.raises(TrainingError) as info:
        run_training(config_for(tiny_gpt2_dir, dataset), on_event=seen.append)
    assert "Another run" in info.value.message
    assert "--name" in _failure(seen).hint


def test_existing_model_name_is_not_overwritten(tiny_gpt2_dir, dataset, smartlap_home) -> None:
    run_training(config_for(tiny_gpt2_dir, dataset, epochs=1, max_songs=4))
    with pytest.raises(AlreadyExistsError):
        run_training(config_for(tiny_gpt2_dir, dataset, epochs=1, max_songs=4))


def test_early_stopping_on_validation_loss(tiny_gpt2_dir, dataset, monkeypatch,
                                           smartlap_home) -> None:
    from smartlap.lm.train.engine import _Trainer

    scripted = iter([3.0, 2.0, 2.5, 2.6, 2.7, 2.8])
    monkeypatch.setattr(_Trainer, "_validate", lambda self: next(scripted))
    result = run_training(config_for(tiny_gpt2_dir, dataset, epochs=6, patience=2,
                                     max_songs=4))
    finished = next(e for e in run_events(result.run_id) if isinstance(e, events.RunFinished))
    assert finished.stopped_early is True
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    assert finished.best_epoch == 2 and finished.best_val_loss == 2.0
    meta = json.loads((smartlap_home / "models" / "out" / "smartlap.json").read_text())
    assert meta["training"]["results"]["best_epoch"] == 2
    assert [h["epoch"] for h in meta["training"]["history"]] == [1, 2, 3, 4]


def test_empty_sample_prompt_samples_from_end_of_text_without_warnings(
        tiny_gpt2_dir, dataset, monkeypatch) -> None:
    """The per-epoch sample passes its mask and pad id: nothing for transformers to warn."""
    import logging
    import warnings

    from transformers.utils import logging as hf_logging

    # The engine silences transformers' logger; keep it talking so a warning would show,
    # and listen on it directly (it does not propagate to the root logger).
    monkeypatch.setattr(hf_logging, "set_verbosity_error", hf_logging.set_verbosity_warning)
    records: list[logging.LogRecord] = []
    listener = logging.Handler()
    listener.emit = records.append  # type: ignore[method-assign]
    hf_logging.get_logger().addHandler(listener)
    seen: list[events.Event] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_training(config_for(tiny_gpt2_dir, dataset, epochs=1, max_songs=4,
                                             sample_prompt=""), on_event=seen.append)
    finally:
        hf_logging.get_logger().removeHandler(listener)
        hf_logging.set_verbosity(logging.ERROR)  # as the engine leaves it
    assert result.status == "finished"
    sample = next(e for e in seen if isinstance(e, events.Sample))
    assert sample.prompt == "" and isinstance(sample.text, str)
    said = [r.getMessage() for r in records] + [str(w.message) for w in caught]
    for phrase in ("attention mask", "attention_mask", "pad token", "pad_token_id"):
        assert not [text for text in said if phrase in text.lower()]


def test_long_sample_prompt_keeps_its_last_tokens(tiny_gpt2_dir, dataset) -> None:
    seen: list[events.Event] = []
    prompt = "de haven van amsterdam " * 60  # far more tokens than the tiny model's context
    run_training(config_for(tiny_gpt2_dir, dataset, epochs=1, max_songs=4,
                            sample_prompt=prompt),
                 on_event=seen.append)
    assert any(isinstance(e, events.Sample) for e in seen)


def test_cli_passes_an_empty_sample_prompt_through() -> None:
    from smartlap.cli import build_parser
    from smartlap.cli.train import build_config

    args = build_parser().parse_args(["train", "--model", "m", "--dataset", "d",
                                      "--sample-prompt", ""])
    assert build_config(args).sample_prompt == ""
    args = build_parser().parse_args(["train", "--model", "m", "--dataset", "d"])
    default = TrainConfig(model="m", dataset="d")
    assert build_config(args) == default  # unset options keep TrainConfig's defaults


def _stop_after(monkeypatch, epoch: int, step: int | None):
    """An on_event callback that asks the run to stop after ``step`` of ``epoch``.

    It sets the run's own StopFlag, as SIGINT would; every step reports an event. ``None``
    is the epoch's last step.
    """
    from smartlap.lm.train import engine

    flags: list[engine.StopFlag] = []

    class RecordedStopFlag(engine.StopFlag):
        def __init__(self) -> None:
            super().__init__()
            flags.append(self)

    monkeypatch.setattr(engine, "StopFlag", RecordedStopFlag)
    monkeypatch.setattr(engine, "STEP_EVENT_INTERVAL", 0.0)

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.Step) and event.epoch == epoch and event.step == (
                step or event.total_steps):
            flags[-1].requested = True

    return on_event


def test_resume_with_more_epochs_extends_a_finished_run(tiny_gpt2_dir, dataset,
                                                        smartlap_home) -> None:
    config = config_for(tiny_gpt2_dir, dataset, epochs=1, lr=3e-3, max_songs=4)
    first = run_training(config)
    assert first.status == "finished"
    with pytest.raises(UsageError, match="finished"):  # nothing left without --epochs
        run_training(config, resume=first.run_id)
    steps_before = [e for e in run_events(first.run_id) if isinstance(e, events.Step)]

    result = run_training(config, resume=first.run_id, resume_changes={"epochs": 3})
    assert result.status == "finished"
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    logged = run_events(first.run_id)
    assert [e.epoch for e in logged if isinstance(e, events.EpochEnd)] == [1, 2, 3]
    assert [e.epochs for e in logged if isinstance(e, events.EpochEnd)] == [1, 3, 3]
    started = [e for e in logged if isinstance(e, events.RunStarted)]
    assert started[-1].resumed_from_epoch == 2 and started[-1].config["epochs"] == 3
    assert [e.kind for e in logged].count("run_finished") == 2
    # The cosine schedule now spans 3 epochs: its rate rises again from ~0 at the old end.
    resumed_steps = [e for e in logged if isinstance(e, events.Step)][len(steps_before):]
    assert steps_before[-1].lr < 1e-4 < resumed_steps[0].lr < config.lr
    meta = json.loads((smartlap_home / "models" / "out" / "smartlap.json").read_text())
    assert [h["epoch"] for h in meta["training"]["history"]] == [1, 2, 3]
    assert runs.get_run(first.run_id).config["epochs"] == 3  # a later resume keeps it
    with pytest.raises(UsageError, match="cannot be less than 3"):
        run_training(config, resume=first.run_id, resume_changes={"epochs": 2})


def test_resume_can_shorten_a_cancelled_run_but_not_below_its_progress(
        tiny_gpt2_dir, dataset, monkeypatch) -> None:
    config = config_for(tiny_gpt2_dir, dataset, epochs=4, max_songs=4)
    cancelled = run_training(config, on_event=_stop_after(monkeypatch, 2, 3))
    assert cancelled.status == "cancelled"
    with pytest.raises(UsageError, match="part of epoch 2") as info:
        run_training(config, resume=cancelled.run_id, resume_changes={"epochs": 1})
    assert "--epochs 2" in info.value.hint
    with pytest.raises(UsageError, match="lr"):
        run_training(config, resume=cancelled.run_id, resume_changes={"lr": 1e-3})
    result = run_training(config, resume=cancelled.run_id, resume_changes={"epochs": 2})
    assert result.status == "finished"
    assert [h["epoch"] for h in result.history] == [1, 2]


@pytest.mark.parametrize(("arch_fixture", "grad_accum"),
                         [("tiny_gpt2_dir", 1), ("tiny_gpt2_dir", 3), ("tiny_gptneo_dir", 1)])
def test_cancel_mid_epoch_then_resume_matches_the_uninterrupted_losses(
        arch_fixture, grad_accum, request, dataset, monkeypatch) -> None:
    """Stopped after step 5 of epoch 2 (as SIGINT would), resumed: the same losses."""
    model_dir = request.getfixturevalue(arch_fixture)
    settings = dict(epochs=3, batch_size=2, block_size=32, lr=2e-3, seed=7, max_songs=4,
                    patience=9, grad_accum=grad_accum)
    reference = run_training(config_for(model_dir, dataset, name="reference", **settings))
    config = config_for(model_dir, dataset, name="cut", **settings)
    cancelled = run_training(config, on_event=_stop_after(monkeypatch, 2, 5))
    assert cancelled.status == "cancelled"
    saved = json.loads((runs.run_path(cancelled.run_id) / runs.STATE_DIR
                        / "progress.json").read_text())
    assert saved["epoch"] == 2 and saved["batches_done"] == 5 * grad_accum  # mid-epoch
    resumed = run_training(config, resume=cancelled.run_id)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for want, got in zip(reference.history, resumed.history, strict=True):
        assert got["train_loss"] == pytest.approx(want["train_loss"], abs=1e-5)
        assert got["val_loss"] == pytest.approx(want["val_loss"], abs=1e-5)
    assert reference.history[1]["train_loss"] != reference.history[2]["train_loss"]


def test_a_stop_during_an_epochs_last_step_ends_the_run_before_the_next_epoch(
        tiny_gpt2_dir, dataset, monkeypatch) -> None:
    config = config_for(tiny_gpt2_dir, dataset, epochs=3, max_songs=4)
    cancelled = run_training(config, on_event=_stop_after(monkeypatch, 1, None))

    assert cancelled.status == "cancelled"
    logged = run_events(cancelled.run_id)
    assert [e.epoch for e in logged if isinstance(e, events.EpochEnd)] == [1]
    assert {e.epoch for e in logged if isinstance(e, events.Step)} == {1}  # not one of 2
    assert isinstance(logged[-1], events.RunCancelled)
    assert (logged[-1].epoch, logged[-1].resumable) == (1, True)  # asked during epoch 1
    assert [e.kind for e in logged].count("checkpoint_saved") == 2  # best + state, once
    saved = json.loads((runs.run_path(cancelled.run_id) / runs.STATE_DIR
                        / "progress.json").read_text())
    assert (saved["epoch"], saved["batches_done"]) == (2, 0)
    resumed = run_training(config, resume=cancelled.run_id)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]


def test_resume_after_a_background_launch_replaced_the_run_file(tiny_gpt2_dir,
                                                                 dataset) -> None:
    """The studio's Resume (start_run_process) rewrites run.json's config as its argv."""
    config = config_for(tiny_gpt2_dir, dataset, epochs=1, max_songs=4)
    first = run_training(config)
    runs.create_run({"argv": ["--resume", first.run_id]}, first.run_id)
    result = run_training(config, resume=first.run_id, resume_changes={"epochs": 2})
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert runs.get_run(first.run_id).config["model"] == str(tiny_gpt2_dir)


def test_cli_resume_passes_only_the_changes_it_allows() -> None:
    from smartlap.cli import build_parser
    from smartlap.cli.train import resume_changes

    parse = build_parser().parse_args
    args = parse(["train", "--resume", "R", "--epochs", "20", "--patience", "5", "--json"])
    assert resume_changes(args) == {"epochs": 20, "patience": 5}
    assert resume_changes(parse(["train", "--resume", "R"])) == {}
    with pytest.raises(UsageError) as info:
        resume_changes(parse(["train", "--resume", "R", "--seed", "42", "--mode", "full",
                              "--gradient-checkpointing", "--from-scratch"]))
    assert info.value.message.endswith(
        "--mode, --gradient-checkpointing, --seed, --from-scratch.")


@pytest.mark.parametrize("text", ["[]", "{\"batches_done\": 0}", "{not json"])
def test_resume_from_a_damaged_progress_file_is_one_clear_error(text, tmp_path) -> None:
    from types import SimpleNamespace

    from smartlap.lm.train.state import PROGRESS, resume_config

    state = tmp_path / "state"
    state.mkdir()
    (state / PROGRESS).write_text(text)
    run = SimpleNamespace(id="R", state_path=state, status="interrupted", pid=None,
                          config={"model": "m", "dataset": "d"})
    with pytest.raises(TrainingError) as info:
        resume_config(run, {"epochs": 3})
    assert "Start a new run" in info.value.hint


def test_restored_state_follows_a_longer_schedule_from_the_first_step(tmp_path) -> None:
    """Resuming with more epochs: the next step already uses the new schedule's rate."""
    from transformers import get_cosine_schedule_with_warmup

    from smartlap.lm.train.state import load_state, save_state

    def setup(total_steps: int):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 4)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        return model, optimizer, get_cosine_schedule_with_warmup(optimizer, 0, total_steps)

    model, optimizer, scheduler = setup(10)
    for _ in range(10):
        model(torch.ones(1, 4)).sum().backward()
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)
    save_state(tmp_path / "state", model, optimizer, scheduler, {"epoch": 2})

    same = setup(10)
    load_state(tmp_path / "state", *same)
    assert same[1].param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    longer = setup(20)
    load_state(tmp_path / "state", *longer)
    assert longer[2].last_epoch == 10
    assert longer[1].param_groups[0]["lr"] == pytest.approx(0.5e-3)  # cosine half-way


@pytest.mark.parametrize(("device_kind", "fused"), [("cpu", True), ("cuda", True),
                                                    ("mps", None), ("xpu", None)])
def test_the_optimizer_is_torchs_fused_adamw_where_it_has_the_kernel(device_kind,
                                                                     fused) -> None:
    # The device boundary, faked: only the device kind decides; elsewhere torch's default.
    from types import SimpleNamespace

    from smartlap.lm.train.engine import _Trainer

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    trainer = SimpleNamespace(device_kind=device_kind,
                              config=TrainConfig(model="m", dataset="d", lr=1e-3))
    optimizer, _ = _Trainer._optimizer(trainer, model, total_steps=10)
    assert [group["fused"] for group in optimizer.param_groups] == [fused, fused]
    assert [group["weight_decay"] for group in optimizer.param_groups] == [
        trainer.config.weight_decay, 0.0]  # matrices decay; biases and norms do not


def test_an_fp16_runs_loss_scale_is_saved_and_restored(tmp_path: Path) -> None:
    # The GPU boundary, faked: accelerate's GradScaler for fp16 exists only on a GPU; the
    # state files carry whatever its state_dict holds, and a run without one has none.
    from smartlap.lm.train.state import SCALER, load_state, save_state

    class Scaler:
        def __init__(self, scale: float, tracker: int) -> None:
            self.state = {"scale": scale, "_growth_tracker": tracker}

        def state_dict(self) -> dict:
            return dict(self.state)

        def load_state_dict(self, state: dict) -> None:
            self.state = dict(state)

    model = torch.nn.Linear(4, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    save_state(tmp_path / "fp16", model, optimizer, scheduler, {"epoch": 2},
               scaler=Scaler(2048.0, 37))
    fresh = Scaler(65536.0, 0)
    load_state(tmp_path / "fp16", model, optimizer, scheduler, fresh)
    assert fresh.state == {"scale": 2048.0, "_growth_tracker": 37}

    save_state(tmp_path / "fp32", model, optimizer, scheduler, {"epoch": 2})
    assert not (tmp_path / "fp32" / SCALER).exists()


@pytest.mark.parametrize("arch_fixture", ["tiny_gpt2_dir", "tiny_gptneo_dir"])
def test_activation_checkpointing_trains_the_same_losses_without_warnings(
        arch_fixture, request, dataset, recwarn) -> None:
    # Checkpointing recomputes each block (and its lean attention's dropout) in the backward
    # pass from the same RNG state, so the losses must not change.
    model_dir = request.getfixturevalue(arch_fixture)
    plain = run_training(config_for(model_dir, dataset, max_songs=4, epochs=1, name="plain"))
    checkpointed = run_training(config_for(model_dir, dataset, max_songs=4, epochs=1,
                                           name="ckpt", gradient_checkpointing=True))
    started = next(e for e in run_events(checkpointed.run_id)
                   if isinstance(e, events.RunStarted))
    assert started.config["gradient_checkpointing"] is True
    assert checkpointed.history[0]["train_loss"] == pytest.approx(
        plain.history[0]["train_loss"], abs=1e-5)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)
                and "checkpointing" in str(w.message)]


def test_lora_options_reach_peft_and_the_adapter_names_its_hub_base(
        tiny_gpt2_dir, dataset, smartlap_home) -> None:
    from smartlap.store.models import register_model

    base = register_model(tiny_gpt2_dir, name="klein", transfer="link",
                          origin="pulled", hub_id="GroNLP/gpt2-small-dutch").name
    before = _weights(tiny_gpt2_dir)
    run_training(config_for(tiny_gpt2_dir, dataset, model=base, mode="lora", epochs=1,
                            lr=1e-2, lora_rank=4, lora_alpha=16.0, lora_dropout=0.0,
                            lora_targets=["c_attn"]))
    saved = smartlap_home / "models" / "out"
    config = json.loads((saved / "adapter" / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (4, 16.0, 0.0)
    assert config["target_modules"] == ["c_attn"]
    # the hub id loads on any machine; the local folder it was loaded from would not
    assert config["base_model_name_or_path"] == "GroNLP/gpt2-small-dutch"
    after = _weights(saved)
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.endswith("c_attn.weight") for name in changed)
    card = (saved / "README.md").read_text(encoding="utf-8")
    assert "base_model: GroNLP/gpt2-small-dutch" in card and "`adapter/`" in card


def test_lora_options_are_checked_before_training(tiny_gpt2_dir, dataset) -> None:
    with pytest.raises(UsageError, match="only applies with --mode lora"):
        config_for(tiny_gpt2_dir, dataset, lora_rank=4).validate()
    with pytest.raises(UsageError, match="--lora-dropout"):
        config_for(tiny_gpt2_dir, dataset, mode="lora", lora_dropout=1.5).validate()
    with pytest.raises(UsageError, match="no layer named q_proj") as caught:
        run_training(config_for(tiny_gpt2_dir, dataset, mode="lora", epochs=1,
                                lora_targets=["q_proj"]))
    assert "c_attn" in caught.value.hint
