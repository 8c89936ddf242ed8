"""Turn table rows into texts and labels (single- or multi-label), rejecting bad rows with their numbers."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.data.formats import Table
from llm_tool.errors import DatasetError
from llm_tool.untrusted import quoted, shown

SEPARATORS = ("|", ";", ",")
TRUE_VALUES = {"1", "true", "yes", "1.0"}
FALSE_VALUES = {"0", "false", "no", "0.0", ""}


@dataclass
class LabeledRows:
    texts: list[str]
    labels: list[Any]  # str for single-label, list[str] for multi-label
    row_numbers: list[int]
    splits: list[str] | None = None
    split_keys: list[Any] | None = None  # group ids or timestamps of a group/time split (data/split_rules.py)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _rows_text(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    return f"row{'s' if len(numbers) > 1 else ''} {shown}{', ...' if len(numbers) > 5 else ''}"


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _require_columns(table: Table, names: list[str], source: str) -> None:
    for name in names:
        if name not in table.columns:
            more = " ..." if len(table.columns) > 20 else ""
            available = ", ".join(shown(c, 40) for c in table.columns[:20]) + more
            raise DatasetError(f"column '{shown(name, 80)}' not found in {shown(source)}; its columns are: "
                               f"{shown(available, 300)}")


def _split_joined(value: str, separator: str | None) -> list[str]:
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
            if isinstance(parsed, list):
                return [_label_text(v) for v in parsed if not _missing(v)]
        except json.JSONDecodeError:
            pass
    if separator is None:
        return [stripped] if stripped else []
    return [part.strip() for part in stripped.split(separator) if part.strip()]


def _guess_separator(values: list[Any]) -> str | None:
    strings = [v for v in values if isinstance(v, str)]
    for sep in SEPARATORS:
        if any(sep in v for v in strings):
            return sep
    return None


def extract(table: Table, cfg: DatasetConfig, source: str) -> LabeledRows:
    """Texts and labels of ``table`` per ``cfg``; every problem names the rows and the fix."""
    needed = [cfg.text_column]
    if cfg.label_columns:
        needed += cfg.label_columns
    elif cfg.label_column:
        needed.append(cfg.label_column)
    if cfg.split_column:
        needed.append(cfg.split_column)
    _require_columns(table, needed, source)

    empty = [n for r, n in zip(table.rows, table.row_numbers, strict=False) if _missing(r.get(cfg.text_column))]
    if empty:
        raise DatasetError(
            f"{len(empty)} {_rows_text(empty)} of {source} have an empty '{cfg.text_column}': fill or remove them"
        )
    texts = [str(r[cfg.text_column]).strip() for r in table.rows]

    if cfg.strategy == "multi-label" and cfg.label_columns:
        labels: list[Any] = []
        for row, number in zip(table.rows, table.row_numbers, strict=False):
            present = []
            for col in cfg.label_columns:
                raw = row.get(col)
                text = "" if _missing(raw) else _label_text(raw).lower()
                if text in TRUE_VALUES:
                    present.append(col)
                elif text not in FALSE_VALUES:
                    raise DatasetError(f"{source} row {number}: column '{col}' must be 0/1, got {quoted(raw, 60)}")
            labels.append(present)
    else:
        assert cfg.label_column
        values = [r.get(cfg.label_column) for r in table.rows]
        missing = [n for v, n in zip(values, table.row_numbers, strict=False)
                   if _missing(v) and not isinstance(v, list)]
        if missing:
            raise DatasetError(
                f"{len(missing)} rows of {source} have no '{cfg.label_column}' label ({_rows_text(missing)}): "
                "fill or remove them"
            )
        if cfg.strategy == "single-label":
            lists = [n for v, n in zip(values, table.row_numbers, strict=False) if isinstance(v, (list, dict))]
            if lists:
                raise DatasetError(
                    f"{len(lists)} {_rows_text(lists)} of {shown(source)} have a list of labels in "
                    f"'{shown(cfg.label_column, 80)}': set dataset_config.strategy to multi-label"
                )
            labels = [_label_text(v) for v in values]
        else:
            separator = cfg.label_separator or _guess_separator(values)
            labels = [
                [_label_text(x) for x in v] if isinstance(v, list) else _split_joined(str(v), separator)
                for v in values
            ]
    splits = None
    if cfg.split_column:
        splits = [_normalise_split(r.get(cfg.split_column), n, source)
                  for r, n in zip(table.rows, table.row_numbers, strict=False)]
    return LabeledRows(texts, labels, list(table.row_numbers), splits)


SPLIT_NAMES = {
    "train": "train", "training": "train",
    "validation": "validation", "val": "validation", "valid": "validation", "dev": "validation", "eval": "validation",
    "test": "test", "testing": "test",
}


def _normalise_split(value: Any, number: int, source: str) -> str:
    name = SPLIT_NAMES.get(str(value).strip().lower())
    if name is None:
        raise DatasetError(f"{source} row {number}: split value {quoted(value, 60)} must be train, validation or test")
    return name


def label_counts(labels: list[Any], multi: bool) -> Counter[str]:
    if multi:
        return Counter(label for row in labels for label in row)
    return Counter(labels)


def check_label_set(labels: list[Any], multi: bool, column: str) -> list[str]:
    """The sorted label names; fails on one class only or on a label seen once."""
    counts = label_counts(labels, multi)
    if not counts:
        what = "no row has a label" if labels else "there are no rows"
        raise DatasetError(f"'{shown(column, 80)}' holds no labels ({what}): a classifier needs rows labelled "
                           "with at least two classes; check the label column")
    if len(counts) < 2:
        only = next(iter(counts), "nothing")
        raise DatasetError(
            f"'{shown(column, 80)}' has only one class ({quoted(only, 80)}): a classifier needs at least two; "
            "check the label column"
        )
    rare = sorted(name for name, count in counts.items() if count < 2)
    if rare:
        raise DatasetError(
            f"label {quoted(rare[0], 80)} has only 1 example"
            f"{f' (and {len(rare) - 1} more labels)' if len(rare) > 1 else ''}: "
            "each label needs at least 2; add examples, merge or remove it"
        )
    return sorted(counts)
