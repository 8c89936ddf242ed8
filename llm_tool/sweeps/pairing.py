"""Paired comparisons of configurations on the same test rows, read from each seed's ``predictions.npz``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.errors import ModelError
from llm_tool.model_folder import DEFAULT_THRESHOLD
from llm_tool.sweeps.configs import ConfigRow

THRESHOLD = DEFAULT_THRESHOLD  # multi-label decisions of the paired tests (the per-seed scores come from metrics.json)
N_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass
class Paired:
    """One configuration's predictions on a split: gold labels, row positions, and per-seed decisions
    (rows x seeds, or rows x seeds x labels), plus the seed-averaged decision used by McNemar's test."""

    labels: np.ndarray
    rows: np.ndarray
    multi_label: bool
    per_seed: np.ndarray
    pooled: np.ndarray


def _decide(probabilities: np.ndarray, multi_label: bool) -> np.ndarray:
    return (probabilities >= THRESHOLD).astype(np.int64) if multi_label else probabilities.argmax(axis=1)


def load_paired(config: ConfigRow) -> Paired | str:
    """The config's seeds stacked on their common rows, or a short reason why they cannot be."""
    from llm_tool.results.predictions import load_predictions

    runs = [r for r in config.runs if r.score is not None and r.split == config.split and r.metrics_file]
    if not runs or config.split is None:
        return "no predictions"
    probabilities, first = [], None
    for run in runs:
        try:
            saved = load_predictions(Path(str(run.metrics_file)).parent)
        except (OSError, ValueError, KeyError, ModelError):  # damaged, special or absurd: no paired test
            saved = None
        split = saved.splits.get(config.split) if saved else None
        if saved is None or split is None:
            return "no predictions.npz"
        if first is None:
            first = (split.labels, split.rows, saved.multi_label)
        elif not (np.array_equal(first[0], split.labels) and np.array_equal(first[1], split.rows)):
            return "seeds scored different rows"
        probabilities.append(np.asarray(split.probabilities, dtype=np.float64))
    assert first is not None
    stacked = np.stack(probabilities, axis=1)  # rows x seeds x labels
    multi = bool(first[2])
    per_seed = np.stack([_decide(stacked[:, s], multi) for s in range(stacked.shape[1])], axis=1)
    return Paired(np.asarray(first[0]), np.asarray(first[1]), multi, per_seed, _decide(stacked.mean(axis=1), multi))


def mean_seed_f1(y_true: np.ndarray, decisions: np.ndarray) -> float:
    """The mean over seeds (axis 1) of macro-F1: the statistic whose difference the bootstrap resamples."""
    from llm_tool.results.stats import macro_f1

    return float(np.mean([macro_f1(y_true, decisions[:, s]) for s in range(decisions.shape[1])]))


def _compare(config: ConfigRow, mine: Paired, best: Paired) -> None:
    from llm_tool.results.stats import mcnemar_test, paired_bootstrap_diff, tied_with_best

    if not (np.array_equal(mine.labels, best.labels) and np.array_equal(mine.rows, best.rows)):
        config.note = "test rows differ from the best's: not paired"
        return
    diff, low, high = paired_bootstrap_diff(best.labels, mine.per_seed, best.per_seed, mean_seed_f1,
                                            n_resamples=N_RESAMPLES, confidence=CONFIDENCE)
    config.diff, config.ci_low, config.ci_high = diff, low, high
    config.tied = tied_with_best((low, high))
    if not mine.multi_label:
        config.p_value = mcnemar_test(best.labels, mine.pooled, best.pooled)


def compare_to_best(top: ConfigRow, others: list[ConfigRow]) -> None:
    """Fill ``diff``, ``ci_low``/``ci_high``, ``tied`` and ``p_value`` of ``others`` against ``top`` (in place)."""
    best = load_paired(top)
    if isinstance(best, str):
        top.note = best
        for config in others:
            config.note = f"best has {best}" if best.startswith("no") else f"best: {best}"
            config.diff = _diff(config, top)
        return
    for config in others:
        mine = load_paired(config)
        if isinstance(mine, str):
            config.note, config.diff = mine, _diff(config, top)
            continue
        _compare(config, mine, best)


def _diff(config: ConfigRow, top: ConfigRow) -> Any:
    return None if config.mean is None or top.mean is None else config.mean - top.mean
