"""Train/validation/test splits: from a split column, from separate files, or stratified with the seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_tool.data.labels import LabeledRows


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def _take(rows: LabeledRows, indices: list[int]) -> Split:
    return Split([rows.texts[i] for i in indices], [rows.labels[i] for i in indices])


def _stratify_key(labels: list[Any], multi: bool) -> list[str] | None:
    if not multi:
        return list(labels)
    return ["|".join(sorted(row)) for row in labels]


def _split_indices(indices: list[int], keys: list[str] | None, share: float,
                   seed: int) -> tuple[list[int], list[int], bool]:
    """Split off ``share`` of ``indices``: stratified when every class allows it, else random."""
    from llm_tool.data.stratified import train_test_cut

    if share <= 0 or len(indices) < 2:
        return indices, [], True
    stratify = [keys[i] for i in indices] if keys else None
    try:
        keep, out = train_test_cut(indices, share, seed, stratify)
        return keep, out, stratify is not None
    except ValueError:  # a class too small for a stratified cut
        keep, out = train_test_cut(indices, share, seed)
        return keep, out, False


def make_splits(rows: LabeledRows, *, multi: bool, validation_split: float, test_split: float, seed: int,
                validation: LabeledRows | None = None, test: LabeledRows | None = None) -> tuple[dict[str, Split], str]:
    """Returns the splits and how they were made (recorded in the session)."""
    if rows.splits is not None:
        by_name: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
        for i, name in enumerate(rows.splits):
            by_name[name].append(i)
        splits = {name: _take(rows, idx) for name, idx in by_name.items()}
        method = "split column"
        if not splits["validation"] and splits["train"]:
            train_rows = LabeledRows(splits["train"].texts, splits["train"].labels, [])
            keep, val, _ = _split_indices(list(range(len(train_rows.texts))),
                                          _stratify_key(train_rows.labels, multi), validation_split or 0.1, seed)
            splits["train"], splits["validation"] = _take(train_rows, keep), _take(train_rows, val)
            method += " (validation cut from train)"
        return splits, method

    keys = _stratify_key(rows.labels, multi)
    indices = list(range(len(rows.texts)))
    stratified = True
    test_idx: list[int] = []
    if test is None:
        indices, test_idx, ok = _split_indices(indices, keys, test_split, seed)
        stratified &= ok
    val_idx: list[int] = []
    if validation is None:
        share = validation_split / (1 - (test_split if test is None else 0.0))
        indices, val_idx, ok = _split_indices(indices, keys, share, seed)
        stratified &= ok
    splits = {
        "train": _take(rows, indices),
        "validation": Split(validation.texts, validation.labels) if validation else _take(rows, val_idx),
        "test": Split(test.texts, test.labels) if test else _take(rows, test_idx),
    }
    if validation and test:
        return splits, "separate validation and test files"
    method = ("stratified" if stratified else "random") + f" split (seed {seed})"
    if validation or test:
        separate = "validation" if validation else "test"
        cut = "test" if validation else "validation"
        method = f"separate {separate} file; {cut} rows: {method} of the training file"
    return splits, method
