"""Leakage-safe splits: every row of a group in one split (split_group_column), or by date (split_time_column)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llm_tool.data.formats import Table
from llm_tool.data.labels import LabeledRows, label_counts
from llm_tool.data.splits import Split
from llm_tool.errors import DatasetError
from llm_tool.untrusted import quoted, shown

Rule = Literal["group", "time"]
SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class RuleCut:
    """Row indices per split, how they were made, and what the user should know (a class missing from a split)."""

    indices: dict[str, list[int]]
    method: str
    details: dict[str, Any] = field(default_factory=dict)


def rule_of(group_column: str | None, time_column: str | None) -> tuple[Rule, str] | None:
    if group_column:
        return "group", group_column
    if time_column:
        return "time", time_column
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def column_values(table: Table, column: str, row_numbers: Sequence[int], source: str) -> list[Any]:
    """The column's cell for each kept row (by its row number); an empty cell is an error naming the row."""
    if column not in table.columns:
        raise DatasetError(f"split column '{shown(column, 80)}' not found in {shown(source)}: fix "
                           "dataset_config.split_group_column / split_time_column")
    by_number = {n: row.get(column) for row, n in zip(table.rows, table.row_numbers, strict=False)}
    values = [by_number.get(n) for n in row_numbers]
    empty = [n for v, n in zip(values, row_numbers, strict=False) if _missing(v)]
    if empty:
        raise DatasetError(f"{len(empty)} rows of {shown(source)} have no '{shown(column, 80)}' (first: row "
                           f"{empty[0]}): fill them, every row needs a value to be split by it")
    return values


def _cut_groups(indices: list[int], groups: list[str], keys: list[str], share: float,
                seed: int) -> tuple[list[int], list[int], bool]:
    """Split off about ``share`` of the rows, whole groups only: StratifiedGroupKFold's first fold (share rounded to
    1/k) when there are enough groups, else GroupShuffleSplit (not stratified)."""
    import warnings

    import numpy as np
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    sub_groups = [groups[i] for i in indices]
    folds = max(2, round(1 / share))
    placeholder = np.zeros(len(indices))
    if len(set(sub_groups)) >= folds:
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        with warnings.catch_warnings():  # "the least populated class has fewer members than n_splits"
            warnings.simplefilter("ignore", UserWarning)
            keep, out = next(splitter.split(placeholder, [keys[i] for i in indices], sub_groups))
        stratified = True
    else:
        keep, out = next(GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
                         .split(placeholder, groups=sub_groups))
        stratified = False
    return [indices[i] for i in sorted(keep)], [indices[i] for i in sorted(out)], stratified


def group_cut(groups: list[Any], keys: list[str], *, shares: dict[str, float], seed: int, column: str) -> RuleCut:
    """Test first, then validation from the rest, whole groups only (``shares`` holds the splits to cut)."""
    names = [str(g).strip() for g in groups]
    wanted = 1 + sum(1 for s in shares.values() if s > 0)
    distinct = len(set(names))
    if distinct < wanted:
        raise DatasetError(f"dataset_config.split_group_column '{shown(column, 80)}' has only {distinct} group"
                           f"{'s' if distinct != 1 else ''}: a group split needs at least {wanted} (one per split); "
                           "choose a column with more groups (e.g. a document or speaker id)")
    rest = list(range(len(names)))
    out: dict[str, list[int]] = {}
    stratified = True
    taken = 0.0
    for name in ("test", "validation"):
        share = shares.get(name, 0.0)
        if share <= 0:
            continue
        rest, out[name], ok = _cut_groups(rest, names, keys, share / (1 - taken), seed)
        stratified &= ok
        taken += share
    out["train"] = rest
    kind = "stratified group split" if stratified else "group split (too few groups to stratify)"
    counts = {split: len({names[i] for i in idx}) for split, idx in out.items()}
    return RuleCut(out, f"{kind} by '{shown(column, 80)}' ({distinct} groups, seed {seed})", {"split_groups": counts})


