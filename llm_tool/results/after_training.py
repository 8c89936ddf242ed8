"""After training: save predictions, tune multi-label thresholds, add per-language metrics, write the model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.model_folder import set_thresholds, write_metrics
from llm_tool.results.predictions import SplitPredictions, save_predictions


def write_results(model_dir: Path, metrics: dict[str, Any], raw_outputs: dict[str, tuple[Any, Any, Any]],
                  texts: dict[str, list[str]], session: dict[str, Any]) -> list[str]:
    """``raw_outputs`` maps a split to (logits, gold label ids, position of each row in the split) from
    ``trainer.predict`` on a length-sorted dataset; ``texts`` are the split's texts (used for
    language detection only, never stored). Updates ``metrics`` in place and rewrites metrics.json; each part that
    fails is named in the returned warnings (also in metrics['results_warnings']) and the others still run."""
    warnings: list[str] = []
    outputs = {split: _in_split_order(*output) for split, output in raw_outputs.items()}
    names, multi = list(metrics.get("labels") or []), bool(metrics.get("multi_label"))
    languages: dict[str, list[str]] = {}
    for step, action in (
        ("language detection", lambda: languages.update(_languages(texts, session))),
        ("thresholds", lambda: _thresholds(model_dir, metrics, outputs, names) if multi else None),
        ("per-language metrics", lambda: _per_language(metrics, outputs, languages, names, multi)),
        ("predictions", lambda: _save(model_dir, outputs, languages, names, multi)),
    ):
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - a results extra never costs the trained model
            warnings.append(f"{step}: {type(exc).__name__}: {str(exc)[:200]}")
    if warnings:
        metrics["results_warnings"] = warnings
    write_metrics(model_dir, metrics)
    try:
        from llm_tool.results.model_card import write_model_card

        write_model_card(model_dir, metrics, session)
    except Exception as exc:  # noqa: BLE001
        warnings.append(f"model card: {type(exc).__name__}: {str(exc)[:200]}")
    return warnings


def _in_split_order(logits: Any, gold: Any, positions: Any) -> tuple[np.ndarray, np.ndarray]:
    """Undo the length sort of the evaluation datasets: rows back in the split's order."""
    order = np.argsort(np.asarray(positions, dtype=np.int64), kind="stable")
    return np.asarray(logits)[order], np.asarray(gold)[order]


def _languages(texts: dict[str, list[str]], session: dict[str, Any]) -> dict[str, list[str]]:
    """Per-text languages, detected only when the data has several confirmed languages."""
    from llm_tool.results.languages import detect_each

    section = session.get("language_config") if isinstance(session.get("language_config"), dict) else {}
    confirmed = [c for c in (section or {}).get("confirmed_languages") or [] if isinstance(c, str)]
    if len(confirmed) < 2:
        return {split: [""] * len(t) for split, t in texts.items()}
    return {split: detect_each(t, confirmed) for split, t in texts.items()}


def _thresholds(model_dir: Path, metrics: dict[str, Any], outputs: dict[str, tuple[np.ndarray, np.ndarray]],
                names: list[str]) -> None:
    from llm_tool.results.metrics import full_report, probabilities
    from llm_tool.results.thresholds import DEFAULT, threshold_vector, tune_thresholds

    if "validation" not in outputs:
        return
    logits, gold = outputs["validation"]
    tuned = tune_thresholds(probabilities(logits, True), gold.astype(int), names)
    vector = threshold_vector(tuned, names)
    metrics["thresholds"] = {"tuned_on": "validation", "objective": "F1 per label", "default": DEFAULT,
                             "values": tuned}
    for split, (split_logits, split_gold) in outputs.items():
        metrics[f"{split}_tuned"] = full_report(split_logits, split_gold, names, True, thresholds=vector)
    set_thresholds(model_dir, tuned)


def _per_language(metrics: dict[str, Any], outputs: dict[str, tuple[np.ndarray, np.ndarray]],
                  languages: dict[str, list[str]], names: list[str], multi: bool) -> None:
    from llm_tool.results.languages import per_language
    from llm_tool.results.metrics import predictions
    from llm_tool.results.thresholds import threshold_vector

    tuned = threshold_vector((metrics.get("thresholds") or {}).get("values"), names)
    for split, (logits, gold) in outputs.items():
        codes = languages.get(split) or []
        if len({c for c in codes if c}) < 2:
            continue
        for key, cut in ((split, None), (f"{split}_tuned", tuned)):
            if key in metrics and (cut is not None or key == split):
                found = per_language(gold.astype(int), predictions(logits, multi, cut), codes)
                if len(found) >= 2:
                    metrics[key]["per_language"] = found


def _save(model_dir: Path, outputs: dict[str, tuple[np.ndarray, np.ndarray]], languages: dict[str, list[str]],
          names: list[str], multi: bool) -> None:
    from llm_tool.results.metrics import probabilities

    splits = {split: SplitPredictions(probabilities(logits, multi), gold.astype(int), np.arange(len(gold)),
                                      languages.get(split, []))
              for split, (logits, gold) in outputs.items()}
    save_predictions(model_dir, names, multi, splits)
