"""Post-training warnings, each from numbers built to trigger it (and not triggered by a healthy run)."""

from __future__ import annotations

from typing import Any

from llm_tool.training.diagnostics import diagnose


def _single(matrix: list[list[int]], labels: list[str], history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support

    y_true = [i for i, row in enumerate(matrix) for j, n in enumerate(row) for _ in range(n)]
    y_pred = [j for row in matrix for j, n in enumerate(row) for _ in range(n)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(range(len(labels))), zero_division=0)
    per_class = {name: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])}
                 for i, name in enumerate(labels)}
    return {"multi_label": False, "history": history or [],
            "test": {"confusion_matrix": {"labels": labels, "matrix": matrix}, "per_class": per_class}}


HEALTHY = [{"epoch": 1, "train_loss": 0.6, "macro_f1": 0.80}, {"epoch": 2, "train_loss": 0.3, "macro_f1": 0.85},
           {"epoch": 3, "train_loss": 0.2, "macro_f1": 0.84}]


def codes(metrics: dict[str, Any], **kwargs: Any) -> list[str]:
    return [d.code for d in diagnose(metrics, **kwargs)]


def test_a_healthy_run_has_no_warning() -> None:
    assert codes(_single([[45, 5], [6, 44]], ["neg", "pos"], HEALTHY), distribution={"neg": 50, "pos": 50}) == []


def test_collapsed_predictions_and_dead_classes() -> None:
    # three balanced classes, everything predicted as 'a'
    metrics = _single([[30, 0, 0], [30, 0, 0], [29, 0, 1]], ["a", "b", "c"], HEALTHY)
    found = diagnose(metrics)
    assert [d.code for d in found] == ["collapsed", "zero_f1"]
    assert "predicts 'a' for 99% of the texts although only 33% are 'a'" in found[0].message
    assert "1 class(es)" in found[1].message and "'b'" in found[1].message


def test_still_rising_and_flat_loss() -> None:
    rising = [{"epoch": 1, "train_loss": 0.7, "macro_f1": 0.5}, {"epoch": 2, "train_loss": 0.5, "macro_f1": 0.7}]
    assert codes(_single([[45, 5], [6, 44]], ["neg", "pos"], rising)) == ["still_improving"]
    flat = [{"epoch": 1, "train_loss": 0.693, "macro_f1": 0.62}, {"epoch": 2, "train_loss": 0.690, "macro_f1": 0.60}]
    message = diagnose(_single([[40, 10], [12, 38]], ["neg", "pos"], flat))[0]
    assert message.code == "loss_flat" and "0.693 → 0.690" in message.message


def test_imbalance_without_class_weights() -> None:
    metrics = _single([[80, 5], [5, 10]], ["common", "rare"], HEALTHY)
    assert codes(metrics, distribution={"common": 400, "rare": 50}) == ["imbalanced"]
    assert codes(metrics, distribution={"common": 400, "rare": 50}, class_weights="balanced") == []


def test_multi_label_dead_label() -> None:
    metrics = {"multi_label": True, "history": HEALTHY, "test": {
        "confusion_matrix": {"x": {"tn": 5, "fp": 0, "fn": 5, "tp": 0}, "y": {"tn": 3, "fp": 1, "fn": 1, "tp": 5}},
        "per_class": {"x": {"f1": 0.0, "support": 5}, "y": {"f1": 0.83, "support": 6}}}}
    assert codes(metrics) == ["zero_f1"]
