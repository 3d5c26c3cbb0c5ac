"""Model analysis documents in the shape of the seeds' reports, generated from the real model.

A report has the seeds' sections: general information (class, parameters, vocabulary,
context), the architecture as a mermaid graph walked from the loaded module tree, the
dataset it was trained on, the test results (Time, Memory (MB), Loss (Avg), plus validation
loss and perplexity, from the run recorded in smartlap.json) and text generated from a
fixed prompt and seed. ``compare_report`` puts several models side by side.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from smartlap.lm.train.config import DEFAULT_SAMPLE_PROMPT
from smartlap.units import one_line, table_cell

REPORT_SEED = 42
REPORT_TOKENS = 120
MAX_GRAPH_DEPTH = 6


def mermaid_graph(model: Any) -> str:
    """``graph TD`` of the module tree; repeated blocks (a ModuleList) are drawn once."""
    ids = (f"N{i}" for i in itertools.count())
    lines = ["graph TD"]
    root = next(ids)
    lines.append(f"  {root}[{type(model).__name__}]")

    def walk(module: Any, parent: str, depth: int) -> None:
        if depth > MAX_GRAPH_DEPTH:
            return
        for name, child in module.named_children():
            node = next(ids)
            kind = type(child).__name__
            if kind == "ModuleList" and len(child) > 0:
                lines.append(f"  {parent} --> {node}[{kind}_{name}]")
                block = next(ids)
                count = f" x{len(child)}" if len(child) > 1 else ""
                lines.append(f"  {node} --> {block}(({type(child[0]).__name__}{count}))")
                walk(child[0], block, depth + 1)
            else:
                lines.append(f"  {parent} --> {node}[{kind}_{name}]")
                walk(child, node, depth + 1)

    walk(model, root, 1)
    return "\n".join(lines)


def _count(model: Any) -> int:
    seen = {id(p): p.numel() for p in model.parameters()}
    return sum(seen.values())


def songs_used_line(name: str | None, training: dict[str, Any] | None) -> str:
    """Which songs the run really used: a --max-songs run names its slice, not the whole set."""
    used = (training or {}).get("songs_used") or {}
    max_songs = ((training or {}).get("hyperparameters") or {}).get("max_songs")
    try:
        from smartlap.store.datasets import get_dataset

        info = get_dataset(name) if name else None
    except Exception:  # the dataset may have been deleted since
        info = None
    whole = (f"{info.songs} songs ({info.train_songs} train, {info.val_songs} validation), "
             f"{info.lines} lines, {info.words} words") if info else None
    if used:
        text = (f"Trained on {used.get('train', '?')} training and {used.get('val', '?')} "
                f"validation songs of the dataset `{name}`")
        if max_songs:
            text += f" (limited with --max-songs {max_songs})"
        return text + (f"; the whole dataset has {whole}." if whole else
                       " (no longer in this data home).")
    if whole:
        return f"Trained on the dataset `{name}`: {whole}."
    return f"Trained on the dataset `{name}` (no longer in this data home)."


def _dataset_section(name: str | None, training: dict[str, Any] | None = None) -> list[str]:
    if not name:
        return ["No training dataset is recorded for this model."]
    return [songs_used_line(name, training)]


def references_lines(model_id: str | None) -> list[str]:
    """The hub page and paper of a seed model (the base of a checkpoint), where known."""
    from smartlap.lm.catalog import catalog_entry

    entry = catalog_entry(model_id) if model_id else None
    if entry is None:
        return []
    lines = [f"- Hugging Face: [{entry.hub_id}]({entry.hub_url}) — licence: {entry.licence}"]
    if entry.paper:
        lines.append(f"- Paper: {entry.paper}")
    return lines


def _epochs_heading(results: dict[str, Any]) -> str:
    epochs = results.get("epochs")
    unit = "Epoch" if epochs == 1 else "Epochs"
    return f"{epochs if epochs is not None else '?'} {unit} - " \
        f"{results.get('device', 'unknown device')}"


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _results(training: dict[str, Any] | None) -> dict[str, Any]:
    return dict((training or {}).get("results") or {})


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def results_table(training: dict[str, Any] | None) -> list[str]:
    results = _results(training)
    if not results:
        return ["No training run is recorded for this model."]
    return ["| Time (min) | Memory (MB) | Loss (Avg) | Val loss | Perplexity | Epochs |",
            "| --- | --- | --- | --- | --- | --- |",
            _row(results.get("time", "-"), table_cell(results.get("memory_mb")),
                 table_cell(results.get("loss_avg")), table_cell(results.get("val_loss")),
                 table_cell(results.get("perplexity"), 2), table_cell(results.get("epochs")))]


def settings_lines(training: dict[str, Any] | None) -> list[str]:
    """A run's training settings as a few Markdown list items a person can read.

    Grouped as a person thinks of them (what ran where, how long, how it learned, what it
    read), from ``smartlap.json``'s ``training.hyperparameters``; settings a run did not
    record are left out.
    """
    training = training or {}
    settings = dict(training.get("hyperparameters") or {})

    def given(*pairs: tuple[str, Any]) -> str:
        return " · ".join(f"{label} {value}".strip() for label, value in pairs
                          if value is not None and value != "")

    mode = training.get("mode") or settings.get("mode")
    origin = (f"from scratch ({settings.get('preset') or 'mini'})"
              if settings.get("from_scratch") else None)
    lora = settings.get("lora_rank") if mode == "lora" else None
    lines = [given(("run", training.get("run")), ("mode", mode), ("LoRA rank", lora),
                   ("on", training.get("device")), ("", origin))]
    if settings:
        patience = settings.get("patience")
        lines.append(given(("epochs", settings.get("epochs")),
                           ("patience", patience if patience else None),
                           ("learning rate", settings.get("lr")),
                           ("warm-up", _percent(settings.get("warmup_fraction"))),
                           ("weight decay", settings.get("weight_decay"))))
        checkpointing = "on" if settings.get("gradient_checkpointing") else None
        batch, block = settings.get("batch_size"), settings.get("block_size")
        accumulation = settings.get("grad_accum")
        lines.append(given(("batch", f"{batch} × {block} tokens" if batch and block else batch),
                           ("gradient accumulation",
                            accumulation if accumulation and accumulation > 1 else None),
                           ("precision", settings.get("precision")),
                           ("activation checkpointing", checkpointing),
                           ("seed", settings.get("seed"))))
        if settings.get("max_songs"):
            lines.append(f"first {settings['max_songs']} songs of the dataset")
        if "sample_prompt" in settings:
            prompt = one_line(str(settings.get("sample_prompt") or ""), 120)
            lines.append(f"sample prompt “{prompt}”" if prompt else "sample prompt: none")
    return [f"- {line}" for line in lines if line]


def _percent(fraction: Any) -> str | None:
    return f"{fraction:.0%}" if isinstance(fraction, (int, float)) else None


def history_table(training: dict[str, Any] | None) -> list[str]:
    history = (training or {}).get("history") or []
    if not history:
        return []
    rows = ["| Epoch | Train loss | Val loss | Perplexity | Seconds | Tokens/s |",
            "| --- | --- | --- | --- | --- | --- |"]
    for entry in history:
        rows.append(_row(f"{entry['epoch']}{' *' if entry.get('best') else ''}",
                         table_cell(entry.get("train_loss")), table_cell(entry.get("val_loss")),
                         table_cell(entry.get("perplexity"), 2),
                         table_cell(entry.get("seconds"), 1),
                         table_cell(entry.get("tokens_per_s"), 0)))
    return rows


def generate_sample(loaded: Any, prompt: str, seed: int = REPORT_SEED,
                    max_new_tokens: int = REPORT_TOKENS) -> str:
    """The prompt and its continuation, sampled with a fixed seed (comparable across models)."""
    from smartlap.lm.generation import GenerationSettings, generate_text

    settings = GenerationSettings(seed=seed, max_new_tokens=max_new_tokens)
    ends = generate_text(loaded, prompt, settings)
    text = (ends[0].text or "") if ends else ""
    return text if text.startswith(prompt) else prompt + text


def build_report(name: str, prompt: str = DEFAULT_SAMPLE_PROMPT, device: str | None = None,
                 seed: int = REPORT_SEED) -> str:
    """The Markdown analysis of one model."""
    from smartlap.lm.loading import load_model

    loaded = load_model(name, device=device)
    info, model = loaded.info, loaded.model
    training = info.training
    results = _results(training)
    run_heading = _epochs_heading(results) if results else "Test run"
    references = references_lines(info.hub_id or info.base)
    title = f"Model analysis {info.name}"
    lines = [f"# {title}", "",
             "- [Model description](#model-description)",
             "  - [General Information](#general-information)",
             "  - [Dataset](#dataset)", "  - [Model Architecture](#model-architecture)",
             "- [Tests](#tests)", f"  - [{run_heading}](#{_anchor(run_heading)})",
             "    - [Test Results](#test-results)",
             "    - [Generated Text](#generated-text)",
             *(["- [References](#references)"] if references else []), "",
             "## Model description", "", "### General Information", "",
             "| | |", "| --- | --- |",
             f"| Class | {type(model).__name__} |",
             f"| Parameters | {_count(model):,} |",
             f"| Vocabulary | {len(loaded.tokenizer):,} tokens |",
             f"| Context | {loaded.context_length} tokens |",
             f"| Layers | {getattr(model.config, 'n_layer', None) or getattr(model.config, 'num_layers', '-')} |",  # noqa: E501
             f"| Hidden size | {getattr(model.config, 'n_embd', None) or getattr(model.config, 'hidden_size', '-')} |",  # noqa: E501
             f"| Origin | {info.origin} |",
             f"| Base | {info.base or info.hub_id or '-'} |",
             f"| Training mode | {(training or {}).get('mode', '-')} |", "",
             "### Dataset", "", *_dataset_section(info.dataset, training), "",
             "### Model Architecture", "", "```mermaid", mermaid_graph(model), "```", "",
             "## Tests", ""]
    lines += [f"### {run_heading}", "",
              "#### Test Results", "", *results_table(training), ""]
    history = history_table(training)
    if history:
        lines += ["Per epoch (* = best by validation loss):", "", *history, ""]
    lines += ["#### Generated Text", "",
              f"Prompt and seed {seed}, {REPORT_TOKENS} new tokens:", "",
              "```text", generate_sample(loaded, prompt, seed), "```", ""]
    if references:
        lines += ["## References", "", *references, ""]
    return "\n".join(lines)


def compare_report(names: Sequence[str], prompt: str = DEFAULT_SAMPLE_PROMPT,
                   device: str | None = None, seed: int = REPORT_SEED) -> str:
    """Several checkpoints' results and fixed-seed samples side by side."""
    from smartlap.lm.loading import load_model

    rows = ["| Model | Class | Parameters | Mode | Epochs | Time (min) | Memory (MB) | "
            "Loss (Avg) | Val loss | Perplexity |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    samples = []
    for name in names:
        loaded = load_model(name, device=device)
        results = _results(loaded.info.training)
        training = loaded.info.training or {}
        rows.append(_row(loaded.info.name, type(loaded.model).__name__,
                         f"{_count(loaded.model):,}", training.get("mode", "-"),
                         table_cell(results.get("epochs")), results.get("time", "-"),
                         table_cell(results.get("memory_mb")), table_cell(results.get("loss_avg")),
                         table_cell(results.get("val_loss")),
                         table_cell(results.get("perplexity"), 2)))
        samples += [f"### {loaded.info.name}", "", "```text",
                    generate_sample(loaded, prompt, seed), "```", ""]
        del loaded
    return "\n".join([f"# Model comparison: {', '.join(names)}", "", "## Test Results", "",
                      *rows, "", f"## Generated Text (seed {seed})", "", *samples])