def parse_times(values: list[Any], row_numbers: Sequence[int], column: str, source: str) -> list[Any]:
    """Each cell as a UTC timestamp (pandas, formats may differ per cell; a bare year is a date); an unparseable
    cell is a one-line error naming it."""
    import pandas as pd

    texts = [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip() for v in values]
    parsed = pd.to_datetime(pd.Series(texts, dtype="object"), errors="coerce", format="mixed", utc=True)
    bad = [i for i, stamp in enumerate(parsed) if pd.isna(stamp)]
    if bad:
        raise DatasetError(f"{shown(source)} row {row_numbers[bad[0]]}: {quoted(values[bad[0]], 60)} in "
                           f"'{shown(column, 80)}' is not a date ({len(bad)} such cells): use dates such as "
                           "2024-03-01 or 2024-03-01T12:00, or choose another dataset_config.split_time_column")
    return list(parsed)


def time_cut(times: list[Any], *, shares: dict[str, float], column: str) -> RuleCut:
    """The newest rows are the test split, the next newest validation, the oldest train. A boundary never parts
    rows of equal time: they all go to the newer split, so every train row is older than every validation row,
    which is older than every test row."""
    order = sorted(range(len(times)), key=lambda i: (times[i], i))
    total = len(order)
    out: dict[str, list[int]] = {}
    for name in ("test", "validation"):
        share = shares.get(name, 0.0)
        if share <= 0:
            continue
        start = len(order) - math.ceil(share * total)
        while 0 < start < len(order) and times[order[start - 1]] == times[order[start]]:
            start -= 1  # equal times stay together, in the newer split
        order, out[name] = order[:start], sorted(order[start:])
    out["train"] = sorted(order)
    if not out["train"]:
        raise DatasetError(f"dataset_config.split_time_column '{shown(column, 80)}' leaves no training rows (too "
                           "few distinct dates): use finer dates, a smaller validation_split/test_split, or a group "
                           "split")
    ranges = {name: [str(min(times[i] for i in idx).date()), str(max(times[i] for i in idx).date())]
              for name, idx in out.items() if idx}
    span = "; ".join(f"{name} {ranges[name][0]}..{ranges[name][1]}" for name in SPLIT_NAMES if name in ranges)
    return RuleCut(out, f"time split by '{shown(column, 80)}' ({span})", {"split_time_ranges": ranges})


def missing_class_warnings(splits: dict[str, Split], label_names: list[str], multi: bool) -> list[str]:
    """One line per split of the group/time split that lacks a class (its scores cannot cover that class)."""
    found = []
    for name in ("validation", "test"):
        if name not in splits or not len(splits[name]):
            continue
        present = label_counts(splits[name].labels, multi)
        missing = [lab for lab in label_names if not present[lab]]
        if missing:
            listed = ", ".join(quoted(m, 40) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            found.append(f"the {name} split has no example of {listed}: the groups/dates do not allow it; its "
                         "scores leave that class out")
    return found


def rule_splits(rows: LabeledRows, rule: tuple[Rule, str], *, multi: bool, validation_split: float, test_split: float,
                seed: int, validation: LabeledRows | None = None,
                test: LabeledRows | None = None) -> tuple[dict[str, Split], RuleCut]:
    """The splits of a group or time split (``rows.split_keys`` hold the column's values); a separate validation or
    test file stands in for that split."""
    kind, column = rule
    assert rows.split_keys is not None
    shares = {"validation": 0.0 if validation else validation_split, "test": 0.0 if test else test_split}
    keys = ["|".join(sorted(lab)) for lab in rows.labels] if multi else [str(lab) for lab in rows.labels]
    cut = (group_cut(rows.split_keys, keys, shares=shares, seed=seed, column=column) if kind == "group"
           else time_cut(rows.split_keys, shares=shares, column=column))
    take = {name: cut.indices.get(name, []) for name in SPLIT_NAMES}
    splits = {name: Split([rows.texts[i] for i in idx], [rows.labels[i] for i in idx]) for name, idx in take.items()}
    for name, given in (("validation", validation), ("test", test)):
        if given is not None:
            splits[name] = Split(given.texts, given.labels)
            cut.method += f"; separate {name} file"
    return splits, cut


def attach_keys(rows: LabeledRows, table: Table, rule: tuple[Rule, str] | None, source: str) -> LabeledRows:
    """``rows`` with the rule column's values (timestamps for a time split) as their split keys."""
    if rule is None:
        return rows
    kind, column = rule
    values = column_values(table, column, rows.row_numbers, source)
    rows.split_keys = parse_times(values, rows.row_numbers, column, source) if kind == "time" else values
    return rows
