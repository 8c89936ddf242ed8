"""Score a trained model on a labelled file with the training metrics; find a model from a session reference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.errors import DatasetError, ModelError, SessionError
from llm_tool.model_folder import CONFIG_FILE, DEFAULT_THRESHOLD, metrics_or_none
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.store import ID_RE, SessionStore

MAX_RECORDED = 100  # evaluations kept in a session file (the newest)


@dataclass
class ModelRef:
    model_dir: Path
    session_path: Path | None  # None: a folder no session of this home owns


def resolve_model(store: SessionStore, ref: str | Path) -> ModelRef:
    """A model folder path, or a session number, id or name whose saved model is still there."""
    candidate = Path(str(ref)).expanduser()
    if candidate.is_dir():
        if not (candidate / CONFIG_FILE).exists():
            raise ModelError(f"{candidate} is not a trained model folder (no config.json): give models/<session_id>")
        session = store.path_for_id(candidate.name) if ID_RE.match(candidate.name) else None
        owned = session is not None and session.exists() and \
            store.output_dirs(store.read(session))[0].resolve() == candidate.resolve()
        return ModelRef(candidate.resolve(), session if owned else None)
    if str(ref).strip().lower() == "latest":
        found = newest_with_model(store)
        if found is None:
            raise SessionError("no session has a saved model yet: train one (`llm-tool train CONFIG`), or see "
                               "`llm-tool sessions list`")
        return ModelRef(store.output_dirs(found[1])[0], found[0])
    path = store.resolve(str(ref))
    meta = store.read(path)
    model_dir = store.output_dirs(meta)[0]
    if not (model_dir / CONFIG_FILE).exists():
        which = f"#{ref.strip()} " if isinstance(ref, str) and ref.strip().isdigit() else ""
        found = newest_with_model(store)
        hint = (f"the newest session with one is #{_number(store, found[0])} (give that number, or `latest`)"
                if found else "no session has one yet (`llm-tool sessions list`)")
        raise SessionError(f"session {which}{meta.session_id} ({effective_status(store, meta)}) has no saved model "
                           f"yet: {hint}")
    return ModelRef(model_dir, path)


def newest_with_model(store: SessionStore) -> tuple[Path, Any] | None:
    """The newest session whose saved model is there, completed ones first (a stopped run can have saved one)."""
    fallback = None
    for entry in store.iter_refs():
        meta = entry.metadata
        if meta is None or not (store.output_dirs(meta)[0] / CONFIG_FILE).exists():
            continue
        if effective_status(store, meta) == "completed":
            return entry.path, meta
        fallback = fallback or (entry.path, meta)
    return fallback


def _number(store: SessionStore, path: Path) -> int:
    return store.names_newest_first().index(path.name) + 1


def session_columns(store: SessionStore, ref: ModelRef) -> dict[str, Any]:
    """The text/label columns the session was trained with (defaults for evaluating another file)."""
    if ref.session_path is None:
        return {}
    data = store.read(ref.session_path).dataset_config
    return {k: data[k] for k in ("text_column", "label_column", "label_columns", "label_separator") if data.get(k)}


def read_labelled(path: Path, labels: list[str], multi: bool, text_column: str, label_column: str | None,
                  label_columns: list[str] | None = None, label_separator: str | None = None) -> Any:
    """Texts and labels of ``path`` (same parsing as training); labels the model does not know are an error."""
    from llm_tool.config import DatasetConfig
    from llm_tool.data.formats import read_table
    from llm_tool.data.labels import extract, label_counts

    if not path.is_file():
        raise DatasetError(f"data file not found: {path}")
    cfg = DatasetConfig(primary_file=str(path), text_column=text_column, label_column=label_column,
                        label_columns=label_columns if multi else None, label_separator=label_separator,
                        strategy="multi-label" if multi else "single-label")
    rows = extract(read_table(path), cfg, path.name)
    unknown = sorted(set(label_counts(rows.labels, multi)) - set(labels))
    if unknown:
        shown = ", ".join(repr(u[:60]) for u in unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10
                                                                else "")
        raise DatasetError(f"{path.name} has labels the model does not know: {shown}; the model knows "
                           f"{', '.join(labels[:20])}. Remove or rename those rows")
    if not rows.texts:
        raise DatasetError(f"{path.name} has no rows to evaluate")
    return rows


def session_languages(store: SessionStore, ref: ModelRef) -> list[str] | None:
    """The languages the session's data analysis confirmed (None without a session: see ``trained_languages``)."""
    if ref.session_path is None:
        return None
    confirmed = store.read(ref.session_path).language_config.confirmed_languages
    return [c for c in confirmed if isinstance(c, str)] if isinstance(confirmed, list) else []


def trained_languages(model_dir: Path) -> list[str]:
    """The languages the model's own results were broken down by (its metrics.json), for a folder without session."""
    metrics = metrics_or_none(model_dir) or {}
    found: dict[str, None] = {}
    for split in ("validation", "test"):
        section = metrics.get(split) if isinstance(metrics, dict) else None
        languages = section.get("per_language") if isinstance(section, dict) else None
        if isinstance(languages, dict):
            found.update(dict.fromkeys(c for c in languages if isinstance(c, str) and c != OTHER))
    return list(found)


