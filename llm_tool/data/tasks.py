"""Tasks: the annotation dimensions of one data set (keys of an annotation column, or several label columns)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.data.annotations import MAX_TASKS, check_key, parse_cell, task_value
from llm_tool.data.formats import Table, read_table
from llm_tool.data.labels import LabeledRows, extract
from llm_tool.data.prepared import resolve_path
from llm_tool.errors import ConfigError, DatasetError
from llm_tool.untrusted import quoted, shown

Value = str | list[str] | None  # one row's value for a task: a label, labels (multi-label), None = not annotated


@dataclass
class TaskInfo:
    """One task of a data set: its classes (label -> count over the annotated rows) and its coverage."""

    name: str
    multi_label: bool
    classes: dict[str, int]
    rows_annotated: int
    rows_not_annotated: int

    @property
    def coverage(self) -> float:
        total = self.rows_annotated + self.rows_not_annotated
        return self.rows_annotated / total if total else 0.0


@dataclass
class TaskTable:
    """The rows of one file: texts (and split column, as ``extract`` reads them) and each task's value per row."""

    rows: LabeledRows
    values: dict[str, list[Value]]  # task -> one value per row, in the order the tasks were found
    source: str
    table: Table


def is_multi_task(cfg: DatasetConfig) -> bool:
    """A config naming several annotation dimensions (an annotation column, or several single-label columns),
    not yet narrowed to one task (a child session's config has ``task`` set)."""
    several = bool(cfg.annotation_column) or (cfg.strategy == "single-label" and bool(cfg.label_columns))
    return several and cfg.task is None


def _text_config(cfg: DatasetConfig) -> DatasetConfig:
    """``cfg`` reading only texts (and split column): the text column stands in for the labels, which come from
    the annotation cells or task columns instead."""
    return dataclasses.replace(cfg, label_column=cfg.text_column, label_columns=None, annotation_column=None,
                               strategy="single-label", tasks=None, task=None)


def _annotation_values(table: Table, cfg: DatasetConfig, source: str) -> dict[str, list[Value]]:
    """Each key of the annotation column's objects (a task) with its value on every row."""
    column = cfg.annotation_column
    assert column is not None
    if column not in table.columns:
        raise DatasetError(f"annotation column '{shown(column, 80)}' not found in {shown(source)}: set "
                           "dataset_config.annotation_column to the column of JSON objects")
    cells = []
    keys: dict[str, None] = {}
    parsed: dict[str, dict[str, Any]] = {}  # cells repeat (a few keys, a few values): each text is parsed once
    for row, number in zip(table.rows, table.row_numbers, strict=False):
        raw = row.get(column)
        named = parsed.get(raw) if isinstance(raw, str) else None
        if named is None:
            cell = parse_cell(raw, source, number, column) or {}
            named = {check_key(k, source, number): v for k, v in cell.items()}
            if isinstance(raw, str):
                parsed[raw] = named
        keys.update(dict.fromkeys(named))
        if len(keys) > MAX_TASKS:
            raise DatasetError(f"'{shown(column, 80)}' of {shown(source)} has over {MAX_TASKS} different keys: "
                               "it is not an annotation column of a few dimensions; check the column")
        cells.append((named, number))
    return {key: _values([cell.get(key) for cell, _ in cells], [n for _, n in cells], cfg, source, key)
            for key in keys}


def _values(raw: list[Any], numbers: list[int], cfg: DatasetConfig, source: str, task: str) -> list[Value]:
    """Each row's value for ``task`` (``task_value``), each distinct text normalised once."""
    seen: dict[tuple[type, Any], Value] = {}  # by type too: True == 1, but they are different labels
    out: list[Value] = []
    for value, number in zip(raw, numbers, strict=False):
        key = (type(value), value) if value is None or isinstance(value, (str, int, float, bool)) else None
        if key is not None and key in seen:
            out.append(seen[key])
            continue
        normal = task_value(value, null_as_class=cfg.null_as_class, source=source, number=number, task=task)
        if key is not None:
            seen[key] = normal
        out.append(normal)
    return out


def _column_values(table: Table, cfg: DatasetConfig, source: str) -> dict[str, list[Value]]:
    """Each label column (a task) with its value on every row."""
    columns = list(cfg.label_columns or [])
    for name in columns:
        if name not in table.columns:
            raise DatasetError(f"label column '{shown(name, 80)}' not found in {shown(source)}: fix "
                               "dataset_config.label_columns")
    return {name: _values([row.get(name) for row in table.rows], table.row_numbers, cfg, source, name)
            for name in columns}


def _task_column_config(cfg: DatasetConfig) -> DatasetConfig:
    """A child config of a label-columns run names its column as ``label_column`` and the run's columns as
    ``tasks``: read every task column again."""
    if cfg.annotation_column or cfg.label_columns or not cfg.tasks:
        return cfg
    return dataclasses.replace(cfg, label_columns=list(cfg.tasks))


def read_task_table(table: Table, cfg: DatasetConfig, source: str) -> TaskTable:
    """Texts and every task's values of ``table``; bad cells and keys are one DatasetError naming the row."""
    rows = extract(table, _text_config(cfg), source)
    reader = _annotation_values if cfg.annotation_column else _column_values
    values = reader(table, _task_column_config(cfg), source)
    return TaskTable(rows, values, source, table)


