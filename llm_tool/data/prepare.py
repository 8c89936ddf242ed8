"""One call from a DatasetConfig to validated, split data plus what the session records about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.data.formats import read_table
from llm_tool.data.fractions import nested_subset
from llm_tool.data.hashing import file_sha256
from llm_tool.data.labels import LabeledRows, check_label_set, extract, label_counts
from llm_tool.data.prepared import PreparedData as PreparedData
from llm_tool.data.prepared import resolve_path as resolve_path
from llm_tool.data.split_rules import attach_keys, missing_class_warnings, rule_of, rule_splits
from llm_tool.data.splits import make_splits
from llm_tool.data.task_split import prepare_task
from llm_tool.data.tasks import is_multi_task
from llm_tool.errors import DatasetError
from llm_tool.untrusted import quoted


def _load(path: Path, cfg: DatasetConfig) -> tuple[LabeledRows, dict[str, Any]]:
    table = read_table(path, fmt=cfg.format, encoding=cfg.encoding, delimiter=cfg.delimiter,
                       has_header=cfg.has_header, sheet=cfg.sheet)
    rule = rule_of(cfg.split_group_column, cfg.split_time_column)
    rows = attach_keys(extract(table, cfg, path.name), table, rule, path.name)
    return rows, {**table.details, "format_detected": table.format}


def prepare(cfg: DatasetConfig, base_dir: Path, *, seed: int) -> PreparedData:
    """Read, validate and split the data named by ``cfg`` (relative paths are taken from ``base_dir``); the split
    uses ``cfg.split_seed`` when set, else ``seed`` (the model seed)."""
    if cfg.task is not None:
        return prepare_task(cfg, base_dir, seed=seed)
    if is_multi_task(cfg):
        raise DatasetError("dataset_config names several tasks (annotation_column, or single-label label_columns): "
                           "one model is trained per task; to train one alone set dataset_config.task")
    seed = seed if cfg.split_seed is None else cfg.split_seed
    primary = resolve_path(cfg.primary_file, base_dir)
    rows, details = _load(primary, cfg)
    multi = cfg.strategy == "multi-label"
    extra = {}
    for name in ("validation_file", "test_file"):
        value = getattr(cfg, name)
        if value:
            extra[name] = _load(resolve_path(value, base_dir), cfg)[0]
    label_names = check_label_set(rows.labels + [lab for r in extra.values() for lab in r.labels], multi,
                                  cfg.label_column or ",".join(cfg.label_columns or []))
    if not multi and any(isinstance(v, list) for v in rows.labels):
        raise DatasetError("labels are lists: set dataset_config.strategy to multi-label")
    rule = rule_of(cfg.split_group_column, cfg.split_time_column)
    split_record: dict[str, Any] = {}
    if rule is None:
        splits, method = make_splits(rows, multi=multi, validation_split=cfg.validation_split,
                                     test_split=cfg.test_split, seed=seed, validation=extra.get("validation_file"),
                                     test=extra.get("test_file"))
    else:  # group or time split (data/split_rules.py)
        splits, cut = rule_splits(rows, rule, multi=multi, validation_split=cfg.validation_split,
                                  test_split=cfg.test_split, seed=seed, validation=extra.get("validation_file"),
                                  test=extra.get("test_file"))
        method = cut.method
        split_record = {**cut.details, "split_warnings": missing_class_warnings(splits, label_names, multi)}
    if cfg.train_fraction < 1:  # a learning curve's point: validation and test rows stay the same
        full = len(splits["train"])
        splits["train"] = nested_subset(splits["train"], cfg.train_fraction, seed, multi)
        split_record["train_fraction_rows"] = {"kept": len(splits["train"]), "of": full}
    if len(splits["train"]) == 0 or len(splits["validation"]) == 0:
        raise DatasetError("too few rows to make training and validation sets: add rows or set validation_file")
    train_labels = label_counts(splits["train"].labels, multi)
    unseen = [name for name in label_names if train_labels[name] == 0]
    if unseen:
        raise DatasetError(f"label {quoted(unseen[0], 80)} has no example in the training split: add examples")
    all_labels = rows.labels + [lab for r in extra.values() for lab in r.labels]
    distribution = dict(sorted(label_counts(all_labels, multi).items(), key=lambda kv: (-kv[1], kv[0])))
    record = {
        "total_samples": len(all_labels),
        "num_categories": len(label_names),
        "category_distribution": distribution,
        "label_names": label_names,
        "split_sizes": {name: len(split) for name, split in splits.items()},
        "split_method": method,
        "fingerprint_sha256": file_sha256(primary),
        **details,
        **split_record,
    }
    return PreparedData(splits, label_names, multi, record)
