"""`smartlap train`: fine-tune a model on a dataset (or build one from scratch).

The run happens in this process, so it also works under ``torchrun`` and ``accelerate
launch -m smartlap train ...``. Every event goes to ``runs/<id>/events.jsonl``; here it is
also shown live (or printed as JSON lines with ``--json``). Ctrl+C finishes the current
step, saves the state and exits; ``--resume RUN`` continues it exactly.
"""

from __future__ import annotations

import argparse

from smartlap.cli.console import print_json_line
from smartlap.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="fine-tune a model on a dataset, or build one from scratch",
        description="Fine-tune a model on a dataset. Unset options get defaults chosen from "
        "the model's size, so the run fits a 12 GB GPU.")
    parser.add_argument("--model", help="model name or folder (see 'smartlap models list')")
    parser.add_argument("--dataset", help="dataset name (see 'smartlap datasets list')")
    parser.add_argument("--name", help="name of the trained model (default: MODEL-DATASET)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: by size/mode)")
    parser.add_argument("--batch-size", type=int, help="blocks per step per device")
    parser.add_argument("--grad-accum", type=int, help="steps to accumulate per update")
    parser.add_argument("--block-size", type=int, help="tokens per training block")
    parser.add_argument("--mode", choices=("full", "embeddings", "lora"), default="full",
                        help="which weights learn (default full)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"),
                        default="auto", help="mixed precision (default: bf16/fp16 on GPU)")
    parser.add_argument("--gradient-checkpointing", action="store_true", default=None,
                        help="trade compute for memory (default: on for big models)")
    parser.add_argument("--patience", type=int, default=3,
                        help="stop after N epochs without a better validation loss")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--sample-prompt",
                        help="prompt for the per-epoch sample ('' for an unconditional one)")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--max-songs", type=int, help="train on the first N songs only")
    parser.add_argument("--from-scratch", action="store_true",
                        help="train a new GPT-2 and tokenizer instead of fine-tuning")
    parser.add_argument("--preset", choices=("mini", "tiny"),
                        help="size of the from-scratch model (default mini)")
    parser.add_argument("--resume", metavar="RUN", help="continue a cancelled/killed run")
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    from smartlap.lm.train.config import DEFAULT_SAMPLE_PROMPT, TrainConfig

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
    return TrainConfig(
        model=args.model or f"scratch:{args.preset or 'mini'}", dataset=args.dataset,
        name=args.name, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        grad_accum=args.grad_accum, block_size=args.block_size, mode=args.mode,
        precision=args.precision, gradient_checkpointing=args.gradient_checkpointing,
        patience=args.patience, seed=args.seed,
        sample_prompt=DEFAULT_SAMPLE_PROMPT if args.sample_prompt is None
        else args.sample_prompt, device=args.device,
        max_songs=args.max_songs, from_scratch=args.from_scratch,
        preset=(args.preset or "mini") if args.from_scratch else None,
    ).validate()


def run(args: argparse.Namespace) -> int:
    from smartlap.cli.runs import EventView, _NoView

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
                              resume=args.resume, on_event=on_event)
    return 130 if result.status == "cancelled" else 0
