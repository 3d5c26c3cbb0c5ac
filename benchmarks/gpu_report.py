"""The GPU check's report: one JSON summary and the Markdown tables for docs/benchmarks.md.

The JSON has ``meta`` and one key per section (``device``, ``train``, ``generate``,
``resume``); a section holds one step's record or, for ``train`` and ``generate``, one
record per step by name. A record is ``status`` (ok, error, skipped), ``seconds``,
``expected_s`` and its ``figures``, or its ``error``. The Markdown is rendered from the JSON
alone, so a report can be re-rendered (``python -m benchmarks.gpu_report FILE``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

JSON_NAME = "gpu-check.json"
MARKDOWN_NAME = "gpu-check.md"
SECTIONS = ("device", "train", "generate", "resume")
# The seeds' table (RTX 3060 12 GB, 396 songs, 200 epochs, fp32, per-song padding).
SEEDS = {"gpt2-medium-dutch-embeddings": ("GPT-2 medium, embeddings", "2 h 25 min", 11_520),
         "gpt-neo-125m": ("GPT-Neo 125M, full", "1 h 21 min", 6_048)}
SEEDS_EPOCHS = 200


def new_report(plan: Any, command: str) -> dict[str, Any]:
    from datetime import datetime, timezone

    return {"meta": {"command": command, "dry_run": plan.dry, "device": plan.device,
                     "minutes": plan.minutes, "songs": plan.songs, "epochs": plan.epochs,
                     "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "seconds": 0.0},
            "device": {}, "train": {}, "generate": {}, "resume": {}}


def put(report: dict[str, Any], section: str, name: str, record: dict[str, Any]) -> None:
    if name:
        report.setdefault(section, {})[name] = record
    else:
        report[section] = record


def records(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(step key, record) for every step in the report, in section order."""
    found = []
    for section in SECTIONS:
        value = report.get(section) or {}
        if "status" in value:
            found.append((section, value))
        else:
            found += [(f"{section}/{name}", record) for name, record in value.items()]
    return found


def failed(report: dict[str, Any]) -> bool:
    return any(record["status"] == "error" for _, record in records(report))


def write(report: dict[str, Any], out: Path) -> None:
    from smartlap.fsutil import atomic_write_json, atomic_write_text

    atomic_write_json(out / JSON_NAME, report)
    atomic_write_text(out / MARKDOWN_NAME, markdown(report))


