"""What the studio shows between questions: preview, distribution, analysis, summary and prediction tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from llm_tool.data.formats import Table as DataTable
from llm_tool.ui.console import safe
from llm_tool.ui.tables import format_duration
from llm_tool.wizard.questions import format_value

PREVIEW_ROWS = 5
CELL = 80


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def header(title: str, subtitle: str = "") -> Panel:
    return Panel(f"[primary]{title}[/primary]" + (f"\n[muted]{subtitle}[/muted]" if subtitle else ""),
                 expand=False, border_style="cyan")


def preview_table(table: DataTable, path: Path) -> Table:
    details = table.details
    extra = ", ".join(f"{k.removesuffix('_used')}: {v!r}" for k, v in details.items() if k != "quoting_used")
    out = Table(title=f"{path.name} · {table.format} · {len(table.rows)} rows{' · ' + extra if extra else ''}",
                title_style="primary")
    out.add_column("row", justify="right", style="muted")
    for column in table.columns[:8]:
        out.add_column(column, overflow="fold")
    for number, row in list(zip(table.row_numbers, table.rows, strict=False))[:PREVIEW_ROWS]:
        out.add_row(str(number), *[_cell(row.get(c)) for c in table.columns[:8]])
    return out


def distribution_table(distribution: dict[str, int], title: str = "Label distribution", limit: int = 15) -> Table:
    total = sum(distribution.values()) or 1
    out = Table(title=title, title_style="primary")
    out.add_column("label")
    out.add_column("texts", justify="right")
    out.add_column("share", justify="right")
    out.add_column("")
    for name, count in list(distribution.items())[:limit]:
        share = count / total
        out.add_row(_cell(name), str(count), f"{share:.1%}", "█" * max(1, round(share * 30)))
    if len(distribution) > limit:
        out.add_row(f"… {len(distribution) - limit} more", "", "", "")
    return out


def _classes_line(analysis: dict[str, Any]) -> str:
    tasks = analysis.get("tasks")
    if tasks:
        names = ", ".join(safe(t["task"], 40) for t in tasks[:8]) + (" …" if len(tasks) > 8 else "")
        return f"[bold]tasks[/bold]      {len(tasks)}: {names}  [muted](classes and coverage: the task table)[/muted]"
    return (f"[bold]classes[/bold]    {analysis['classes']} "
            f"({'multi-label' if analysis['multi_label'] else 'single-label'}), "
            f"imbalance {analysis['imbalance_ratio']:g}:1")


def analysis_panel(analysis: dict[str, Any]) -> Panel:
    stats = analysis["token_stats"]
    languages = analysis["language_distribution"]
    shown = ", ".join(f"{code} {n}" for code, n in list(languages.items())[:6]) or "not detected"
    lines = [
        f"[bold]rows[/bold]       {analysis['rows']}",
        _classes_line(analysis),
        f"[bold]languages[/bold]  {', '.join(analysis['languages']) or '-'}  [muted]({shown})[/muted]",
        f"[bold]tokens[/bold]     mean {stats.get('token_mean', 0):g}, median {stats.get('token_median', 0):g}, "
        f"p95 {stats.get('token_p95', 0):g}, max {stats.get('token_max', 0):g}  "
        f"[muted](tokenizer: {analysis['tokenizer']})[/muted]",
    ]
    lines += [f"[warning]! {w}[/warning]" for w in analysis["warnings"]]
    if not analysis["warnings"]:
        lines.append("[success]✓ no problem found[/success]")
    return Panel("\n".join(lines), title="Step 3/8 · Analysis", title_align="left", border_style="cyan",
                 expand=False)


def _data_rows(raw: dict[str, Any], plan: Any, title: str) -> Table:
    dataset = raw["dataset_config"]
    out = Table(title=title, title_style="primary")
    out.add_column("Setting", style="bold")
    out.add_column("Value", overflow="fold")
    out.add_row("data file", safe(str(dataset["primary_file"]), 1000))
    if dataset.get("tasks"):
        source = (f"annotation: {safe(dataset['annotation_column'], 80)}" if dataset.get("annotation_column")
                  else f"label columns: {safe(', '.join(dataset.get('label_columns') or []), 300)}")
        out.add_row("columns", f"text: {safe(dataset['text_column'], 80)}, {source}")
        out.add_row("tasks", f"{len(dataset['tasks'])}, one model each: {safe(', '.join(dataset['tasks']), 300)} "
                             "(rows and labels of each: the plan per task below)")
        out.add_row("split", safe(plan.split_method))
        return out
    out.add_row("columns", f"text: {dataset['text_column']}, label: {dataset['label_column']}")
    out.add_row("task", dataset["strategy"])
    rows = plan.rows
    out.add_row("rows (train / validation / test)", f"{rows['train']} / {rows['validation']} / {rows['test']}")
    out.add_row("split", safe(plan.split_method))
    out.add_row("labels", f"{len(plan.label_names)}: {', '.join(plan.label_names[:10])}")
    return out


def _setting_rows(out: Table, model: dict[str, Any], auto: dict[str, Any] | None = None) -> None:
    out.add_row("training mode", model.get("training_mode", "quick"))
    for key, value in model.items():
        if key in ("selected_model", "training_mode", "max_length", "auto", "time_budget"):
            continue
        why = (auto or {}).get(key)
        out.add_row(key, format_value(value, key) + (f"  [muted](auto: {safe(why['why'], 200)})[/muted]" if why
                                                      else ""))


def summary_table(raw: dict[str, Any], model: dict[str, Any], plan: Any, offline: bool) -> Table:
    """``model``: every model_config value that will be used (defaults included)."""
    out = _data_rows(raw, plan, "Step 6/8 · Summary: what will be used")
    out.add_row("model", f"{safe(model['selected_model'], 300)}{'  (available offline)' if offline else ''}")
    _setting_rows(out, {**model, **plan.settings}, plan.auto_settings)
    if plan.time_budget_seconds:
        out.add_row("time budget", f"{format_duration(plan.time_budget_seconds)} (then it stops gracefully; "
                                   "resumable)")
    auto = " (auto: p95 of the data)" if model.get("max_length") is None else ""
    out.add_row("max_length", f"{plan.max_length} tokens{auto}")
    out.add_row("steps (per epoch / total)", f"{plan.steps_per_epoch} / {plan.total_steps}")
    out.add_row("parameters", f"{plan.parameters / 1e6:.1f} M")
    out.add_row("estimated memory", f"{plan.memory_bytes / 2**30:.2f} GiB")
    out.add_row("estimated duration", f"{format_duration(plan.seconds_estimate)} on {plan.device} (rough)")
    for note in plan.notes:
        out.add_row("note", f"[warning]{note}[/warning]")
    return out


def benchmark_summary_table(raw: dict[str, Any], model: dict[str, Any], candidates: list[tuple[str, Any, bool]], *,
                            sweep: str, max_parallel: int) -> Table:
    """``candidates``: (model, training plan, available offline) each; ``model``: the settings they share."""
    first = candidates[0][1]
    out = _data_rows(raw, first, "Step 6/8 · Summary: the benchmark that will run")
    for number, (name, plan, offline) in enumerate(candidates, start=1):
        out.add_row(f"candidate {number}", f"{escape(name)}{'  (available offline)' if offline else ''}  [muted]"
                    f"{plan.parameters / 1e6:.1f} M parameters, {plan.memory_bytes / 2**30:.2f} GiB, "
                    f"~{format_duration(plan.seconds_estimate)}[/muted]")
    _setting_rows(out, model)
    out.add_row("max_length", "auto (p95 of the data, per model)" if model.get("max_length") is None
                else f"{model['max_length']} tokens")
    out.add_row("split", "the same train / validation / test rows and seed for every candidate")
    total = sum(plan.seconds_estimate for _, plan, _ in candidates) / max(1, min(max_parallel, len(candidates)))
    out.add_row("runs", f"in tmux, as sweep {sweep}: at most {max_parallel} at once; ranked by test macro-F1")
    out.add_row("estimated duration", f"{format_duration(total)} in all on {first.device} (rough)")
    for note in dict.fromkeys(n for _, plan, _ in candidates for n in plan.notes):
        out.add_row("note", f"[warning]{note}[/warning]")
    return out


BENCHMARK_SAVE_NOTE = ("Step 7/8 · a benchmark always saves its parameters: one session JSON per candidate and "
                       "a parent "
                       "benchmark session that records the ranking and the best model (the sweep needs them)")


SAVE_PANEL = Panel(
    "Saving writes [bold]logs/training_sessions/training_metadata_<date>_<time>.json[/bold]: every setting, the "
    "data file's fingerprint, the environment and the run's status.\n"
    "• [bold]resume[/bold]: an interrupted run continues from its last checkpoint\n"
    "• [bold]reproduce[/bold]: relaunch the same settings later, on the same or other data; compare runs\n"
    "• [bold]tmux[/bold]: runs in the background need it\n"
    "Without it the model is still saved in models/, but the run cannot be resumed, relaunched or run in tmux.",
    title="Step 7/8 · Save the parameters?", title_align="left", border_style="cyan", width=100)


def predictions_table(predictions: list[Any]) -> Table:
    out = Table(title="Prediction", title_style="primary")
    out.add_column("text", overflow="fold")
    out.add_column("label", style="bold")
    out.add_column("probabilities", overflow="fold")
    for p in predictions:
        ranked = sorted(p.probabilities.items(), key=lambda kv: -kv[1])
        out.add_row(_cell(p.text), ", ".join(p.labels) or "-", "  ".join(f"{k} {v:.3f}" for k, v in ranked[:8]))
    return out
