"""Macro-F1 per detected language of the texts (lingua, offline), for the languages with enough texts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from llm_tool.data.analysis import detect_each as detect_each  # its home moved to data; imported from here too

MIN_TEXTS = 10  # a language gets its own metrics from this many texts on


def per_language(y_true: np.ndarray, y_pred: np.ndarray, languages: list[str],
                 min_texts: int = MIN_TEXTS) -> dict[str, dict[str, Any]]:
    """{code: {macro_f1, accuracy, num_samples}} for each language with at least ``min_texts`` texts, most texts
    first; sklearn's scores on that language's subset (labels absent from the subset are left out of the mean)."""
    from sklearn.metrics import accuracy_score, f1_score

    codes = np.asarray(languages)
    out: dict[str, dict[str, Any]] = {}
    for code, count in Counter(languages).most_common():
        if not code or count < min_texts:
            continue
        mask = codes == code
        out[code] = {
            "macro_f1": float(f1_score(y_true[mask], y_pred[mask], average="macro", zero_division=0)),
            "accuracy": float(accuracy_score(y_true[mask], y_pred[mask])),
            "num_samples": int(count),
        }
    return out


def language_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for a table in `sessions show` or a report: [{split, language, macro_f1, accuracy, num_samples}]."""
    rows = []
    for split in ("validation", "test"):
        report = metrics.get(split)
        if isinstance(report, dict) and isinstance(report.get("per_language"), dict):
            for code, values in report["per_language"].items():
                if isinstance(values, dict):
                    rows.append({"split": split, "language": str(code), **values})
    return rows
