"""One task's data: the split made once over every text of the file (shared by all tasks), then that task's rows."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.data.fractions import nested_subset
from llm_tool.data.hashing import file_sha256
from llm_tool.data.labels import LabeledRows, check_label_set, label_counts
from llm_tool.data.prepared import PreparedData
from llm_tool.data.split_rules import attach_keys, rule_of, rule_splits
from llm_tool.data.splits import Split, make_splits
from llm_tool.data.tasks import TaskTable, Value, data_files, load_task_table, task_order
from llm_tool.errors import DatasetError
from llm_tool.untrusted import quoted, shown

SOURCES = ("p", "v", "t")  # primary, validation file, test file: the prefix of a row's index in the shared split


def _stratum(value: Value) -> str:
    """The first task's value as a stratum; rows not annotated for it form their own stratum ("")."""
    if value is None:
        return ""
    return "|".join(sorted(value)) if isinstance(value, list) else value


def _index_rows(table: TaskTable, prefix: str, first: str) -> LabeledRows:
    """The file's rows with their index as text and the first task's stratum as label: what the split sees."""
    values = table.values.get(first, [None] * len(table.rows.texts))
    return dataclasses.replace(table.rows, texts=[f"{prefix}{i}" for i in range(len(table.rows.texts))],
                               labels=[_stratum(v) for v in values])


def shared_split(tables: dict[str, TaskTable], cfg: DatasetConfig, seed: int) -> tuple[dict[str, list[str]], str]:
    """Each split's rows (indices such as ``p12``) over every text, whatever its tasks: every task (and language)
    then keeps its own annotated rows, so all are scored on the same test texts."""
    found: dict[str, None] = {}
    for table in tables.values():
        found.update(dict.fromkeys(table.values))
    first = task_order(list(found), cfg)[0]
    index = {prefix: _index_rows(table, prefix, first) for prefix, table in tables.items()}
    rule = rule_of(cfg.split_group_column, cfg.split_time_column)
    if rule is None:
        splits, method = make_splits(index["p"], multi=False, validation_split=cfg.validation_split,
                                     test_split=cfg.test_split, seed=seed, validation=index.get("v"),
                                     test=index.get("t"))
    else:  # by group or by date (data/split_rules.py), over every text as well
        rows = attach_keys(index["p"], tables["p"].table, rule, tables["p"].source)
        splits, cut = rule_splits(rows, rule, multi=False, validation_split=cfg.validation_split,
                                  test_split=cfg.test_split, seed=seed, validation=index.get("v"),
                                  test=index.get("t"))
        method = cut.method
    return {name: split.texts for name, split in splits.items()}, f"{method}; shared by every task, on '{first}'"


def row_languages(table: TaskTable, cfg: DatasetConfig) -> list[str]:
    """Each row's language code in upper case ('' when unknown): the language column's, else lingua's guess."""
    if cfg.language_column:
        column = cfg.language_column
        if column not in table.table.columns:
            raise DatasetError(f"language column '{shown(column, 80)}' not found in {shown(table.source)}: fix "
                               "dataset_config.language_column")
        return [str(row.get(column) or "").strip().upper() for row in table.table.rows]
    from llm_tool.data.analysis import MAX_TEXTS, detect_each

    texts = table.rows.texts  # every row is routed: detected in batches of the detector's limit
    return [code for start in range(0, len(texts), MAX_TEXTS) for code in detect_each(texts[start:start + MAX_TEXTS])]


def _task_split(indices: list[str], tables: dict[str, TaskTable], task: str,
                languages: dict[str, list[str]] | None, language: str) -> Split:
    """The rows of one split annotated for ``task`` (and in ``language`` when given), in the split's order."""
    values = {p: t.values.get(task) or [None] * len(t.rows.texts) for p, t in tables.items()}
    split = Split()
    for index in indices:
        prefix, row = index[0], int(index[1:])
        value = values[prefix][row]
        if value is None or (languages is not None and languages[prefix][row] != language):
            continue
        split.texts.append(tables[prefix].rows.texts[row])
        split.labels.append(value)
    return split


