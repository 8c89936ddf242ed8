"""Per-label decision thresholds for multi-label models, tuned for F1 on the validation set."""

from __future__ import annotations

import numpy as np

from llm_tool.model_folder import DEFAULT_THRESHOLD

DEFAULT = DEFAULT_THRESHOLD


def tune_thresholds(probabilities: np.ndarray, labels: np.ndarray, label_names: list[str]) -> dict[str, float]:
    """For each label the threshold (predict when probability >= it) with the best F1 on these rows.
    0.5 is always a candidate and kept on ties, so the tuned F1 is never below the F1 at 0.5."""
    return {name: _best_threshold(probabilities[:, j], labels[:, j].astype(int))
            for j, name in enumerate(label_names)}


def _f1_at(scores: np.ndarray, truth: np.ndarray, threshold: float) -> float:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (truth == 1)))
    denominator = float(np.sum(predicted)) + float(np.sum(truth == 1))
    return 2 * tp / denominator if denominator else 0.0


def _best_threshold(scores: np.ndarray, truth: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    if truth.sum() == 0 or truth.sum() == len(truth):
        return DEFAULT  # nothing to tune on: keep the default
    precision, recall, cuts = precision_recall_curve(truth, scores)
    precision, recall = precision[:-1], recall[:-1]  # the last point (recall 0) has no threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))
    if f1[best] <= _f1_at(scores, truth, DEFAULT) + 1e-12:
        return DEFAULT
    return float(cuts[best])


def threshold_vector(thresholds: dict[str, float] | None, label_names: list[str]) -> np.ndarray | None:
    """The thresholds in label order (0.5 for a label without one), or None when there are none."""
    if not thresholds:
        return None
    return np.asarray([float(thresholds.get(name, DEFAULT)) for name in label_names], dtype=np.float64)
