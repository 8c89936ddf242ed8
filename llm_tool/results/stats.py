"""Statistics for comparing models on the same test rows: paired bootstrap intervals, McNemar's test, mean ± sd."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

Metric = Callable[[np.ndarray, np.ndarray], float]


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """sklearn's ``f1_score(average="macro", zero_division=0)`` computed with numpy counts (the bootstrap calls
    it thousands of times): over the labels seen in either array, or over the columns of 0/1 rows."""
    y, p = np.asarray(y_true), np.asarray(y_pred)
    if y.ndim == 2:
        truth, predicted = y.astype(bool), p.astype(bool)
        tp = np.sum(truth & predicted, axis=0)
        fp = np.sum(~truth & predicted, axis=0)
        fn = np.sum(truth & ~predicted, axis=0)
    else:
        labels, codes = np.unique(np.concatenate([y, p]), return_inverse=True)
        true_codes, pred_codes = codes[:len(y)], codes[len(y):]
        hits = true_codes == pred_codes
        tp = np.bincount(true_codes[hits], minlength=len(labels))
        fp = np.bincount(pred_codes, minlength=len(labels)) - tp
        fn = np.bincount(true_codes, minlength=len(labels)) - tp
    denominator = 2 * tp + fp + fn
    scores = np.divide(2 * tp, denominator, out=np.zeros(len(tp), dtype=np.float64), where=denominator > 0)
    return float(scores.mean()) if len(scores) else 0.0


def paired_bootstrap_diff(y_true: npt.ArrayLike, pred_a: npt.ArrayLike, pred_b: npt.ArrayLike,
                          metric: Metric = macro_f1, *, n_resamples: int = 1000, confidence: float = 0.95,
                          seed: int = 0, method: str = "percentile") -> tuple[float, float, float]:
    """metric(a) - metric(b) on the same rows, and its bootstrap confidence interval (rows resampled together:
    ``scipy.stats.bootstrap(paired=True)``). Works for single-label indices and multi-label 0/1 rows."""
    from scipy.stats import bootstrap

    y, a, b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if not len(y) == len(a) == len(b):
        raise ValueError("y_true, pred_a and pred_b need the same number of rows")
    diff = metric(y, a) - metric(y, b)
    if len(y) < 2 or (np.array_equal(a, b)):
        return diff, diff, diff  # identical predictions: every resample gives the same difference

    def statistic(index: np.ndarray) -> float:
        rows = index.astype(int)
        return metric(y[rows], a[rows]) - metric(y[rows], b[rows])

    result = bootstrap((np.arange(len(y)),), statistic, n_resamples=n_resamples, confidence_level=confidence,
                       method=method, vectorized=False, rng=np.random.default_rng(seed))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):  # a degenerate distribution (all resamples equal)
        low = high = diff
    return float(diff), low, high


def mcnemar_test(y_true: npt.ArrayLike, pred_a: npt.ArrayLike, pred_b: npt.ArrayLike) -> float:
    """McNemar's p-value for two single-label classifiers on the same rows (exact binomial test when the
    discordant counts are small, the chi-square version otherwise)."""
    from statsmodels.stats.contingency_tables import mcnemar

    y, a, b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if y.ndim != 1:
        raise ValueError("McNemar's test applies to single-label predictions")
    right_a, right_b = a == y, b == y
    table = [[int(np.sum(right_a & right_b)), int(np.sum(right_a & ~right_b))],
             [int(np.sum(~right_a & right_b)), int(np.sum(~right_a & ~right_b))]]
    discordant = table[0][1] + table[1][0]
    result = mcnemar(table, exact=discordant < 25, correction=True)
    return float(result.pvalue)


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0.0 for a single value)."""
    data = np.asarray([float(v) for v in values], dtype=np.float64)
    if data.size == 0:
        raise ValueError("mean_sd needs at least one value")
    return float(data.mean()), float(data.std(ddof=1)) if data.size > 1 else 0.0


def tied_with_best(interval: tuple[float, float] | Sequence[float]) -> bool:
    """A model is tied with the best when the interval of its difference to the best contains 0.
    Accepts (low, high) or (diff, low, high) as returned by ``paired_bootstrap_diff``."""
    low, high = (interval[0], interval[1]) if len(interval) == 2 else (interval[1], interval[2])
    return bool(low <= 0.0 <= high)
