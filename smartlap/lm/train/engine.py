"""The training loop, on accelerate's ``Accelerator``.

One function, ``run_training``, reads top to bottom as a run happens:

1. open (or re-open, for ``--resume``) the run folder and lock the output model name;
2. load the base model (or build one from scratch) and the dataset's packed blocks;
3. pick the trainable weights (mode), the optimizer and the schedule;
4. hand device placement, mixed precision and gradient accumulation to ``Accelerator``,
   so the same loop runs on CPU, one GPU or several under ``torchrun``/``accelerate launch``;
5. per epoch: train, validate, sample from a fixed prompt and seed, keep the best
   checkpoint by validation loss, save resumable state, stop early when it stops improving.

Only the main process writes events and files. SIGINT/SIGTERM finish the current optimizer
step, save state and end with ``run_cancelled``.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from smartlap import __version__, events
from smartlap.errors import AlreadyExistsError, DiskFullError, UsageError
from smartlap.fsutil import staging_directory
from smartlap.lm.model_card import write_model_card
from smartlap.lm.train import failures, memory
from smartlap.lm.train.config import TrainConfig, resolve
from smartlap.lm.train.data import (
    IGNORE_INDEX,
    BlockDataset,
    Blocks,
    EpochShuffle,
    build_blocks,
    load_splits,
    summed_block_loss,
)
from smartlap.lm.train.lean_layers import make_lean
from smartlap.lm.train.loss import HiddenStates, supports_head_loss
from smartlap.lm.train.modes import (
    apply_mode,
    count_parameters,
    exportable,
    is_peft,
    save_adapter,
)
from smartlap.lm.train.state import (
    TOKENIZER_DIR,
    TrainProgress,
    has_state,
    load_state,
    resume_config,
    save_state,
)
from smartlap.names import validate_name
from smartlap.store import runs

EventSink = Callable[[events.Event], None]
STEP_EVENT_INTERVAL = 1.0  # seconds between step events (the last step of an epoch always)
MIXED_PRECISION = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}
FUSED_ADAMW_DEVICES = {"cpu", "cuda"}  # where torch has a fused AdamW kernel


@dataclass
class TrainResult:
    run_id: str
    status: str  # finished | cancelled
    model_name: str | None
    history: list[events.EpochEnd] = field(default_factory=list)
    stop_signal: int | None = None  # SIGINT or SIGTERM when cancelled by a signal


class RunLog:
    """Writes a run's events (main process only) and echoes them to the caller."""

    def __init__(self, run_id: str | None, sink: EventSink | None, enabled: bool) -> None:
        self.run_id = run_id
        self.sink = sink
        self.enabled = enabled and run_id is not None

    def emit(self, event: events.Event) -> None:
        if not self.enabled:
            return
        runs.append_event(self.run_id, event)
        if self.sink is not None:
            self.sink(event)

    def status(self, status: str) -> None:
        if self.enabled:
            runs.update_run(self.run_id, status=status)

    def ending(self, event: events.Event, status: str) -> None:
        """Record how a run ended, if the disk lets us: the error that ended it matters more
        than the record (a run without one reads as interrupted)."""
        with contextlib.suppress(DiskFullError, OSError):
            self.emit(event)
            self.status(status)


class StopFlag:
    """Set by SIGINT/SIGTERM; the loop checks it after each optimizer step."""

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now, without saving
        self.requested = True
        self.signum = self.signum or signum

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread
                self._previous[signum] = signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)


def eta_seconds(elapsed: float, steps_done: int, steps_left: int) -> float | None:
    """The run's time left at this attempt's pace so far (validation and saves not counted,
    as in epoch_end's estimate); None before a step has been timed."""
    if steps_done <= 0 or elapsed <= 0:
        return None
    return round(elapsed / steps_done * max(steps_left, 0), 1)


