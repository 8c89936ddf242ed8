"""Nested, stratified subsets of the training rows for learning curves (dataset_config.train_fraction)."""

from __future__ import annotations

import math
from typing import Any

from llm_tool.data.splits import Split


def nested_order(labels: list[Any], seed: int, multi: bool) -> list[int]:
    """An order of the rows whose every prefix is stratified (each class spread evenly along it) and starts with one
    row of each class: the first k rows of this order are the subset of size k, so a smaller fraction is always
    inside a larger one (same rows, same seed)."""
    import numpy as np

    keys = ["|".join(sorted(lab)) for lab in labels] if multi else [str(lab) for lab in labels]
    rng = np.random.RandomState(seed)
    position = np.zeros(len(keys))
    for key in sorted(set(keys)):
        members = [i for i, k in enumerate(keys) if k == key]
        shuffled = [members[j] for j in rng.permutation(len(members))]
        for rank, row in enumerate(shuffled):
            position[row] = 0.0 if rank == 0 else (rank + rng.uniform()) / len(shuffled)
    return [int(i) for i in np.lexsort((np.arange(len(keys)), position))]


def nested_subset(train: Split, fraction: float, seed: int, multi: bool) -> Split:
    """The first ``ceil(fraction * rows)`` rows of :func:`nested_order` (at least one per class), in file order."""
    if fraction >= 1:
        return train
    order = nested_order(train.labels, seed, multi)
    classes = len({"|".join(sorted(lab)) if multi else str(lab) for lab in train.labels})
    keep = sorted(order[:max(classes, math.ceil(fraction * len(train)))])
    return Split([train.texts[i] for i in keep], [train.labels[i] for i in keep])
