"""Rich tables: metrics, session details, comparisons, dry-run plans, predictions, the models list; dates, durations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from llm_tool.ui.console import safe, status_text


def _num(value: Any, spec: str = ".4f") -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return "-" if value is None else str(value)


def metrics_tables(metrics: dict[str, Any]) -> list[Table]:
    tables = []
    summary = Table(title="Results (best model)", title_style="primary")
    for column in ("split", "accuracy", "macro F1", "micro F1", "weighted F1", "rows"):
        summary.add_column(column, justify="right" if column != "split" else "left")
    for split in ("validation", "test"):
        report = metrics.get(split)
        if report:
            summary.add_row(split, _num(report["accuracy"]), _num(report["macro_f1"]), _num(report["micro_f1"]),
                            _num(report["weighted_f1"]), str(report["num_samples"]))
    tables.append(summary)
    test = metrics.get("test") or metrics.get("validation")
    if test:
        from llm_tool.ui.results_view import confusion_table, per_class_table

        split = "test" if metrics.get("test") else "validation"
        tables.append(per_class_table(test, f"Per class ({split})"))
        confusion = confusion_table(test, f"Confusion matrix ({split})")
        if confusion is not None:
            tables.append(confusion)
    return tables


def format_date(stamp: str | None) -> str:
    try:
        return datetime.strptime(stamp or "", "%Y%m%d_%H%M%S").strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(stamp) if stamp else "-"


def format_duration(seconds: float | None) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _safe(value: Any, spec: str = ".4f") -> str:
    """A value from a session file as table text: numbers formatted, control characters shown as escapes
    (no terminal sequence passes), markup characters escaped, at most a few lines long."""
    return safe(_num(value, spec), 2000)


def details_table(flat: dict[str, Any], title: str) -> Table:
    table = Table(title=safe(title), title_style="primary", show_lines=False)
    table.add_column("Parameter", style="bold")
    table.add_column("Value", overflow="fold")
    for key, value in flat.items():
        text = status_text(_safe(value)) if key.endswith(".status") and isinstance(value, str) else _safe(value, ".6g")
        table.add_row(safe(key), text)
    return table


def compare_table(ids: list[str], rows: dict[str, list[Any]]) -> Table:
    table = Table(title="Session comparison (differences in yellow, marked *)", title_style="primary")
    table.add_column("Parameter", style="bold", no_wrap=True)
    for sid in ids:
        table.add_column(safe(sid.removeprefix("train_")), overflow="fold")
    for key, values in rows.items():
        texts = [_safe(v, ".6g") for v in values]
        differs = len(set(texts)) > 1
        section, _, name = key.partition(".")
        label = f"{SECTION_SHORT.get(section, section)}.{name}" if name else section
        table.add_row(f"[warning]* {safe(label)}[/warning]" if differs else safe(label),
                      *[f"[warning]{t}[/warning]" if differs else t for t in texts])
    return table


SECTION_SHORT = {"dataset_config": "data", "model_config": "model", "execution_status": "status",
                 "language_config": "language"}


def plan_table(plan: dict[str, Any], config_path: Path | None = None) -> Table:
    table = Table(title="Training plan (dry run: nothing trained)", title_style="primary")
    table.add_column("Item", style="bold")
    table.add_column("Value")
    rows = plan["rows"]
    table.add_row("rows (train / validation / test)", f"{rows['train']} / {rows['validation']} / {rows['test']}")
    table.add_row("labels", f"{len(plan['label_names'])}: {safe(', '.join(plan['label_names'][:10]), 500)}")
    table.add_row("task", "multi-label" if plan["multi_label"] else "single-label")
    if plan.get("split_method"):
        table.add_row("split", safe(plan["split_method"]))
    for key, value in plan.get("settings", {}).items():
        auto = plan.get("auto_settings", {}).get(key)
        text = f"{value:g}" if isinstance(value, float) else str(value)
        table.add_row(key, text + (f"  [muted](auto: {safe(auto['why'], 300)})[/muted]" if auto else ""))
    if plan.get("time_budget_seconds"):
        from llm_tool.config.presets import format_budget

        table.add_row("time budget", f"{format_budget(plan['time_budget_seconds'])} (then it stops gracefully; "
                                     "resumable)")
    table.add_row("steps (per epoch / total)", f"{plan['steps_per_epoch']} / {plan['total_steps']}")
    table.add_row("max_length", str(plan["max_length"]))
    if plan.get("long_text"):
        table.add_row("long texts", long_text_line(plan["long_text"]))
    table.add_row("parameters", f"{plan['parameters'] / 1e6:.1f} M")
    table.add_row("estimated memory", f"{plan['memory_bytes'] / 2**30:.2f} GiB")
    table.add_row("estimated duration", f"{format_duration(plan['seconds_estimate'])} on {plan['device']} (rough)")
    for note in plan.get("notes", []):
        table.add_row("note", safe(note, 1000))
    return table


def predictions_table(predictions: Iterable[Any]) -> Table:
    """Texts with their predicted labels and probabilities (``infer --text``)."""
    table = Table(title="Predictions", title_style="primary")
    table.add_column("text", overflow="fold")
    table.add_column("label")
    table.add_column("probabilities", overflow="fold")
    for p in predictions:
        table.add_row(safe(p.text), safe(", ".join(p.labels) or "-"),
                      safe(", ".join(f"{k}: {v:.3f}" for k, v in p.probabilities.items())))
    return table


def models_table(entries: Iterable[Any]) -> Table:
    """``llm-tool models``: name, languages, size, where (ModelEntry rows)."""
    from llm_tool.catalog.known import describe_languages

    table = Table(title="Models usable offline", title_style="primary")
    table.add_column("Name", style="bold", overflow="fold")
    table.add_column("Languages")
    table.add_column("Parameters", justify="right")
    table.add_column("From")
    table.add_column("Folder", overflow="fold")
    for e in entries:
        size = f"{e.parameters / 1e6:.1f} M" if e.parameters else "?"
        table.add_row(safe(e.name), safe(describe_languages(e.languages)), size, e.source, safe(e.path))
    return table


def long_text_line(long_text: dict[str, Any]) -> str:
    """How texts past max_length are handled, and the training rows that makes (chunks: windows)."""
    windows = long_text.get("windows") or {}
    line = f"{long_text.get('texts_longer', 0)} of {long_text.get('texts', 0)} texts exceed max_length: " \
           f"{safe(str(long_text.get('strategy')), 40)}  [muted]({safe(str(long_text.get('why')), 300)})[/muted]"
    if long_text.get("strategy") == "chunks":
        line += f"; {windows.get('windows')} training windows from {windows.get('texts')} texts " \
                f"(stride {long_text.get('chunk_stride')}"
        line += f", {windows.get('texts_capped')} texts thinned to max_chunks_per_text)" \
            if windows.get("texts_capped") else ")"
    return line