OTHER = "other"  # texts detected in a language the training data analysis did not confirm


def fold_languages(codes: list[str], confirmed: list[str]) -> list[str]:
    """Each text's language when the training analysis confirmed it, else 'other' (a few tweets read as Latin
    or Tagalog do not get rows of their own)."""
    known = {c.upper() for c in confirmed}
    return [code if code.upper() in known else OTHER for code in codes]


def evaluate_file(model_dir: Path, data_file: Path, *, text_column: str = "text", label_column: str | None = "label",
                  label_columns: list[str] | None = None, label_separator: str | None = None,
                  languages: list[str] | None = None, backend: str = "auto") -> dict[str, Any]:
    """Every metric of metrics.json for ``data_file`` ('evaluation', plus 'evaluation_tuned' with tuned thresholds),
    per-language metrics when training confirmed several languages (``languages``; by default those of the model's
    metrics.json) with every other language as 'other', and each row's true and predicted labels."""
    from llm_tool.data.hashing import file_sha256
    from llm_tool.results.languages import detect_each, per_language
    from llm_tool.results.metrics import full_report, predictions
    from llm_tool.results.thresholds import threshold_vector
    from llm_tool.training.inference import Predictor

    predictor = Predictor(model_dir, backend=backend)
    names, multi = list(predictor.labels), predictor.multi_label
    rows = read_labelled(data_file, names, multi, text_column, label_column, label_columns, label_separator)
    y = _encode(rows.labels, names, multi)
    runner = predictor.open(len(rows.texts))
    logits = predictor.logits(rows.texts)
    tuned = threshold_vector(predictor.thresholds, names)
    result: dict[str, Any] = {
        "kind": "llm-tool evaluation", "evaluated_at": datetime.now().isoformat(timespec="seconds"),
        "model_dir": str(model_dir), "model": model_dir.name, "data_file": data_file.name, "data_path": str(data_file),
        "fingerprint_sha256": file_sha256(data_file), "text_column": text_column, "label_column": label_column,
        "labels": names, "multi_label": multi, "evaluation": full_report(logits, y, names, multi),
        "inference": {"backend": runner.name, "bf16": bool(getattr(runner, "bf16", False))},
    }
    if tuned is not None:
        result["thresholds"] = {"values": predictor.thresholds, "tuned_on": "validation", "default": DEFAULT_THRESHOLD}
        result["evaluation_tuned"] = full_report(logits, y, names, multi, thresholds=tuned)
    confirmed = trained_languages(model_dir) if languages is None else languages
    codes = fold_languages(detect_each(rows.texts), confirmed) if len(confirmed) >= 2 else []
    for key, cut in (("evaluation", None), ("evaluation_tuned", tuned)):
        if key in result and codes:
            found = per_language(y, predictions(logits, multi, cut), codes)
            if len(found) >= 2:
                result[key]["per_language"] = found
    chosen = predictions(logits, multi, tuned)
    result["predictions"] = [{"row": int(n), "true": _names(t, names, multi), "predicted": _names(p, names, multi)}
                             for n, t, p in zip(rows.row_numbers, y, chosen, strict=False)]
    return result


def _encode(labels: list[Any], names: list[str], multi: bool) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    if not multi:
        return np.asarray([index[label] for label in labels], dtype=np.int64)
    matrix = np.zeros((len(labels), len(names)), dtype=np.int64)
    for i, row in enumerate(labels):
        for label in row:
            matrix[i, index[label]] = 1
    return matrix


def _names(row: Any, names: list[str], multi: bool) -> list[str]:
    if multi:
        return [names[j] for j, on in enumerate(row) if on]
    return [names[int(row)]]


def save_evaluation(store: SessionStore, ref: ModelRef, result: dict[str, Any]) -> Path:
    """``<model>/evaluations/<data-stem>_<timestamp>.json``, and a summary in the session's 'evaluations' list."""
    import json

    from llm_tool import outputs

    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(result["data_file"]).stem)[:60].strip("._") or "data"
    folder = ref.model_dir / "evaluations"
    path = folder / f"{stem}_{datetime.now().strftime('%Y%m%d_%H%M%S_%f')}.json"
    text = json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n"
    outputs.write_text(path, text, outputs.Rules(owned=folder))  # never through a link planted in the model folder
    if ref.session_path is not None:
        summary = {"evaluated_at": result["evaluated_at"], "data_file": result["data_file"],
                   "fingerprint_sha256": result["fingerprint_sha256"],
                   "num_samples": result["evaluation"]["num_samples"],
                   "accuracy": result["evaluation"]["accuracy"], "macro_f1": result["evaluation"]["macro_f1"],
                   "macro_f1_tuned": (result.get("evaluation_tuned") or {}).get("macro_f1"), "file": str(path)}
        record_evaluation(store, ref.session_path, summary)
    return path


def record_evaluation(store: SessionStore, session_path: Path, summary: dict[str, Any]) -> None:
    """Append ``summary`` to the session's ``evaluations`` (the newest MAX_RECORDED are kept)."""
    def apply(meta: Any) -> None:
        recorded = meta.extra.get("evaluations")
        recorded = recorded if isinstance(recorded, list) else []
        meta.extra["evaluations"] = ([*recorded, summary])[-MAX_RECORDED:]
    store.update(session_path, apply)
