"""Classification metrics (scikit-learn) for single- and multi-label predictions."""

from __future__ import annotations

from typing import Any

import numpy as np

from llm_tool.model_folder import DEFAULT_THRESHOLD

MULTI_LABEL_THRESHOLD = DEFAULT_THRESHOLD


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    logits = logits.astype(np.float64)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def predictions(logits: np.ndarray, multi_label: bool, thresholds: np.ndarray | None = None) -> np.ndarray:
    """Class indices (single-label) or 0/1 rows (multi-label: probability >= the label's threshold, 0.5 default)."""
    if multi_label:
        cut = MULTI_LABEL_THRESHOLD if thresholds is None else thresholds
        return (probabilities(logits, True) >= cut).astype(int)
    return logits.argmax(axis=1)


def summary_metrics(logits: np.ndarray, labels: np.ndarray, multi_label: bool,
                    thresholds: np.ndarray | None = None) -> dict[str, float]:
    """The few numbers logged at each evaluation (macro-F1 picks the best epoch)."""
    return prediction_scores(labels, predictions(logits, multi_label, thresholds))


def prediction_scores(labels: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """Accuracy and macro/micro/weighted F1 of predicted class indices (or 0/1 rows) against ``labels``."""
    from sklearn.metrics import accuracy_score, f1_score

    y = labels.astype(int)
    return {
        "accuracy": float(accuracy_score(y, preds)),
        "macro_f1": float(f1_score(y, preds, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y, preds, average="micro", zero_division=0)),
        "weighted_f1": float(f1_score(y, preds, average="weighted", zero_division=0)),
    }


def full_report(logits: np.ndarray, labels: np.ndarray, label_names: list[str], multi_label: bool,
                thresholds: np.ndarray | None = None) -> dict[str, Any]:
    """Everything written to metrics.json for one split (multi-label: at ``thresholds``, 0.5 by default)."""
    return prediction_report(predictions(logits, multi_label, thresholds), labels, label_names, multi_label)


def prediction_report(preds: np.ndarray, labels: np.ndarray, label_names: list[str],
                      multi_label: bool) -> dict[str, Any]:
    """``full_report`` of predictions already made (class indices, or 0/1 rows when multi-label)."""
    from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix, precision_recall_fscore_support

    y = labels.astype(int)
    report: dict[str, Any] = prediction_scores(labels, preds)
    report["num_samples"] = len(y)
    index = list(range(len(label_names)))
    if multi_label:
        precision, recall, f1, support = precision_recall_fscore_support(y, preds, average=None, zero_division=0)
        matrices = multilabel_confusion_matrix(y, preds)
        report["confusion_matrix"] = {
            name: {"tn": int(m[0, 0]), "fp": int(m[0, 1]), "fn": int(m[1, 0]), "tp": int(m[1, 1])}
            for name, m in zip(label_names, matrices, strict=False)
        }
        report["subset_accuracy"] = report["accuracy"]
    else:
        precision, recall, f1, support = precision_recall_fscore_support(
            y, preds, labels=index, average=None, zero_division=0)
        report["confusion_matrix"] = {
            "labels": label_names,
            "matrix": confusion_matrix(y, preds, labels=index).tolist(),
        }
    report["per_class"] = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(label_names, precision, recall, f1, support, strict=False)
    }
    return report
