"""`smartlap train`: fine-tune a model on a dataset (or build one from scratch).

The run happens in this process, so it also works under ``torchrun`` and ``accelerate
launch -m smartlap train ...``. Every event goes to ``runs/<id>/events.jsonl``; here it is
also shown live (or printed as JSON lines with ``--json``). Ctrl+C finishes the current
step, saves the state and exits; ``--resume RUN`` continues it exactly (``--epochs N``
with it lengthens or shortens the run; options that would change the run are refused).
"""

from __future__ import annotations

import argparse
import signal

from smartlap.cli.console import print_json_line
from smartlap.errors import UsageError
from smartlap.limits import SEED_MAX, seed_type


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="fine-tune a model on a dataset, or build one from scratch",
        description="Fine-tune a model on a dataset. Unset options get defaults chosen from "
        "the model's size, so the run fits a 12 GB GPU.")
    # Options default to None (unset) so that "given with --resume" can be told apart from
    # "left at its default"; the defaults themselves live in TrainConfig.
    parser.add_argument("--model", help="model name or folder (see 'smartlap models list')")
    parser.add_argument("--dataset", help="dataset name (see 'smartlap datasets list')")
    parser.add_argument("--name", help="name of the trained model (default: MODEL-DATASET)")
    parser.add_argument("--epochs", type=int,
                        help="epochs (default 10); with --resume: the run's new total")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: by size/mode)")
    parser.add_argument("--batch-size", type=int, help="blocks per step per device")
    parser.add_argument("--grad-accum", type=int, help="steps to accumulate per update")
    parser.add_argument("--block-size", type=int, help="tokens per training block")
    parser.add_argument("--mode", choices=("full", "embeddings", "lora"),
                        help="which weights learn (default full)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                        help="mixed precision (default auto: bf16/fp16 on GPU)")
    lora = parser.add_argument_group("LoRA (with --mode lora)")
    lora.add_argument("--lora-rank", type=int, help="rank of the adapters (default 8)")
    lora.add_argument("--lora-alpha", type=float, help="scaling (default: twice the rank)")
    lora.add_argument("--lora-dropout", type=float, help="dropout on the adapters (default 0.05)")
    lora.add_argument("--lora-targets", type=_names, metavar="NAMES",
                      help="comma-separated layer names (default: GPT-2 c_attn,c_proj,c_fc; "
                      "GPT-Neo q_proj,k_proj,v_proj,out_proj,c_fc,c_proj)")
    parser.add_argument("--gradient-checkpointing", action="store_true", default=None,
                        help="trade compute for memory (default: on for big models)")
    parser.add_argument("--patience", type=int,
                        help="stop after N epochs without a better validation loss (default 3)")
    parser.add_argument("--seed", type=seed_type, help=f"random seed (default 42; 0 to {SEED_MAX})")
    parser.add_argument("--sample-prompt",
                        help="prompt for the per-epoch sample ('' for an unconditional one)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--max-songs", type=int, help="train on the first N songs only")
    parser.add_argument("--from-scratch", action="store_true", default=None,
                        help="train a new GPT-2 and tokenizer instead of fine-tuning")
    parser.add_argument("--preset", choices=("mini", "tiny"),
                        help="size of the from-scratch model (default mini)")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue a cancelled, killed or finished run with its saved "
                        "settings (only --epochs, --patience and --device may change)")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


# The options that define what a run is; --resume keeps the saved ones (RESUME_CHANGES may
# change), so giving one of these with --resume is refused rather than silently ignored.
RUN_OPTIONS = ("model", "dataset", "name", "lr", "batch_size", "grad_accum", "block_size",
               "mode", "precision", "gradient_checkpointing", "seed", "sample_prompt",
               "max_songs", "from_scratch", "preset", "lora_rank", "lora_alpha", "lora_dropout",
               "lora_targets")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def resume_changes(args: argparse.Namespace) -> dict:
    """The settings given with --resume that may change; UsageError naming any others."""
    from smartlap.lm.train.config import RESUME_CHANGES

    refused = [_flag(dest) for dest in RUN_OPTIONS if getattr(args, dest) is not None]
    if refused:
        names = ", ".join(refused)
        raise UsageError(
            f"--resume cannot be combined with {names}.",
            f"--resume continues {args.resume} with its saved settings; start a new run to "
            f"change {names}. With --resume only "
            f"{', '.join(_flag(d) for d in RESUME_CHANGES)} may be given.")
    return {dest: getattr(args, dest) for dest in RESUME_CHANGES
            if getattr(args, dest) is not None}


def build_config(args: argparse.Namespace):
    from smartlap.lm.train.config import TrainConfig

    if not args.dataset:
        raise UsageError("Which dataset? --dataset is required.",
                         "See 'smartlap datasets list'; the bundled one is 'demo'.")
    if args.from_scratch:
        if args.model:
            raise UsageError("--from-scratch builds a new model; do not also give --model.",
                             "Drop --model, or drop --from-scratch to fine-tune it.")
    elif not args.model:
        raise UsageError("Which model? --model is required (or --from-scratch).",
                         "See 'smartlap models list'.")
    elif args.preset:
        raise UsageError("--preset only applies with --from-scratch.", "Add --from-scratch.")
    given = {key: getattr(args, key) for key in (
        "name", "epochs", "lr", "batch_size", "grad_accum", "block_size", "mode", "precision",
        "gradient_checkpointing", "patience", "seed", "sample_prompt", "device", "max_songs",
        "lora_rank", "lora_alpha", "lora_dropout", "lora_targets")}
    return TrainConfig(  # unset options keep TrainConfig's defaults
        model=args.model or f"scratch:{args.preset or 'mini'}", dataset=args.dataset,
        from_scratch=bool(args.from_scratch),
        preset=(args.preset or "mini") if args.from_scratch else None,
        **{key: value for key, value in given.items() if value is not None},
    ).validate()


def run(args: argparse.Namespace) -> int:
    from smartlap.cli.runs import EventView, _NoView
    from smartlap.lm.train.launch import check_launch

    check_launch()  # before any work: a launcher that started fewer processes than asked
    changes = resume_changes(args) if args.resume else None
    config = None if args.resume else build_config(args)
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training

    def on_event(event) -> None:
        if args.json:
            print_json_line(event.to_dict())
        else:
            view.show(event)

    with (_NoView() if args.json else EventView()) as view:
        result = run_training(config or TrainConfig(model="", dataset=""), run_id=args.run_id,
                              resume=args.resume, on_event=on_event,
                              resume_changes=changes)
    if result.status != "cancelled":
        return 0
    return 143 if result.stop_signal == signal.SIGTERM else 130
