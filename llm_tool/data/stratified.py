"""Seeded train/test cuts giving the very indices of scikit-learn's ``train_test_split`` (tested against it), without
importing scikit-learn (about 1 s) on the way to the first training step."""

from __future__ import annotations

import math
from typing import Any


def train_test_cut(items: list[int], test_size: float, seed: int,
                   stratify: list[Any] | None = None) -> tuple[list[int], list[int]]:
    """``train_test_split(items, test_size=test_size, random_state=seed, stratify=stratify)``: the same rows, in the
    same order, and a ValueError in the same cases (e.g. a class with one member when stratified)."""
    import numpy as np

    n_samples = len(items)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size} should be between 0 and 1")
    n_test = math.ceil(test_size * n_samples)
    n_train = n_samples - n_test
    if n_train == 0:
        raise ValueError(f"with {n_samples} rows and test_size={test_size} the train set would be empty")
    rng = np.random.RandomState(seed)
    if stratify is None:
        permutation = rng.permutation(n_samples)
        train, test = permutation[n_test:n_test + n_train], permutation[:n_test]
    else:
        train, test = _stratified(np.asarray(stratify), n_train, n_test, rng)
    return [items[i] for i in train], [items[i] for i in test]


def _stratified(y: Any, n_train: int, n_test: int, rng: Any) -> tuple[Any, Any]:
    """StratifiedShuffleSplit's one split (scikit-learn 1.x)."""
    import numpy as np

    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    if np.min(class_counts) < 2:
        raise ValueError("a class has only 1 member: too few for a stratified split")
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(f"train ({n_train}) and test ({n_test}) rows must each cover the {len(classes)} classes")
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(len(classes)):
        members = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(members[:n_i[i]])
        test.extend(members[n_i[i]:n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts: Any, n_draws: int, rng: Any) -> Any:
    """How many rows of each class to draw: proportional, remainders given out largest first, ties at random."""
    import numpy as np

    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)
