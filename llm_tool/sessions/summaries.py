"""Plain-data summaries of sessions for listing, showing and comparing (the UI turns them into tables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_tool.errors import SessionError
from llm_tool.sessions.lifecycle import effective_status, parse_iso
from llm_tool.sessions.schema import STATUSES, SessionMetadata
from llm_tool.sessions.store import ID_RE, SessionRef, SessionStore
from llm_tool.sessions.task_parent import is_tasks_parent, task_entries
from llm_tool.sessions.task_status import is_task_child


def _text(value: Any) -> str | None:
    """A field shown as text: files written by other tools may hold any JSON type."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def duration_seconds(meta: SessionMetadata) -> float | None:
    """Training time over every segment of the run (a resumed run counts each part it ran)."""
    status = meta.execution_status
    segments = status.extra.get("segment_seconds")
    if isinstance(segments, list) and segments and all(_number(s) is not None for s in segments):
        return float(sum(segments))
    recorded = _number(status.duration_seconds)
    if recorded is not None:
        return recorded
    start, end = parse_iso(status.started_at), parse_iso(status.completed_at or status.heartbeat)
    return (end - start).total_seconds() if start and end else None


def task_label(dataset: dict[str, Any]) -> str | None:
    """What a session learns to predict: its label column (``topics (multi)`` for multi-label), or the task of
    a tasks run's child (``stance [FR]`` for one language)."""
    columns = dataset.get("label_columns")
    label = _text(dataset.get("label_column")) if not columns else (
        "+".join(map(str, columns)) if isinstance(columns, list) else _text(columns))
    if _text(dataset.get("task")):
        language = _text(dataset.get("language"))
        label = f"{dataset['task']}" + (f" [{language}]" if language else "")
    if label and dataset.get("strategy") == "multi-label":
        label += " (multi)"
    return label


def unreadable_row(ref: SessionRef, reason: str) -> dict[str, Any]:
    return {"number": ref.number, "session_id": ref.session_id, "file": ref.path.name, "status": "unreadable",
            "error": reason}


def summary_row(store: SessionStore, ref: SessionRef) -> dict[str, Any]:
    if ref.metadata is None:
        return unreadable_row(ref, ref.error or "unreadable")
    try:
        return _summary(store, ref, ref.metadata)
    except Exception as exc:  # noqa: BLE001 - one odd file never breaks the whole listing
        return unreadable_row(ref, f"{ref.path.name} has unexpected content ({type(exc).__name__}: {exc})")


def _summary(store: SessionStore, ref: SessionRef, meta: SessionMetadata) -> dict[str, Any]:
    dataset = _text(meta.dataset_config.get("primary_file"))
    status = effective_status(store, meta)
    return {
        "number": ref.number,
        "session_id": meta.session_id,
        "name": _text(meta.training_session.session_name),
        "timestamp": _text(meta.training_session.timestamp),
        "mode": _text(meta.model_config.get("training_mode")),
        "dataset": Path(dataset).name if dataset else None,
        "model": _text(meta.model_config.get("selected_model")),
        "label": _tasks_label(meta) if is_tasks_parent(meta) else task_label(meta.dataset_config),
        "status": status if isinstance(status, str) and status in STATUSES else "unknown",
        "best_f1": _number(meta.execution_status.best_f1),
        "test_f1": _number(meta.execution_status.test_f1),
        "duration_seconds": duration_seconds(meta),
        "sweep_id": _text(meta.training_session.sweep_id),
        "benchmark": meta.training_session.workflow == "benchmark",  # its F1 is the winner's test score
        "parent_session": _text(meta.training_session.parent_session),
        "task_child": is_task_child(meta) and _parent_there(store, meta),  # listed under its parent instead
        "file": ref.path.name,
    }