def default_output_name(config: TrainConfig) -> str:
    if config.from_scratch:
        base = config.preset or "scratch"
    else:
        base = Path(str(config.model).rstrip("/")).name.split("/")[-1]
    return validate_name(f"{base}-{config.dataset}"[:64].rstrip("-. "), "model")


def _enable_activation_checkpointing(model: Any) -> None:
    """Recompute each block's activations in the backward pass (non-reentrant).

    transformers 5.23 renamed ``gradient_checkpointing_enable`` (which now warns) to
    ``activation_checkpointing_enable``; use whichever this version has.
    """
    enable = getattr(model, "activation_checkpointing_enable", None)
    if enable is not None:
        enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(
            gradient_checkpointing_kwargs={"use_reentrant": False})


def _process_state(device: str | None) -> Any:
    """The process's place in a (possibly multi-process) launch, before the model loads."""
    from accelerate import PartialState

    return PartialState(cpu=(device or "").lower() == "cpu")


def run_training(config: TrainConfig, *, run_id: str | None = None, resume: str | None = None,
                 on_event: EventSink | None = None,
                 resume_changes: dict[str, Any] | None = None) -> TrainResult:
    """Run (or resume) one training run; raises SmartlapError after writing run_failed.

    With ``resume`` the run's saved config is used (``config`` is ignored), changed only by
    ``resume_changes`` (``config.RESUME_CHANGES``: e.g. more epochs).
    """
    if resume:
        config = resume_config(runs.get_run(resume), resume_changes or {})
        run_id = resume
    config.validate()
    if not config.name:
        config.name = default_output_name(config)
    config.name = validate_name(config.name, "model")

    process = _process_state(config.device)
    is_main = process.is_main_process
    if is_main:
        run_id = runs.create_run(config.to_dict(), run_id, pid=os.getpid()).name
    log = RunLog(run_id, on_event, is_main)
    device_kind = "cpu"
    lock = runs.output_lock(config.name) if is_main else contextlib.nullcontext()
    try:
        with lock, StopFlag().installed() as stop:
            trainer = _Trainer(config, log, stop, run_id, resume is not None, process)
            device_kind = trainer.device_kind
            return trainer.run()
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            saved = run_id is not None and has_state(runs.run_path(run_id) / runs.STATE_DIR)
            log.ending(events.RunCancelled(resumable=saved), "cancelled")
            raise
        explained = failures.explain(error, device=device_kind, run_id=run_id)
        shown = explained or failures.unexpected(error)
        log.ending(events.RunFailed(message=shown.message, hint=shown.hint), "failed")
        if explained is not None and explained is not error:
            raise explained from None
        raise


