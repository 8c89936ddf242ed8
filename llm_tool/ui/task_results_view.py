"""Tables of a tasks run's predictions and evaluation: one column group (or row) per task."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from llm_tool.ui.console import safe
from llm_tool.ui.tables import _num


def task_predictions_table(texts: list[str], outputs: list[Any]) -> Table:
    """``infer PARENT --text``: each text with every task's label (and its route when per-language)."""
    table = Table(title="Predictions (one column per task)", title_style="primary")
    table.add_column("text", overflow="fold")
    for out in outputs:
        table.add_column(safe(out.task, 60), overflow="fold")
    for row, text in enumerate(texts):
        cells = []
        for out in outputs:
            pred = out.predictions[row]
            label = ", ".join(pred.labels) or "-" if pred else "-"
            route = f" ({out.routed[row]})" if out.routed is not None else ""
            cells.append(safe(label + route))
        table.add_row(safe(text), *cells)
    return table


def task_evaluation_table(rows: list[dict[str, Any]], data_file: str) -> Table:
    """``evaluate PARENT``: per task, the rows it was scored on (annotated), those left out, and its scores."""
    table = Table(title=f"Evaluation on {safe(data_file, 80)} (each task on its annotated rows)",
                  title_style="primary")
    for name in ("task", "rows used", "not annotated", "accuracy", "macro F1", "routed"):
        table.add_column(name, justify="left" if name in ("task", "routed") else "right", overflow="fold")
    for row in rows:
        routed = row.get("routed")
        table.add_row(safe(row["task"], 80), _num(row["rows_used"]), _num(row["rows_not_annotated"]),
                      _num(row["accuracy"]), _num(row["macro_f1"]),
                      safe(", ".join(f"{k}: {v}" for k, v in routed.items())) if routed else "-")
    return table


def language_plan_table(plan: Any) -> Table:
    """``language_strategy: per_language`` in a dry run: the models each task gets, and the languages left out."""
    table = Table(title="Models per language (per_language: an all-languages fallback per task, plus one per "
                        "language with enough examples)", title_style="primary")
    for name in ("task", "language", "model", "why not"):
        table.add_column(name, overflow="fold")
    for spec in plan.children:
        table.add_row(safe(spec.task.name, 60), safe(spec.language or "all"),
                      "trained" + ("" if spec.language else " (fallback)"), "")
    for skipped in plan.skipped:
        table.add_row(safe(skipped.task, 60), safe(skipped.language), "[warning]fallback[/warning]",
                      safe(skipped.reason, 200))
    return table