def _parent_there(store: SessionStore, meta: SessionMetadata) -> bool:
    """Whether a child's tasks parent is still in the history (a child whose parent was deleted is listed)."""
    parent = meta.training_session.parent_session
    return isinstance(parent, str) and bool(ID_RE.match(parent)) and store.path_for_id(parent).exists()


def _tasks_label(meta: SessionMetadata) -> str:
    """A tasks parent's label cell: how many tasks (x languages) it trains."""
    entries = task_entries(meta)
    tasks = len({e.task for e in entries})
    models = f", {len(entries)} models" if len(entries) != tasks else ""
    return f"{tasks} task{'s' if tasks != 1 else ''}{models}"


def matches(row: dict[str, Any], *, status: str | None, model: str | None, dataset: str | None) -> bool:
    if row.get("error"):
        return status in (None, "unreadable") and model is None and dataset is None
    if status and row["status"] != status:
        return False
    if model and model.lower() not in (row["model"] or "").lower():
        return False
    return not (dataset and dataset.lower() not in (row["dataset"] or "").lower())


def list_rows(store: SessionStore, *, limit: int | None, status: str | None = None, model: str | None = None,
              dataset: str | None = None, children: bool = False) -> list[dict[str, Any]]:
    """Newest first, numbered by position in the whole history; stops parsing once ``limit`` rows matched. The
    children of a tasks run are left out (their parent is one row) unless ``children``.

    Files are ordered by the time in their names (no file is opened for that), so the 20 most recent of
    10,000 sessions cost 20 reads."""
    if limit is not None and limit < 1:
        raise SessionError(f"--limit must be at least 1, got {limit}")
    rows: list[dict[str, Any]] = []
    for ref in store.iter_refs():
        row = summary_row(store, ref)
        if row.get("task_child") and not children:
            continue
        if matches(row, status=status, model=model, dataset=dataset):
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    return rows


def flatten(meta: SessionMetadata, store: SessionStore) -> dict[str, Any]:
    """Every parameter as 'section.key' -> value, with the reconciled status; a setting the run has still to
    choose reads "auto" (older files hold a placeholder number there)."""
    from llm_tool.config.auto import AUTO, auto_state

    out: dict[str, Any] = {}
    data = meta.to_dict()
    data["model_config"] = {**data["model_config"],
                            **{k: AUTO for k, choice in auto_state(meta.model_config).items() if choice is None}}
    for section, values in data.items():
        if not isinstance(values, dict):
            out[section] = values
            continue
        for key, value in values.items():
            if isinstance(value, dict) and len(value) > 6:
                value = ", ".join(f"{k}: {v}" for k, v in list(value.items())[:8]) + (" ..." if len(value) > 8 else "")
            elif isinstance(value, (dict, list)):
                value = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else \
                    ", ".join(map(str, value))
            out[f"{section}.{key}"] = value
    out["execution_status.status"] = effective_status(store, meta)
    return out


COMPARE_SECTIONS = ("dataset_config", "model_config", "execution_status", "language_config")
COMPARE_SKIP = {"pid", "pid_create_time", "heartbeat", "host", "started_at", "completed_at", "category_distribution",
                "label_names", "primary_file_relative", "language_distribution", "segment_seconds", "resumed_at",
                "auto_settings", "best_model", "expected_seconds"}


def compare_rows(metas: list[SessionMetadata], store: SessionStore, *, everything: bool = False
                 ) -> dict[str, list[Any]]:
    """Settings, data (file, fingerprint, split, languages) and results side by side; only the rows that differ
    unless ``everything``."""
    keys: dict[str, None] = {}
    flats = []
    for meta in metas:
        flat = {k: v for k, v in flatten(meta, store).items()
                if k.split(".")[0] in COMPARE_SECTIONS and k.split(".", 1)[-1] not in COMPARE_SKIP}
        flats.append(flat)
        keys.update(dict.fromkeys(flat))
    rows = {key: [flat.get(key) for flat in flats] for key in keys}
    if everything:
        return rows
    return {key: values for key, values in rows.items() if len({json.dumps(v, default=str) for v in values}) > 1}


