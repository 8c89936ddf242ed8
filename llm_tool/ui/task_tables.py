"""Tables of a data set's tasks (annotation dimensions): classes, coverage, and each task's training plan."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from llm_tool.ui.console import safe
from llm_tool.ui.tables import format_duration


def tasks_table(rows: list[dict[str, Any]], title: str = "Tasks (annotation dimensions)") -> Table:
    """Rows of ``data.analysis.task_rows``: one per task."""
    table = Table(title=title, title_style="primary")
    for name, justify in (("task", "left"), ("kind", "left"), ("annotated", "right"), ("coverage", "right"),
                          ("classes (rows each)", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(safe(row["task"], 80), row["kind"], f"{row['annotated']} of "
                      f"{row['annotated'] + row['not_annotated']}", f"{row['coverage']:.1f}%",
                      f"{row['classes']}: {safe(row['counts'], 300)}")
    return table


def task_plans_table(plans: list[tuple[str, dict[str, Any]]]) -> Table:
    """One line per task of a dry run: its rows in each split (the split all tasks share), steps and duration."""
    table = Table(title="Plan per task (one model each; dry run: nothing trained)", title_style="primary")
    for name in ("task", "train / validation / test", "labels", "steps", "estimated duration"):
        table.add_column(name, overflow="fold")
    total = 0.0
    for task, plan in plans:
        rows = plan["rows"]
        total += plan["seconds_estimate"]
        table.add_row(safe(task, 80), f"{rows['train']} / {rows['validation']} / {rows['test']}",
                      str(len(plan["label_names"])), str(plan["total_steps"]),
                      f"{format_duration(plan['seconds_estimate'])} on {plan['device']}")
    table.caption = f"all tasks, one after another: about {format_duration(total)} (rough)"
    return table