def _cell(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _loss(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _figures(record: dict[str, Any] | None) -> dict[str, Any]:
    return (record or {}).get("figures") or {}


def _steps_table(report: dict[str, Any]) -> list[str]:
    rows = []
    for key, record in records(report):
        note = record.get("error") or record.get("reason") or ""
        rows.append([key, record["status"], record.get("seconds"), record.get("expected_s"),
                     note.splitlines()[0][:160] if note else ""])
    return _table(["step", "status", "seconds", "expected s (full GPU run)", "note"], rows)


def _device_lines(report: dict[str, Any]) -> list[str]:
    facts = _figures(report.get("device"))
    if not facts:
        return []
    memory = f"{facts['memory_mb']:,} MB" if facts.get("memory_mb") else None
    versions = facts.get("versions") or {}
    return ["### Device", "", *_table(
        ["device", "memory", "capability", "bf16", "torch / CUDA", "smartlap picks",
         "transformers / accelerate"],
        [[facts.get("name"), memory, facts.get("capability"), facts.get("bf16"),
          f"{facts.get('torch')} / {facts.get('cuda') or '–'}",
          facts.get("smartlap_placement"),
          f"{versions.get('transformers')} / {versions.get('accelerate')}"]])]


def _training_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for name, record in (report.get("train") or {}).items():
        figures = _figures(record)
        if name == "lean-attention":
            continue
        if record["status"] != "ok":
            rows.append([name, record["status"], *[""] * 10, record.get("error")
                         or record.get("reason")])
            continue
        shape = f"{figures.get('batch_size')} × {figures.get('block_size')}"
        if (figures.get("grad_accum") or 1) > 1:
            shape += f" (accum {figures['grad_accum']})"
        epochs = figures.get("epochs")
        count = len(epochs) if isinstance(epochs, list) else len(figures.get("epoch_seconds")
                                                                 or [])
        rows.append([f"{figures.get('model')} ({figures.get('mode')})", figures.get("contender"),
                     figures.get("precision"), shape, count, figures.get("seconds_per_epoch"),
                     figures.get("wall_seconds_per_epoch"), figures.get("tokens_per_s"),
                     figures.get("peak_allocated_mb"), figures.get("peak_reserved_mb"),
                     _loss(figures.get("train_loss")), _loss(figures.get("val_loss")), ""])
    return rows


def _ratio_lines(report: dict[str, Any]) -> list[str]:
    train = report.get("train") or {}
    lines = []
    for name, record in train.items():
        base = train.get(f"{name}-trainer")
        ours, theirs = _figures(record), _figures(base)
        if not (ours and theirs and ours.get("tokens_per_s") and theirs.get("tokens_per_s")):
            continue
        line = (f"- {name}: smartlap vs HF Trainer + per-song padding: tokens/s "
                f"**×{ours['tokens_per_s'] / theirs['tokens_per_s']:.2f}**")
        mine, other = ours.get("peak_allocated_mb"), theirs.get("peak_allocated_mb")
        if mine and other:
            line += f", peak allocated ×{mine / other:.2f} ({mine:,.0f} vs {other:,.0f} MB)"
        if theirs.get("pad_share") is not None:
            line += f"; the Trainer's batches were {theirs['pad_share']:.0%} padding"
        lines.append(line)
    return [*lines, ""] if lines else []


def _seeds_lines(report: dict[str, Any]) -> list[str]:
    rows = []
    for name, (workload, time_text, memory_mb) in SEEDS.items():
        figures = _figures((report.get("train") or {}).get(name))
        estimate = None
        if figures.get("wall_seconds_per_epoch"):
            seconds = figures["wall_seconds_per_epoch"] * SEEDS_EPOCHS
            estimate = f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
        rows.append([workload, f"{time_text}, {memory_mb:,} MB", estimate,
                     figures.get("peak_reserved_mb") or figures.get("table_memory_mb")])
    device = _figures(report.get("device")).get("name") or "this device"
    return [f"The seeds' comparison, {device} row (200 × the measured wall seconds per epoch,"
            " validation, sample and checkpoints included; random-init weights, so losses are"
            " not comparable with the seeds'):", "",
            *_table(["workload", "seeds (RTX 3060, fp32, padding)",
                     f"smartlap on {device}, 200 epochs", "peak reserved MB"], rows)]


def _kernels(found: dict[str, str] | None) -> str | None:
    if not found:
        return None
    return ", ".join(f"{name.replace('_attention', '')} {result}"
                     for name, result in found.items())


def _lean_lines(report: dict[str, Any]) -> list[str]:
    record = (report.get("train") or {}).get("lean-attention")
    figures = _figures(record)
    if not figures:
        return []
    rows = []
    for arch in ("gpt2", "gpt_neo"):
        found = figures.get(arch) or {}
        if found:
            calls = found.get("calls") or {}
            rows.append([arch, f"{calls.get('recomputed')} / {calls.get('sdpa')}",
                         found.get("handover_ok"), _loss(found.get("loss_difference")),
                         found.get("grads_finite"), found.get("peak_mb"),
                         found.get("plain_peak_mb"), _kernels(found.get("sdpa_kernels"))])
    return [f"Lean layers on the device ({figures.get('precision')} autocast, block "
            f"{figures.get('block')}):", "",
            *_table(["arch", "recomputed / sdpa calls", "as expected", "|loss − plain|",
                     "grads finite", "peak MB", "plain peak MB", "sdpa kernels alone (GPU)"], rows)]


def _generation_lines(report: dict[str, Any]) -> list[str]:
    rows, notes = [], []
    for name, record in (report.get("generate") or {}).items():
        figures = _figures(record)
        if name == "stop-and-hygiene":
            continue
        if record["status"] != "ok":
            rows.append([name, record["status"], "", "", "", "",
                         record.get("error") or record.get("reason")])
            continue
        paths = figures.get("paths") or {}
        pipe = (paths.get("pipeline") or {}).get("tokens_per_s")
        for path, summary in paths.items():
            ttft = summary.get("ttft_s")
            rows.append([figures.get("precision"), path, summary.get("tokens_per_s"),
                         summary.get("decode_tokens_per_s"),
                         None if ttft is None else round(ttft * 1000, 1),
                         round(summary["tokens_per_s"] / pipe, 2) if pipe else None, ""])
        notes.append(f"- {name}: fast decoder used: {_cell(figures.get('fast_decoder'))}; "
                     f"its logits vs transformers' on the same weights: max |Δ| "
                     f"{_cell(figures.get('max_logit_difference'), 4)} (logits up to "
                     f"{_cell(figures.get('max_logit'), 2)}), same next token "
                     f"{_cell(figures.get('same_next_token'))}")
    checks = _figures((report.get("generate") or {}).get("stop-and-hygiene"))
    if checks:
        stop, hygiene, eos = checks["stop"], checks["hygiene"], checks["end_of_text"]
        notes.append(f"- stop within one token: {_cell(stop['ok'])} ({stop['reason']}, "
                     f"{_cell(stop['tokens_after_stop'])} token(s) after the request)")
        notes.append(f"- no special/surplus token sampled with their logits boosted: "
                     f"{_cell(hygiene['ok'])} ({hygiene['banned_ids']} banned ids, "
                     f"{hygiene['sampled']} sampled, stream = text: "
                     f"{_cell(hygiene['stream_equals_text'])}); end-of-text boosted ends the "
                     f"sample at once: {_cell(eos['ok'])}")
    if not rows and not notes:
        return []
    return ["### Generation", "", *_table(["precision", "path", "tokens/s", "decode tokens/s",
                                           "first token ms", "× pipeline", "note"], rows),
            *notes, ""]


def _resume_lines(report: dict[str, Any]) -> list[str]:
    record = report.get("resume") or {}
    figures = _figures(record)
    if not figures:
        return []
    return ["### Resume after SIGKILL", "",
            f"- {figures['model']} ({figures['precision']}), {figures['songs']} songs, "
            f"{figures['epochs']} epochs; killed after epoch {figures['killed_after_epoch']} "
            f"(status then: {figures['status_after_kill']}); epochs compared "
            f"{figures['epochs_compared']}; max |loss difference| "
            f"{_cell(figures['max_loss_difference'], 6)} (tolerance {figures['tolerance']}): "
            f"losses match: {_cell(figures['losses_match'])}", ""]


def markdown(report: dict[str, Any]) -> str:
    meta = report.get("meta", {})
    device = _figures(report.get("device")).get("name") or meta.get("device")
    title = (f"### GPU check: dry run on the CPU ({device})" if meta.get("dry_run")
             else f"### GPU check: {device}")
    lines = [title, "", f"`{meta.get('command')}`, started {meta.get('started')}, "
             f"{_cell(meta.get('seconds'))} s in all (budget {meta.get('minutes')} min); "
             f"{meta.get('songs')} songs (the demo corpus repeated), {meta.get('epochs')} "
             "epochs per run." + (" Dry run: tiny shapes, figures prove the code runs, "
                                  "nothing else." if meta.get("dry_run") else ""), ""]
    lines += _steps_table(report)
    lines += _device_lines(report)
    rows = _training_rows(report)
    if rows:
        lines += ["### Training", "", *_table(
            ["model", "contender", "precision", "batch × block", "epochs",
             "train s/epoch (last)", "wall s/epoch", "tokens/s (last epoch)",
             "peak allocated MB", "peak reserved MB", "train loss", "val loss", "note"], rows)]
        lines += _ratio_lines(report) + _seeds_lines(report)
    lines += _lean_lines(report) + _generation_lines(report) + _resume_lines(report)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    """Re-render a saved report's Markdown: ``python -m benchmarks.gpu_report FILE``."""
    if len(argv) != 1:
        print("usage: python -m benchmarks.gpu_report gpu-check.json", file=sys.stderr)
        return 2
    print(markdown(json.loads(Path(argv[0]).read_text(encoding="utf-8"))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
