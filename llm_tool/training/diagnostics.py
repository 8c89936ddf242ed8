"""After training, say what went wrong in plain words: collapsed predictions, dead classes, too few epochs, a
learning rate that did not learn, imbalance left unweighted. Reads only metrics.json's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COLLAPSE_SHARE = 0.9  # one class takes this share of the predictions...
COLLAPSE_MARGIN = 0.25  # ...while it is at least this much rarer in the gold labels
RISING_DELTA = 0.005  # validation macro-F1 gained over the last epoch that says "more epochs would help"
FLAT_LOSS_RATIO = 0.97  # last epoch's training loss above this share of the first epoch's: nothing learned
IMBALANCE_RATIO = 3.0  # largest / smallest class in the training data


@dataclass(frozen=True)
class Diagnosis:
    """One finding: a short code (for scripts) and a sentence for people, with what to do."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def diagnose(metrics: dict[str, Any], *, class_weights: str | dict[str, float] | None = None,
             distribution: dict[str, int] | None = None) -> list[Diagnosis]:
    """Warnings for a finished run from its metrics (test split preferred, else validation)."""
    report = metrics.get("test") or metrics.get("validation") or {}
    found: list[Diagnosis] = []
    found += _collapsed(report, bool(metrics.get("multi_label")))
    found += _dead_classes(report)
    found += _still_rising(metrics.get("history") or [], metrics.get("epochs_trained"))
    found += _flat_loss(metrics.get("history") or [])
    found += _unweighted_imbalance(distribution or {}, class_weights)
    return found


def _predicted_counts(report: dict[str, Any], multi_label: bool) -> dict[str, int]:
    matrix = report.get("confusion_matrix") or {}
    if multi_label:
        return {name: int(m.get("tp", 0)) + int(m.get("fp", 0)) for name, m in matrix.items() if isinstance(m, dict)}
    labels, rows = matrix.get("labels") or [], matrix.get("matrix") or []
    return {name: int(sum(row[j] for row in rows)) for j, name in enumerate(labels)}


def _collapsed(report: dict[str, Any], multi_label: bool) -> list[Diagnosis]:
    if multi_label:
        return []
    predicted = _predicted_counts(report, multi_label)
    total = sum(predicted.values())
    gold = {name: int(v.get("support", 0)) for name, v in (report.get("per_class") or {}).items()}
    if not total or len(predicted) < 2 or not sum(gold.values()):
        return []
    name, count = max(predicted.items(), key=lambda kv: kv[1])
    share, true_share = count / total, gold.get(name, 0) / sum(gold.values())
    if share >= COLLAPSE_SHARE and share - true_share >= COLLAPSE_MARGIN:
        return [Diagnosis("collapsed", f"the model predicts '{name}' for {share:.0%} of the texts although only "
                                       f"{true_share:.0%} are '{name}': it has not learned to tell the classes "
                                       "apart. Train longer, raise the learning rate, or use class_weights "
                                       "= balanced")]
    return []


def _dead_classes(report: dict[str, Any]) -> list[Diagnosis]:
    dead = [name for name, v in (report.get("per_class") or {}).items()
            if v.get("support", 0) > 0 and v.get("f1", 0) == 0]
    if not dead:
        return []
    shown = ", ".join(f"'{n}'" for n in dead[:5]) + (f" and {len(dead) - 5} more" if len(dead) > 5 else "")
    return [Diagnosis("zero_f1", f"{len(dead)} class(es) were never predicted correctly (F1 0): {shown}. "
                                 "They may need more examples, class_weights = balanced, or more epochs")]


def _still_rising(history: list[dict[str, Any]], epochs_trained: Any) -> list[Diagnosis]:
    scores: list[float] = [row["macro_f1"] for row in history if row.get("macro_f1") is not None]
    if len(scores) < 2 or scores[-1] - scores[-2] < RISING_DELTA or scores[-1] < max(scores):
        return []
    return [Diagnosis("still_improving", f"validation macro-F1 was still rising at the last epoch "
                                         f"({scores[-2]:.3f} → {scores[-1]:.3f}): more epochs would likely help "
                                         "(early stopping ends the run when it stops improving)")]


def _flat_loss(history: list[dict[str, Any]]) -> list[Diagnosis]:
    losses: list[float] = [row["train_loss"] for row in history if row.get("train_loss") is not None]
    if len(losses) < 2 or losses[0] <= 0 or losses[-1] / losses[0] < FLAT_LOSS_RATIO:
        return []
    return [Diagnosis("loss_flat", f"the training loss did not fall ({losses[0]:.3f} → {losses[-1]:.3f}): the "
                                   "learning rate is probably too low (or too high); try another "
                                   "model_config.learning_rate")]


def _unweighted_imbalance(distribution: dict[str, int],
                          class_weights: str | dict[str, float] | None) -> list[Diagnosis]:
    counts = [n for n in distribution.values() if n > 0]
    if len(counts) < 2 or class_weights not in (None, "none"):
        return []
    ratio = max(counts) / min(counts)
    if ratio < IMBALANCE_RATIO:
        return []
    return [Diagnosis("imbalanced", f"the classes are imbalanced ({ratio:.0f}:1) and trained without class "
                                    "weights: rare classes are easily ignored; set class_weights = balanced")]
