"""Which child sessions a tasks run trains: one per task, or per (task x language) with enough examples plus one
all-languages model per task as the fallback (``model_config.language_strategy: per_language``)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from llm_tool.config import DatasetConfig
from llm_tool.data.task_split import SOURCES, row_languages, shared_split
from llm_tool.data.tasks import TaskInfo, TaskTable, data_files, load_task_table

MIN_TRAIN_ROWS = 30  # a language gets its own model of a task from this many annotated training rows on
MIN_CLASSES = 2  # ... with at least this many classes among them
PER_LANGUAGE = "per_language"


@dataclass(frozen=True)
class ChildSpec:
    """One child session to create: its task and language (None: every language; the fallback when per-language)."""

    task: TaskInfo
    language: str | None = None


@dataclass(frozen=True)
class SkippedChild:
    task: str
    language: str
    reason: str


@dataclass
class LanguagePlan:
    """The children of a tasks run, in order (each task's all-languages model first), and the languages left out."""

    strategy: str
    children: list[ChildSpec]
    skipped: list[SkippedChild] = field(default_factory=list)


class CreatedChild(Protocol):
    """What a created child records (sessions.task_parent.TaskEntry has these)."""

    task: str
    language: str | None
    session_id: str


def plan_children(cfg: DatasetConfig, infos: list[TaskInfo], base_dir: Path, strategy: str = "multilingual", *,
                  seed: int = 42) -> LanguagePlan:
    """One child per task; with ``per_language``, also one per (task, language) whose annotated training rows (in
    the split every task shares; ``seed`` as ``prepare`` takes it) number ``MIN_TRAIN_ROWS`` or more, with
    ``MIN_CLASSES`` classes or more, each seen in training. The others are listed in ``skipped`` with why."""
    fallbacks = [ChildSpec(info) for info in infos]
    if strategy != PER_LANGUAGE:
        return LanguagePlan(strategy, fallbacks)
    seed = seed if cfg.split_seed is None else cfg.split_seed
    paths = dict(zip(SOURCES, data_files(cfg, base_dir), strict=False))
    if cfg.validation_file is None and "v" in paths:  # only a test file: it is the third path
        paths["t"] = paths.pop("v")
    tables = {prefix: load_task_table(path, cfg) for prefix, path in paths.items()}
    indices, _ = shared_split(tables, dataclasses.replace(cfg, tasks=[i.name for i in infos]), seed)
    languages = {prefix: row_languages(table, cfg) for prefix, table in tables.items()}
    plan = LanguagePlan(strategy, [])
    for spec in fallbacks:
        plan.children.append(spec)
        for code, rows in _rows_by_language(tables, languages, indices, spec.task.name).items():
            reason = _too_few(rows)
            if reason:
                plan.skipped.append(SkippedChild(spec.task.name, code, reason))
            else:
                plan.children.append(ChildSpec(spec.task, code))
    return plan


def _rows_by_language(tables: dict[str, TaskTable], languages: dict[str, list[str]], indices: dict[str, list[str]],
                      task: str) -> dict[str, dict[str, list[Any]]]:
    """{language: {split: values}} of the rows annotated for ``task`` (unknown language: left to the fallback),
    languages with most rows first."""
    found: dict[str, dict[str, list[Any]]] = {}
    for split, rows in indices.items():
        for index in rows:
            prefix, row = index[0], int(index[1:])
            value = tables[prefix].values.get(task, [None] * (row + 1))[row]
            code = languages[prefix][row]
            if value is not None and code:
                found.setdefault(code, {}).setdefault(split, []).append(value)
    return dict(sorted(found.items(), key=lambda kv: (-sum(map(len, kv[1].values())), kv[0])))


def _labels(values: list[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for value in values:
        counts.update(value if isinstance(value, list) else [value])
    return counts


def _too_few(rows: dict[str, list[Any]]) -> str | None:
    """Why a language cannot have its own model of a task (None: it can)."""
    train = _labels(rows.get("train", []))
    every = _labels([v for values in rows.values() for v in values])
    if len(rows.get("train", [])) < MIN_TRAIN_ROWS:
        return f"{len(rows.get('train', []))} annotated training rows (a model per language needs {MIN_TRAIN_ROWS})"
    if len(train) < MIN_CLASSES:
        return f"{len(train)} class in its training rows (needs {MIN_CLASSES})"
    if not rows.get("validation"):
        return "no annotated validation row"
    unseen = sorted(label for label in every if train[label] == 0)
    if unseen:
        return f"label '{unseen[0][:60]}' has no training example in this language"
    rare = sorted(label for label, count in every.items() if count < 2)
    if rare:
        return f"label '{rare[0][:60]}' has only 1 example in this language"
    return None


def table_fields(plan: LanguagePlan, created: list[CreatedChild]) -> dict[str, Any]:
    """The parent's task-table fields (``write_task_entries(meta, entries, **table_fields(plan, entries))``):
    the strategy, ``language_model_mapping`` {task: {language: child id}}, ``fallback`` {task: child id} and the
    (task, language) pairs ``skipped`` with why."""
    mapping: dict[str, dict[str, str]] = {}
    fallback: dict[str, str] = {}
    for child in created:
        if child.language:
            mapping.setdefault(child.task, {})[child.language] = child.session_id
        else:
            fallback[child.task] = child.session_id
    fields: dict[str, Any] = {"language_strategy": plan.strategy}
    if plan.strategy == PER_LANGUAGE:
        fields.update(language_model_mapping=mapping, fallback=fallback,
                      skipped=[dataclasses.asdict(s) for s in plan.skipped])
    return fields