def prepare_task(cfg: DatasetConfig, base_dir: Path, *, seed: int) -> PreparedData:
    """``prepare`` for a config with ``task`` (and maybe ``language``) set: the rows not annotated for the task
    (or in another language) are left out of training, validation and test."""
    assert cfg.task is not None
    seed = seed if cfg.split_seed is None else cfg.split_seed
    paths = dict(zip(SOURCES, data_files(cfg, base_dir), strict=False))
    if cfg.validation_file is None and "v" in paths:  # only a test file: it is the third path
        paths["t"] = paths.pop("v")
    tables = {prefix: load_task_table(path, cfg) for prefix, path in paths.items()}
    task = cfg.task
    if not any(task in table.values for table in tables.values()):
        raise DatasetError(f"the data has no task '{shown(task, 80)}': check dataset_config.task")
    indices, method = shared_split(tables, cfg, seed)
    language = (cfg.language or "").strip().upper()
    languages = {p: row_languages(t, cfg) for p, t in tables.items()} if language else None
    splits = {name: _task_split(rows, tables, task, languages, language) for name, rows in indices.items()}
    record: dict[str, Any] = {}
    if cfg.train_fraction < 1:  # a learning curve's point: validation and test rows stay the same
        full = len(splits["train"])
        splits["train"] = nested_subset(splits["train"], cfg.train_fraction, seed, cfg.strategy == "multi-label")
        record["train_fraction_rows"] = {"kept": len(splits["train"]), "of": full}
    considered = sum(len(t.rows.texts) for t in tables.values()) if languages is None else \
        sum(code == language for codes in languages.values() for code in codes)
    first = tables["p"].table
    record.update({"fingerprint_sha256": file_sha256(paths["p"]), **first.details, "format_detected": first.format})
    return _checked(cfg, splits, considered, method, record)


def _checked(cfg: DatasetConfig, splits: dict[str, Split], considered: int, method: str,
             record: dict[str, Any]) -> PreparedData:
    """The task's splits checked (two classes or more, each seen in training) with what the session records."""
    task = cfg.task
    assert task is not None
    multi = cfg.strategy == "multi-label"
    name = f"task '{shown(task, 80)}'" + (f" in language {quoted(cfg.language, 20)}" if cfg.language else "")
    labels = [label for split in splits.values() for label in split.labels]
    if not multi and any(isinstance(v, list) for v in labels):
        raise DatasetError(f"{name} has lists of labels: set dataset_config.strategy to multi-label")
    if multi:
        for split in splits.values():
            split.labels = [v if isinstance(v, list) else [v] for v in split.labels]
        labels = [label for split in splits.values() for label in split.labels]
    label_names = check_label_set(labels, multi, task)
    if len(splits["train"]) == 0 or len(splits["validation"]) == 0:
        raise DatasetError(f"{name} has too few annotated rows to make training and validation sets: annotate more "
                           "rows or leave it out with dataset_config.tasks")
    train_labels = label_counts(splits["train"].labels, multi)
    unseen = [label for label in label_names if train_labels[label] == 0]
    if unseen:
        raise DatasetError(f"{name}: label {quoted(unseen[0], 80)} has no example in the training split: add "
                           "examples")
    distribution = dict(sorted(label_counts(labels, multi).items(), key=lambda kv: (-kv[1], kv[0])))
    record = {
        "total_samples": len(labels), "rows_used": len(labels), "rows_not_annotated": considered - len(labels),
        "num_categories": len(label_names), "category_distribution": distribution, "label_names": label_names,
        "split_sizes": {n: len(s) for n, s in splits.items()}, "split_method": method, **record,
    }
    return PreparedData(splits, label_names, multi, record)