def load_task_table(path: Path, cfg: DatasetConfig) -> TaskTable:
    """``read_task_table`` of the file at ``path``, read with the config's format settings."""
    table = read_table(path, fmt=cfg.format, encoding=cfg.encoding, delimiter=cfg.delimiter,
                       has_header=cfg.has_header, sheet=cfg.sheet)
    return read_task_table(table, cfg, path.name)


def data_files(cfg: DatasetConfig, base_dir: Path) -> list[Path]:
    """The primary file, then the validation and test files when given."""
    names = [cfg.primary_file, cfg.validation_file, cfg.test_file]
    return [resolve_path(name, base_dir) for name in names if name]


def task_order(found: list[str], cfg: DatasetConfig) -> list[str]:
    """The tasks to train, in order: ``cfg.tasks`` when given (each must exist), else every task found."""
    if not cfg.tasks:
        return found
    unknown = [name for name in cfg.tasks if name not in found]
    if unknown:
        listed = ", ".join(shown(name, 40) for name in found[:20]) + (" ..." if len(found) > 20 else "")
        raise ConfigError(f"dataset_config.tasks names {quoted(unknown[0], 60)}, which the data does not have: its "
                          f"tasks are {shown(listed, 300) or 'none'}")
    return list(dict.fromkeys(cfg.tasks))


def _info(name: str, values: list[Value]) -> TaskInfo:
    """A task's kind, classes and coverage from its values (lists anywhere make it multi-label)."""
    multi = any(isinstance(v, list) for v in values)
    counts: Counter[str] = Counter()
    for value in values:
        if value is not None:
            counts.update(value if isinstance(value, list) else [value])
    annotated = sum(v is not None for v in values)
    classes = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return TaskInfo(name, multi, classes, annotated, len(values) - annotated)


def task_problem(info: TaskInfo) -> str | None:
    """Why a classifier cannot learn ``info`` (and the fix), or None: it needs two classes of two examples each."""
    name = shown(info.name, 80)
    if not info.classes:
        return f"task '{name}' has no annotated row: leave it out with dataset_config.tasks"
    if len(info.classes) < 2:
        only = next(iter(info.classes))
        return (f"task '{name}' has only one class ({quoted(only, 60)}): a model needs at least two; leave it out "
                "with dataset_config.tasks or annotate more rows")
    rare = [label for label, count in info.classes.items() if count < 2]
    if rare:
        more = f" (and {len(rare) - 1} more labels)" if len(rare) > 1 else ""
        return (f"task '{name}': label {quoted(rare[0], 60)} has only 1 example{more}: each label needs at least 2; "
                "add examples, merge or remove it (or leave the task out with dataset_config.tasks)")
    return None


def check_task(info: TaskInfo) -> None:
    """``task_problem`` as a DatasetError (one line, exit code 2)."""
    problem = task_problem(info)
    if problem:
        raise DatasetError(problem)


def table_tasks(tables: list[TaskTable], cfg: DatasetConfig) -> list[TaskInfo]:
    """The tasks of read tables, in training order (``cfg.tasks`` when given), not yet checked as learnable."""
    found: dict[str, None] = {}
    for table in tables:
        found.update(dict.fromkeys(table.values))
    infos = []
    for name in task_order(list(found), cfg):
        values = [v for table in tables for v in table.values.get(name, [None] * len(table.rows.texts))]
        infos.append(_info(name, values))
    return infos


def discover_tasks(cfg: DatasetConfig, base_dir: Path) -> list[TaskInfo]:
    """The tasks of the data ``cfg`` names (all its files), in training order, each checked as learnable."""
    tables = [load_task_table(path, cfg) for path in data_files(cfg, base_dir)]
    if not any(table.values for table in tables):
        raise DatasetError(f"no annotation in {shown(tables[0].source)}: the annotation cells are all empty; check "
                           "dataset_config.annotation_column")
    infos = table_tasks(tables, cfg)
    for info in infos:
        check_task(info)
    return infos


def child_dataset_config(cfg: DatasetConfig, task: TaskInfo, language: str | None = None) -> dict[str, Any]:
    """The ``dataset_config`` of the child session training ``task`` (in ``language`` only, when given): the same
    files and split settings; ``tasks`` as the run's (its first task, or the file's, stratifies the shared split)."""
    section = dataclasses.asdict(cfg)
    section.update(task=task.name, language=language,
                   strategy="multi-label" if task.multi_label else "single-label")
    if not cfg.annotation_column:  # a label-columns run: the child reads its own column as its label column
        section.update(label_column=task.name, label_columns=None, tasks=list(cfg.tasks or cfg.label_columns or []))
    return section


def with_tasks(cfg: DatasetConfig, infos: list[TaskInfo]) -> DatasetConfig:
    """``cfg`` with ``tasks`` set to the discovered tasks (what a child config and the shared split need)."""
    return dataclasses.replace(cfg, tasks=[info.name for info in infos])


def read_task_labels(path: Path, cfg: DatasetConfig, task: str) -> tuple[list[str], list[Any | None]]:
    """The texts of a labelled file and each row's value for ``task`` (None: not annotated)."""
    table = load_task_table(path, cfg if cfg.annotation_column or cfg.label_columns
                            else dataclasses.replace(cfg, label_columns=[task]))
    if task not in table.values:
        if cfg.annotation_column:
            return table.rows.texts, [None] * len(table.rows.texts)
        raise DatasetError(f"{shown(path.name)} has no column for task '{shown(task, 80)}'")
    return table.rows.texts, list(table.values[task])