def saved_metrics(meta: SessionMetadata, store: SessionStore) -> dict[str, Any] | None:
    """The session's ``models/<id>/metrics.json`` (read bounded, as any file), or None when there is none."""
    from llm_tool import paths
    from llm_tool.errors import LlmToolError
    from llm_tool.model_folder import metrics_or_none

    try:
        return metrics_or_none(paths.session_model_dir(meta.session_id, store.home))
    except LlmToolError:  # not a session id: no folder of its own
        return None


def headline(meta: SessionMetadata, store: SessionStore, metrics: dict[str, Any] | None) -> dict[str, Any]:
    """What a researcher looks at first: status, scores (which split), duration, data, model, split, warnings."""
    status = meta.execution_status
    found = metrics or {}
    test: dict[str, Any] = found["test"] if isinstance(found.get("test"), dict) else {}
    validation: dict[str, Any] = found["validation"] if isinstance(found.get("validation"), dict) else {}
    dataset, model = meta.dataset_config, meta.model_config
    sizes = dataset.get("split_sizes") if isinstance(dataset.get("split_sizes"), dict) else {}
    return {
        "status": effective_status(store, meta),
        "reason": _text(status.extra.get("completion_reason") or status.interrupt_reason or status.error_message),
        "test_macro_f1": _number(test.get("macro_f1", status.test_f1)),
        "validation_macro_f1": _number(validation.get("macro_f1", status.best_f1)),
        "test_accuracy": _number(test.get("accuracy")),
        "duration_seconds": duration_seconds(meta),
        "segments": len(status.extra.get("segment_seconds") or []) or 1,
        "data": _text(dataset.get("primary_file")),
        "fingerprint": (_text(dataset.get("fingerprint_sha256")) or "")[:12] or None,
        "model": _text(model.get("selected_model")),
        "split": _text(dataset.get("split_method")),
        "split_sizes": " / ".join(str(sizes.get(k, "-")) for k in ("train", "validation", "test")) if sizes else None,
        "languages": ", ".join(map(str, meta.language_config.confirmed_languages or [])) or None,
        "warnings": [w.get("message") for w in status.extra.get("warnings") or [] if isinstance(w, dict)],
        "imported_fields": sorted(map(str, meta.extra.get("imported_fields") or {}))
        if isinstance(meta.extra.get("imported_fields"), dict) else [],
        "settings": settings_shown(model),
        "long_text": long_text_shown(model),
    }


def long_text_shown(model: dict[str, Any]) -> str | None:
    """How the run read texts past max_length, why, and its training windows (None before the run chose)."""
    used, why, windows = model.get("long_text_used"), model.get("long_text_reason"), model.get("windows")
    if not isinstance(used, str):
        return None
    text = used + (f" ({why})" if isinstance(why, str) else "")
    if isinstance(windows, dict):
        text += f"; {windows.get('windows')} training windows from {windows.get('texts')} texts, stride " \
                f"{model.get('chunk_stride_used')}, {windows.get('texts_capped')} texts thinned to the cap"
    return text


def settings_shown(model: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    """(setting, value that runs or ran, why the tool chose it) for the settings the tool may choose; the value is
    "auto" (why: None) while a pending session's run has still to choose it."""
    from llm_tool.config.auto import AUTO, AUTO_KEYS, auto_state
    from llm_tool.config.schema import DEFAULT_OPTIMIZER

    state = auto_state(model)
    out: list[tuple[str, Any, str | None]] = []
    for key in AUTO_KEYS:
        if key in state:
            choice = state[key]
            out.append((key, AUTO, None) if choice is None else (key, choice.value, choice.why or "chosen by the tool"))
        elif key in model:
            out.append((key, model[key], None))
    out.append(("optimizer", model.get("optimizer", DEFAULT_OPTIMIZER), None))  # older sessions: the default
    return out