class _Trainer:
    """The state of one run while it trains; ``run()`` is the whole story.

    ``_set_up`` sets everything the loop reads (below the constructor's own), at once."""

    songs_used: dict[str, int]
    tokenizer: Any
    base_name: str
    base_hub_id: str | None
    context: int
    train_blocks: Blocks
    val_blocks: Blocks
    total_params: int
    trainable_params: int
    precision: str
    accelerator: Any
    loader: Any
    sampler: EpochShuffle
    batches_per_epoch: int
    steps_per_epoch: int
    model: Any
    optimizer: Any
    scheduler: Any
    head_loss: HiddenStates | None
    progress: TrainProgress

    def __init__(self, config: TrainConfig, log: RunLog, stop: StopFlag, run_id: str | None,
                 resuming: bool, process: Any) -> None:
        self.config = config
        self.log = log
        self.stop = stop
        self.run_id = run_id
        self.resuming = resuming
        self.process = process
        self.device_kind = process.device.type

    # -- setup ---------------------------------------------------------------------------

    def _check_output_name(self) -> None:
        from smartlap.paths import get_paths
        from smartlap.store.models import bundled_entries, read_metadata

        name = self.config.name
        if name in bundled_entries():
            raise AlreadyExistsError(f"{name!r} is the name of a bundled model.",
                                     "Choose another name with --name.")
        existing = get_paths().models / name
        if existing.exists():
            owner = (read_metadata(existing).get("training") or {}).get("run")
            if owner != self.run_id:
                raise AlreadyExistsError(
                    f"A model named {name!r} already exists.",
                    f"Choose another name with --name, or delete it first with "
                    f"'smartlap models delete {name}'.")

    def _load_model(self, train_texts: list[str]) -> tuple[Any, Any, str, str | None]:
        """(model, tokenizer, base name, the base's hub id when it has one)."""
        config = self.config
        if config.from_scratch and self.resuming:
            from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

            saved = runs.run_path(self.run_id) / runs.STATE_DIR / TOKENIZER_DIR
            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(saved))
            return (model, AutoTokenizer.from_pretrained(saved), f"scratch:{config.preset}",
                    None)
        if config.from_scratch:
            from smartlap.lm.train.scratch import build_scratch_model

            model, tokenizer = build_scratch_model(config.preset or "mini", train_texts,
                                                   config.seed)
            return model, tokenizer, f"scratch:{config.preset or 'mini'}", None
        from smartlap.lm.loading import load_model

        loaded = load_model(config.model, device="cpu", precision="fp32")
        return loaded.model, loaded.tokenizer, loaded.info.name, loaded.info.hub_id

    def _precision(self) -> str:
        from smartlap.lm.device import choose_precision

        precision = choose_precision(str(self.process.device), self.config.precision)
        if self.device_kind == "cpu" and precision == "fp16":
            raise UsageError("fp16 training needs a GPU.", "Use --precision bf16 or fp32.")
        return precision

    def _loaders(self, train: Blocks) -> tuple[Any, EpochShuffle]:
        from torch.utils.data import DataLoader

        sampler = EpochShuffle(len(train), self.config.seed)
        loader = DataLoader(BlockDataset(train), batch_size=self.config.batch_size,
                            sampler=sampler, drop_last=False,
                            generator=torch.Generator().manual_seed(self.config.seed))
        return loader, sampler

    def _optimizer(self, model: Any, total_steps: int) -> tuple[Any, Any]:
        from transformers import get_cosine_schedule_with_warmup

        decay, no_decay = [], []
        for param in model.parameters():
            if param.requires_grad:
                (decay if param.dim() >= 2 else no_decay).append(param)
        groups = [{"params": decay, "weight_decay": self.config.weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        # torch's fused AdamW: one pass per tensor instead of a dozen (measured 2-4x faster
        # steps and a little less memory on CPU). Only where torch has the kernel.
        fused = True if self.device_kind in FUSED_ADAMW_DEVICES else None
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=self.config.lr,
                                      fused=fused)
        warmup = int(total_steps * self.config.warmup_fraction)
        scheduler = get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)
        return optimizer, scheduler

    # -- the run -------------------------------------------------------------------------

    def run(self) -> TrainResult:
        started = time.monotonic()
        self._set_up()
        config, progress = self.config, self.progress
        self.log.emit(events.RunStarted(
            run_id=self.run_id or "", config=config.to_dict(), model=self.base_name,
            dataset=config.dataset, device=self._device_label(self.precision),
            params=self.total_params, trainable_params=self.trainable_params,
            resumed_from_epoch=progress.epoch if self.resuming else None,
            train_tokens=self.train_blocks.real_tokens, val_tokens=self.val_blocks.real_tokens,
            pid=os.getpid()))

        elapsed_before = float(progress.seconds)
        state_saved = False
        while progress.epoch <= config.epochs:
            epoch = progress.epoch
            if state_saved and self._stop_requested():  # asked during the last epoch's
                return self._cancel(epoch - 1, state_saved)  # last batch or its end
            memory.reset_peak(self.device_kind)
            epoch_started = time.monotonic()
            finished_epoch = self._train_epoch(epoch)
            progress.seconds = elapsed_before + time.monotonic() - started
            if not finished_epoch:
                return self._cancel(epoch)
            stop_early = self._end_epoch(epoch, time.monotonic() - epoch_started)
            state_saved = True
            if stop_early:
                break
        return self._finish(time.monotonic() - started + elapsed_before, stop_early=(
            progress.epoch <= config.epochs))

    def _set_up(self) -> None:
        """Everything before the first step, in one place: every attribute the loop reads is
        set here (data, model, optimizer, accelerator and the progress, fresh or resumed)."""
        from accelerate import Accelerator
        from accelerate.utils import set_seed
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # events say what happens; no library chatter
        hf_logging.disable_progress_bar()
        config = self.config
        set_seed(config.seed)  # dropout and from-scratch init repeat exactly for a seed
        if self.process.is_main_process:
            self._check_output_name()
        train_texts, val_texts = load_splits(config.dataset, config.max_songs)
        self.songs_used = {"train": len(train_texts), "val": len(val_texts)}
        model, self.tokenizer, self.base_name, self.base_hub_id = self._load_model(train_texts)
        self.context = int(getattr(model.config, "n_positions", None)
                           or getattr(model.config, "max_position_embeddings", 1024))
        total_params, _ = count_parameters(model)
        config = self.config = resolve(config, total_params, self.context)
        self.train_blocks, self.val_blocks = build_blocks(self.tokenizer, train_texts,
                                                          val_texts, config.block_size)

        model = apply_mode(model, config.mode, config.lora_rank, config.lora_alpha,
                           config.lora_dropout, config.lora_targets)
        make_lean(model)  # same function, less kept for backward (see lean_layers.py)
        if config.gradient_checkpointing:
            _enable_activation_checkpointing(model)
            model.config.use_cache = False
        model.train()
        self.total_params, self.trainable_params = count_parameters(model)

        self.precision = self._precision()
        accelerator = self.accelerator = Accelerator(
            mixed_precision=MIXED_PRECISION[self.precision],
            gradient_accumulation_steps=config.grad_accum, cpu=self.device_kind == "cpu")
        loader, self.sampler = self._loaders(self.train_blocks)
        self.batches_per_epoch = math.ceil(len(self.train_blocks) / config.batch_size
                                           / accelerator.num_processes)
        self.steps_per_epoch = math.ceil(self.batches_per_epoch / config.grad_accum)
        optimizer, scheduler = self._optimizer(model, self.steps_per_epoch * config.epochs)

        self.progress = TrainProgress()
        if self.resuming:
            assert self.run_id is not None
            self.progress = load_state(runs.run_path(self.run_id) / runs.STATE_DIR, model,
                                       optimizer, scheduler, accelerator.scaler)
        self.model, self.optimizer, self.loader = accelerator.prepare(model, optimizer, loader)
        self.scheduler = scheduler
        unwrapped = accelerator.unwrap_model(self.model)
        self.head_loss = HiddenStates(unwrapped) if supports_head_loss(unwrapped) else None

    def _device_label(self, precision: str) -> str:
        device = str(self.accelerator.device)
        if self.device_kind == "cuda":
            device += f" ({torch.cuda.get_device_name(self.accelerator.device)})"
        processes = self.accelerator.num_processes
        return f"{device}, {precision}" + (f", {processes} processes" if processes > 1 else "")

    def _train_epoch(self, epoch: int) -> bool:
        """Train one epoch (from the saved data position); False when a stop was requested."""
        accelerator, model, optimizer = self.accelerator, self.model, self.optimizer
        loader, sampler = self.loader, self.sampler
        batches_per_epoch, steps_per_epoch = self.batches_per_epoch, self.steps_per_epoch
        progress = self.progress
        skip = int(progress.batches_done)
        batches = accelerator.skip_first_batches(loader, skip) if skip else loader
        # accelerate re-sets the sampler's epoch from its own iteration counter on every
        # pass; setting it on the loader keeps the shuffle a function of (seed, epoch).
        for target in (sampler, loader, batches):
            target.set_epoch(epoch)
        model.train()
        last_event = epoch_started = time.monotonic()
        window_tokens, window_started = 0, time.monotonic()
        batch_index = skip
        first_step = math.ceil(skip / self.config.grad_accum) + 1  # this attempt's first
        for batch in batches:
            batch_index += 1
            with accelerator.accumulate(model):
                loss = self._loss(batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients and self.config.max_grad_norm:
                    accelerator.clip_grad_norm_(model.parameters(), self.config.max_grad_norm)
                optimizer.step()
                if accelerator.sync_gradients:
                    self.scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            tokens = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
            progress.loss_sum += float(loss.detach()) * tokens
            progress.loss_tokens += tokens
            progress.batches_done = batch_index
            window_tokens += int(batch["attention_mask"].sum()) * accelerator.num_processes
            if not accelerator.sync_gradients:
                continue
            progress.global_step += 1
            now = time.monotonic()
            step_in_epoch = math.ceil(batch_index / self.config.grad_accum)
            # The first step reports at once, so memory and ETA show from the start.
            if (step_in_epoch == first_step or now - last_event >= STEP_EVENT_INTERVAL
                    or batch_index >= batches_per_epoch):
                self.log.emit(events.Step(
                    epoch=epoch, step=step_in_epoch, loss=round(float(loss.detach()), 5),
                    lr=self.scheduler.get_last_lr()[0],
                    tokens_per_s=round(window_tokens / max(now - window_started, 1e-9), 1),
                    total_steps=steps_per_epoch,
                    memory=memory.memory_snapshot(self.device_kind) if self.log.enabled
                    else None,
                    eta_seconds=eta_seconds(now - epoch_started,
                                            step_in_epoch - first_step + 1,
                                            steps_per_epoch - step_in_epoch
                                            + steps_per_epoch * (self.config.epochs - epoch))))
                last_event, window_tokens, window_started = now, 0, now
            if self._stop_requested() and batch_index < batches_per_epoch:
                return False
        return True

    def _loss(self, batch: dict[str, Any]) -> Any:
        """The batch's mean next-token loss; only the loss is kept, never the logits.

        The LM head and the cross-entropy go chunk by chunk where ``loss.py`` supports the
        model; otherwise the model's own loss. No KV cache in training: nothing reads it.
        (Dropping the all-ones attention mask of full blocks was measured: +600 MB peak at
        124M on CPU, as the attention then keeps more for its backward pass.)
        """
        if self.head_loss is not None:
            return self.head_loss.loss(self.model, batch)
        return self.model(**batch, use_cache=False).loss

    def _stop_requested(self) -> bool:
        flag = self.stop.requested
        if self.accelerator.num_processes > 1:  # a signal to one rank stops them all
            local = torch.tensor([1.0 if flag else 0.0], device=self.accelerator.device)
            flag = bool(self.accelerator.reduce(local, "sum").item() > 0)
        return flag

    def _reduce_sums(self, *values: float) -> list[float]:
        tensor = torch.tensor(values, dtype=torch.float64, device=self.accelerator.device)
        if self.accelerator.num_processes > 1:
            tensor = self.accelerator.reduce(tensor, "sum")
        return [float(v) for v in tensor.tolist()]

    @torch.no_grad()
    def _validate(self) -> float | None:
        """Token-weighted validation loss; each process takes every n-th block."""
        accelerator, blocks = self.accelerator, self.val_blocks
        model = self.model
        model.eval()
        indices = range(accelerator.process_index, len(blocks), accelerator.num_processes)

        def mean_loss(batch: dict[str, Any]) -> Any:
            with accelerator.autocast():
                return self._loss(batch)

        loss_sum, count = summed_block_loss(blocks, indices, self.config.batch_size,
                                            accelerator.device, mean_loss)
        model.train()
        loss_sum, count = self._reduce_sums(loss_sum, count)
        return loss_sum / count if count else None

    def _sample(self) -> str:
        """Text from the fixed prompt and seed, without touching the training RNG."""
        model = self.accelerator.unwrap_model(self.model)
        tokenizer = self.tokenizer
        context = self.context
        max_new = min(self.config.sample_tokens, context - 1)
        # An empty prompt samples unconditionally from end-of-text (as GPT-2 was trained);
        # a long one keeps its last tokens. The mask is explicit: one unpadded row.
        ids = tokenizer.encode(self.config.sample_prompt, add_special_tokens=False) or [
            tokenizer.bos_token_id if tokenizer.bos_token_id is not None
            else tokenizer.eos_token_id]
        input_ids = torch.tensor([ids[-(context - max_new):]], device=self.accelerator.device)
        model.eval()
        devices = [self.accelerator.device] if self.device_kind == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad(), \
                self.accelerator.autocast():
            torch.manual_seed(self.config.seed)
            output = model.generate(input_ids=input_ids,
                                    attention_mask=torch.ones_like(input_ids),
                                    do_sample=True, top_k=40, top_p=0.95, temperature=0.9,
                                    max_new_tokens=max_new, pad_token_id=tokenizer.eos_token_id,
                                    eos_token_id=tokenizer.eos_token_id)
        model.train()
        new_tokens = output[0, input_ids.shape[1]:]
        return tokenizer.decode(new_tokens, skip_special_tokens=True)

    def _end_epoch(self, epoch: int, seconds: float) -> bool:
        """Validate, sample, keep the best, save state; True when early stopping triggers."""
        config, progress, accelerator = self.config, self.progress, self.accelerator
        loss_sum, tokens = self._reduce_sums(progress.loss_sum, progress.loss_tokens)
        train_loss = loss_sum / max(tokens, 1)
        progress.run_loss_sum += loss_sum
        progress.run_loss_tokens += tokens
        val_loss = self._validate()
        score = val_loss if val_loss is not None else train_loss
        improved = progress.best_val_loss is None or score < progress.best_val_loss
        epochs_left = config.epochs - epoch
        end = events.EpochEnd(
            epoch=epoch, train_loss=round(train_loss, 6),
            val_loss=None if val_loss is None else round(val_loss, 6),
            perplexity=None if val_loss is None else round(math.exp(min(val_loss, 50)), 3),
            seconds=round(seconds, 2), memory=memory.memory_snapshot(self.device_kind),
            epochs=config.epochs,
            tokens_per_s=round(self.train_blocks.real_tokens / seconds, 1),
            eta_seconds=round(seconds * epochs_left, 1), best=improved)
        progress.history.append(end)
        self.log.emit(end)
        if accelerator.is_main_process:
            self.log.emit(events.Sample(epoch=epoch, prompt=config.sample_prompt,
                                        text=self._sample()))
        if improved:
            progress.best_val_loss = score
            progress.best_epoch = epoch
            progress.bad_epochs = 0
        else:
            progress.bad_epochs += 1
        stop_early = bool(config.patience) and progress.bad_epochs >= config.patience
        progress.epoch, progress.batches_done = epoch + 1, 0
        progress.loss_sum, progress.loss_tokens = 0.0, 0
        if accelerator.is_main_process:
            if improved:
                self._save_best()
            self._save_state(epoch)
        accelerator.wait_for_everyone()
        return stop_early and epoch < config.epochs

    # -- saving --------------------------------------------------------------------------

    def _save_state(self, epoch: int) -> None:
        assert self.run_id is not None
        path = runs.run_path(self.run_id) / runs.STATE_DIR
        try:
            save_state(path, self.accelerator.unwrap_model(self.model), self.optimizer.optimizer,
                       self.scheduler, self.progress, self.tokenizer, self.accelerator.scaler)
        except DiskFullError as error:
            raise failures.disk_full("resumable state", self.run_id) from error
        self.log.emit(events.CheckpointSaved(path=str(path), checkpoint="state", epoch=epoch))

    def results_table(self) -> dict[str, Any]:
        """The seeds' table (Time, Memory (MB), Loss (Avg)) plus validation figures."""
        progress = self.progress
        seconds = float(progress.seconds)
        history = progress.history
        best = progress.best()
        peak = max((end.memory.table_mb for end in history), default=0.0)
        return {
            "time": f"{int(seconds // 60)}:{int(seconds % 60):02d}",
            "seconds": round(seconds, 1),
            "memory_mb": round(peak),
            "loss_avg": round(progress.run_loss_sum / max(progress.run_loss_tokens, 1), 4),
            "val_loss": best.val_loss if best else None,
            "perplexity": best.perplexity if best else None,
            "epochs": len(history),
            "best_epoch": progress.best_epoch,
            "device": self._device_label(self.precision),
        }

    def _metadata(self) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        def installed(package: str) -> str | None:
            try:
                return version(package)
            except PackageNotFoundError:
                return None

        config = self.config
        return {
            "base": self.base_name,
            "base_hub_id": self.base_hub_id,
            "dataset": config.dataset,
            "mode": config.mode,
            "training": {
                "run": self.run_id,
                "mode": config.mode,
                "hyperparameters": config.to_dict(),
                "songs_used": self.songs_used,
                "history": [end.to_history() for end in self.progress.history],
                "results": self.results_table(),
                "versions": {"smartlap": __version__, "torch": torch.__version__,
                             **{p: installed(p) for p in ("transformers", "accelerate",
                                                          "peft", "tokenizers")},
                             "python": platform.python_version()},
                "device": self._device_label(self.precision),
            },
        }

    def _save_best(self) -> None:
        """Save the best model into the store atomically: a failure keeps the previous one."""
        from smartlap.paths import get_paths
        from smartlap.store.models import register_model

        model = self.accelerator.unwrap_model(self.model)
        root = get_paths().models
        try:
            with staging_directory(root, "train") as staging:
                export = exportable(model)
                export.save_pretrained(staging, safe_serialization=True)
                self.tokenizer.save_pretrained(staging)
                if is_peft(model):
                    save_adapter(model, staging / "adapter",
                                 self.base_hub_id or self.base_name)
                metadata = self._metadata()
                write_model_card(staging, self.config.name, metadata)
                register_model(staging, self.config.name, origin="fine-tuned",
                               transfer="move", force=True, **metadata)
        except DiskFullError as error:
            raise failures.disk_full("best checkpoint", self.run_id) from error
        self.log.emit(events.CheckpointSaved(path=str(root / self.config.name),
                                             checkpoint="best",
                                             epoch=self.progress.best_epoch))

    # -- endings -------------------------------------------------------------------------

    def _cancel(self, epoch: int, state_saved: bool = False) -> TrainResult:
        if self.accelerator.is_main_process and not state_saved:
            self._save_state(epoch)
        self.accelerator.wait_for_everyone()
        self.log.emit(events.RunCancelled(epoch=epoch, resumable=True))
        self.log.status("cancelled")
        return TrainResult(self.run_id or "", "cancelled", None, self.progress.history,
                           stop_signal=self.stop.signum)

    def _finish(self, seconds: float, stop_early: bool) -> TrainResult:
        progress = self.progress
        # The results' Time is the whole run, the last validation, sample and save included.
        progress.seconds = seconds
        self.log.emit(events.RunFinished(
            model=self.config.name, best_epoch=progress.best_epoch,
            best_val_loss=None if progress.best_val_loss is None
            else round(progress.best_val_loss, 6),
            stopped_early=stop_early, seconds=round(seconds, 2)))
        if self.accelerator.is_main_process and progress.best_epoch is not None:
            from smartlap.store.models import update_metadata

            # The best checkpoint's smartlap.json and card get the whole run's history and
            # results.
            metadata = self._metadata()
            info = update_metadata(self.config.name, training=metadata["training"])
            write_model_card(Path(info.path), self.config.name, metadata)
        self.log.status("finished")
        self.accelerator.end_training()
        return TrainResult(self.run_id or "", "finished", self.config.name, progress.history)
