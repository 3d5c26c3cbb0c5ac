"""README.md for every fine-tuned folder: the folder explains itself, here and on the hub.

Written from the metadata the training engine records (no torch), in the Hugging Face
model-card shape: YAML front matter (language, library, pipeline, base model when it came
from the hub, tags), then what the model is, how it was trained, how it did, how to use it
and where its base model is described.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smartlap.lm.report import history_table, references_lines, results_table, songs_used_line

CARD_FILE = "README.md"
_SETTINGS = ("epochs", "lr", "batch_size", "grad_accum", "block_size", "precision", "seed",
             "max_songs", "lora_rank", "patience")


def model_card(name: str, metadata: dict[str, Any]) -> str:
    """The card's Markdown for model ``name`` from its smartlap.json-style ``metadata``."""
    training = metadata.get("training") or {}
    hub_id = metadata.get("base_hub_id")
    front = ["---", "language: nl", "library_name: transformers",
             "pipeline_tag: text-generation"]
    if hub_id:
        front.append(f"base_model: {hub_id}")
    front += ["tags:", "- smartlap", "- dutch", "- lyrics", "- levenslied", "---", ""]
    base = metadata.get("base") or "?"
    base_text = f"`{base}`" + (f" ([{hub_id}](https://huggingface.co/{hub_id}))"
                               if hub_id and hub_id != base else "")
    lines = [*front, f"# {name}", "",
             f"A Dutch lyrics model fine-tuned with [smartlap](https://pypi.org/project/"
             f"smartlap/) from {base_text} in `{metadata.get('mode') or training.get('mode')}` "
             "mode.", ""]
    if metadata.get("dataset"):
        lines += [songs_used_line(metadata.get("dataset"), training), ""]
    if (metadata.get("mode") or training.get("mode")) == "lora":
        lines += [f"This folder holds the merged model (loads without peft); `adapter/` holds "
                  f"the plain peft adapter, whose `base_model_name_or_path` is `"
                  f"{hub_id or base}`" + ("" if hub_id else " (a smartlap model name: the "
                                          "base did not come from the hub)") + ".", ""]
    settings = training.get("hyperparameters") or {}
    chosen = [(key, settings[key]) for key in _SETTINGS if settings.get(key) is not None]
    if chosen:
        lines += ["## Training", "", "| setting | value |", "| --- | --- |",
                  *(f"| {key} | {value} |" for key, value in chosen)]
        if training.get("device"):
            lines.append(f"| device | {training['device']} |")
        lines.append("")
    lines += ["## Results", "", *results_table(training), ""]
    history = history_table(training)
    if history:
        lines += ["Per epoch (* = best by validation loss, the epoch saved here):", "",
                  *history, ""]
    lines += ["## Use", "", "```sh", f"smartlap generate --model {name} --prompt \"Ik mis je\"",
              "```", "", "or with transformers alone:", "", "```python",
              "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "", "tokenizer = AutoTokenizer.from_pretrained(\"PATH/TO/THIS/FOLDER\")",
              "model = AutoModelForCausalLM.from_pretrained(\"PATH/TO/THIS/FOLDER\")", "```", ""]
    references = references_lines(hub_id or base)
    if references:
        lines += ["## References", "", *references, ""]
    versions = training.get("versions") or {}
    if versions:
        lines += ["## Software", "", ", ".join(f"{k} {v}" for k, v in versions.items() if v),
                  ""]
    return "\n".join(lines)


def write_model_card(folder: Path, name: str, metadata: dict[str, Any]) -> Path:
    """Write (or replace) ``folder/README.md`` atomically."""
    from smartlap.fsutil import atomic_write_text

    path = Path(folder) / CARD_FILE
    atomic_write_text(path, model_card(name, metadata))
    return path
