"""The per-epoch history of a run (training loss and validation metrics) from the Trainer's log history."""

from __future__ import annotations

from typing import Any

TIMING_KEYS = frozenset({"eval_runtime", "eval_samples_per_second", "eval_steps_per_second"})


ATTEMPT_KEY = "earlier_attempt"  # on an evaluation made before a resume: the attempt (1 = the first run) it belongs to


def mark_earlier_attempts(log_history: list[dict[str, Any]]) -> None:
    """At a resume, the evaluations restored from the checkpoint belong to an earlier attempt: each unmarked one
    gets that attempt's number, so the record and the report can tell them from this attempt's."""
    done = max((e[ATTEMPT_KEY] for e in log_history if isinstance(e.get(ATTEMPT_KEY), int)), default=0)
    for entry in log_history:
        if "eval_macro_f1" in entry and ATTEMPT_KEY not in entry:
            entry[ATTEMPT_KEY] = done + 1


def closing_epoch(value: Any) -> int:
    """The epoch a log entry closes, as the run's log numbers it: 1 for 0.527 (an evaluation when a time budget
    or a stop ended the first epoch early), 2 for 2.0."""
    return int(-(-round(float(value or 0), 6) // 1))


def epoch_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per epoch: mean training loss (weighted by the steps of each log window) and validation metrics."""
    rows: dict[int, dict[str, Any]] = {}
    sums: dict[int, list[float]] = {}
    last_step = 0
    for entry in log_history:
        epoch = closing_epoch(entry.get("epoch", 0))
        if "loss" in entry:
            steps = entry["step"] - last_step
            last_step = entry["step"]
            total = sums.setdefault(epoch, [0.0, 0])
            total[0] += float(entry["loss"]) * steps
            total[1] += steps
        if "eval_macro_f1" in entry:
            rows[epoch] = {"epoch": epoch, "step": entry["step"], "validation_loss": entry.get("eval_loss"),
                           **{k[5:]: v for k, v in entry.items() if k.startswith("eval_") and k != "eval_loss" and
                              k not in TIMING_KEYS}}
            if isinstance(entry.get(ATTEMPT_KEY), int):
                rows[epoch][ATTEMPT_KEY] = entry[ATTEMPT_KEY]
    for epoch, (loss, steps) in sums.items():
        rows.setdefault(epoch, {"epoch": epoch})["train_loss"] = round(loss / steps, 6) if steps else None
    return [rows[e] for e in sorted(rows)]
