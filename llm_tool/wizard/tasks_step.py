"""Step 2's tasks: an annotation column of JSON objects (or several label columns) found, shown and ticked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.data.analysis import task_rows
from llm_tool.data.annotations import parse_cell
from llm_tool.data.formats import Table
from llm_tool.data.tasks import TaskInfo, read_task_table, table_tasks, task_problem
from llm_tool.errors import DatasetError
from llm_tool.ui.task_tables import tasks_table
from llm_tool.wizard.questions import Choice, Question, select

SEVERAL_COLUMNS = "__several_label_columns__"  # the label question's choice: several label columns, one task each
SAMPLE_CELLS = 200  # cells of a column looked at to tell an annotation column
OBJECT_SHARE = 0.8  # of its non-empty cells that hold objects


def annotation_columns(table: Table, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns whose non-empty cells (of the first rows) are mostly objects: JSON or Python-dict strings."""
    found = []
    for column in table.columns:
        if column in exclude:
            continue
        cells = [r.get(column) for r in table.rows[:SAMPLE_CELLS]]
        cells = [c for c in cells if isinstance(c, dict) or (isinstance(c, str) and c.strip())]
        objects = 0
        for number, cell in enumerate(cells):
            try:
                objects += bool(parse_cell(cell, "", number, column))
            except DatasetError:
                continue
        if cells and objects >= OBJECT_SHARE * len(cells):
            found.append(column)
    return found


def label_question(columns: list[str], default: str | None, hints: dict[str, str],
                   annotations: list[str]) -> Question:
    """The label column, an annotation column (one model per key), or several label columns (one model each)."""
    choices = [Choice(c, c, "JSON annotations: one model per key (tasks)" if c in annotations else hints.get(c, ""))
               for c in columns]
    if len(columns) >= 2:
        choices.append(Choice("Several label columns, one model each…", SEVERAL_COLUMNS,
                              "tick the columns next: each is a task with a model of its own"))
    values = [c.value for c in choices]
    return select("label_column", "Step 2/8 · Label column", choices, default if default in values else None)


def columns_question(columns: list[str], ticked: list[str]) -> Question:
    def validate(values: list[Any]) -> str | None:
        return None if values else "tick at least one column (Space), then Enter"

    return Question("task_columns", "checkbox", "Step 2/8 · Label columns (each one task, one model)",
                    default=tuple(ticked), choices=tuple(Choice(c, c) for c in columns), validate=validate)


def tasks_question(infos: list[TaskInfo], ticked: list[str]) -> Question:
    """A checkbox of the tasks; one a classifier cannot learn is shown disabled with the reason."""
    choices = []
    for info in infos:
        kind = "multi-label" if info.multi_label else "single-label"
        title = f"{info.name} ({kind}, {len(info.classes)} classes, {100 * info.coverage:.0f}% annotated)"
        problem = task_problem(info)
        choices.append(Choice(title, info.name, disabled=problem.split(":")[0] if problem else None))

    def validate(values: list[Any]) -> str | None:
        return None if values else "tick at least one task (Space), then Enter"

    return Question("tasks", "checkbox", "Step 2/8 · Tasks to train (one model each)", default=tuple(ticked),
                    choices=tuple(choices), validate=validate,
                    help="rows without a value for a task are left out of that task, never counted as negatives")


def tasks_config(d: Any, tasks: list[str] | None = None) -> DatasetConfig:
    """The draft's data as a tasks config (annotation column or label columns)."""
    several = d.label_column == SEVERAL_COLUMNS
    return DatasetConfig(primary_file=str(d.data_path), text_column=d.text_column, label_column=None,
                         annotation_column=None if several else d.label_column,
                         label_columns=list(d.task_columns or []) if several else None, tasks=tasks)


def step_tasks(ctx: Any, d: Any) -> None:
    """Show each task's classes and coverage, and tick the tasks to train (learnable ones ticked at first)."""
    assert d.table is not None and d.text_column is not None and d.data_path is not None
    if d.label_column == SEVERAL_COLUMNS:
        others = [c for c in d.table.columns if c != d.text_column]
        d.task_columns = ctx.ask(columns_question(others, [c for c in d.task_columns or [] if c in others]))
    table = read_task_table(d.table, tasks_config(d), Path(d.data_path).name)
    infos = table_tasks([table], tasks_config(d))
    ctx.show(tasks_table(task_rows(infos), f"Tasks in '{d.label_column}'" if d.label_column != SEVERAL_COLUMNS
                         else "Tasks (label columns)"))
    learnable = [i.name for i in infos if task_problem(i) is None]
    previous = [t for t in d.tasks or [] if t in learnable]
    d.tasks = ctx.ask(tasks_question(infos, previous or learnable))
    d.strategy = "single-label"
    d.strategy_column = d.label_column
