"""Score every task of a tasks parent on a labelled file, each on the rows annotated for it; save and record it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.errors import DatasetError
from llm_tool.sessions.store import SessionStore
from llm_tool.training.evaluate import record_evaluation
from llm_tool.training.task_predict import ModelPool, TaskOutput, TasksParent, language_column, predict_task
from llm_tool.untrusted import shown


def parent_dataset(parent: TasksParent, text_column: str | None) -> Any:
    """The run's dataset settings (how its files hold texts and tasks), for another file."""
    from llm_tool.config import parse_config

    config = parse_config({"dataset_config": dict(parent.meta.dataset_config),
                           "model_config": dict(parent.meta.model_config)}, source=parent.meta.session_id)
    cfg = dataclasses.replace(config.dataset, task=None, language=None, format="auto")
    return dataclasses.replace(cfg, text_column=text_column) if text_column else cfg


def evaluate_tasks(parent: TasksParent, data_file: Path, *, text_column: str | None = None,
                   language_column_name: str | None = None, backend: str = "auto") -> dict[str, Any]:
    """{task: metrics} for ``data_file``: each task scored on its annotated rows only (rows_used), the others
    counted (rows_not_annotated); rows routed by language as `infer` does."""
    from llm_tool.data.formats import read_table
    from llm_tool.data.hashing import file_sha256
    from llm_tool.data.tasks import read_task_labels

    if not data_file.is_file():
        raise DatasetError(f"data file not found: {data_file}")
    cfg = parent_dataset(parent, text_column)
    pool = ModelPool(backend)
    languages: list[str] | None = None
    results: dict[str, Any] = {}
    for models in parent.tasks:
        texts, values = read_task_labels(data_file, cfg, models.task)
        if models.routed and languages is None:
            from llm_tool.training.task_predict import row_languages

            table = read_table(data_file, encoding=cfg.encoding, delimiter=cfg.delimiter, has_header=cfg.has_header,
                               sheet=cfg.sheet)
            languages = row_languages(table, texts, language_column(parent, table, language_column_name))
        rows = [i for i, value in enumerate(values) if value is not None]
        output = predict_task(models, [texts[i] for i in rows],
                              [languages[i] for i in rows] if languages else None, pool)
        results[models.task] = task_metrics(output, [values[i] for i in rows], len(values) - len(rows))
    return {
        "kind": "llm-tool tasks evaluation", "evaluated_at": datetime.now().isoformat(timespec="seconds"),
        "parent_session": parent.meta.session_id, "data_file": data_file.name, "data_path": str(data_file),
        "fingerprint_sha256": file_sha256(data_file), "tasks": results,
    }


def task_metrics(output: TaskOutput, truth: list[Any], not_annotated: int) -> dict[str, Any]:
    """One task's metrics (as metrics.json has them) over its annotated rows, with the row counts and routes."""
    from llm_tool.results.metrics import prediction_report

    names = list(output.labels)
    unknown = Counter(label for value in truth for label in _as_list(value) if label not in names)
    names += sorted(unknown)
    index = {name: i for i, name in enumerate(names)}
    predicted = [pred.labels if pred else [] for pred in output.predictions]
    if output.multi_label:
        y, p = np.zeros((len(truth), len(names)), dtype=np.int64), np.zeros((len(truth), len(names)), dtype=np.int64)
        for row, (value, chosen) in enumerate(zip(truth, predicted, strict=True)):
            y[row, [index[v] for v in _as_list(value)]] = 1
            p[row, [index[v] for v in chosen]] = 1
    else:
        y = np.asarray([index[str(value)] for value in truth], dtype=np.int64)
        p = np.asarray([index[chosen[0]] if chosen else -1 for chosen in predicted], dtype=np.int64)
    report = prediction_report(p, y, names, output.multi_label) if len(truth) else {"num_samples": 0}
    result: dict[str, Any] = {"labels": names, "multi_label": output.multi_label, "rows_used": len(truth),
                              "rows_not_annotated": not_annotated, "evaluation": report}
    if unknown:
        result["labels_unknown_to_the_model"] = dict(unknown)
    if output.routed is not None:
        result["routed"] = dict(Counter(output.routed))
    return result


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def save_tasks_evaluation(store: SessionStore, parent: TasksParent, result: dict[str, Any]) -> Path:
    """``models/<parent id>/evaluations/<data-stem>_<timestamp>.json``, and a summary in the parent's session."""
    import json
    import re

    from llm_tool import outputs

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(result["data_file"]).stem)[:60].strip("._") or "data"
    folder = store.output_dirs(parent.meta)[0] / "evaluations"
    path = folder / f"{stem}_{datetime.now().strftime('%Y%m%d_%H%M%S_%f')}.json"
    outputs.write_text(path, json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n",
                       outputs.Rules(owned=folder))
    summary = {"evaluated_at": result["evaluated_at"], "data_file": result["data_file"],
               "fingerprint_sha256": result["fingerprint_sha256"], "file": str(path),
               "tasks": {task: {"rows_used": r["rows_used"], "macro_f1": r["evaluation"].get("macro_f1")}
                         for task, r in result["tasks"].items()}}
    record_evaluation(store, parent.path, summary)
    return path


def evaluation_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per task for a table: task, rows used, not annotated, accuracy, macro-F1, routes."""
    rows = []
    for task, found in result.get("tasks", {}).items():
        report = found.get("evaluation") or {}
        rows.append({"task": shown(task, 80), "rows_used": found.get("rows_used"),
                     "rows_not_annotated": found.get("rows_not_annotated"), "accuracy": report.get("accuracy"),
                     "macro_f1": report.get("macro_f1"), "routed": found.get("routed")})
    return rows
