"""Export and import of shared sessions: a whitelist goes out; only settings come in, from any tool or version."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.config.schema import DATASET_RECORDED_KEYS
from llm_tool.data.hashing import file_sha256
from llm_tool.errors import SessionError
from llm_tool.sessions.create import create_session
from llm_tool.sessions.foreign import DATASET_FIELDS, MODEL_FIELDS, settings_of, unused_note
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.reference_tasks import is_llm_json, text_column_of
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.untrusted import read_json_file, shown

# What an export keeps (everything else, e.g. host, pids, heartbeat, supervisor and tmux records, the Python
# path, log and output paths, error texts naming local files, is left out).
EXPORTED = {
    "training_session": ("timestamp", "tool_version", "workflow", "session_id", "schema_version", "session_name",
                         "parent_session", "sweep_id", "imported_from", "notes"),
    "dataset_config": tuple(sorted(DATASET_FIELDS | (DATASET_RECORDED_KEYS - {"primary_file_relative",
                                                                             "training_files"}))),
    "model_config": tuple(sorted(MODEL_FIELDS | {"recommended_model", "num_labels", "max_length_used"})),
    "language_config": ("confirmed_languages", "language_distribution", "model_strategy", "detected_on_rows"),
    "text_analysis": ("text_length_stats", "requires_long_document_model"),
    "execution_status": ("status", "started_at", "completed_at", "models_trained", "best_f1", "test_f1",
                         "current_epoch", "total_steps", "duration_seconds", "train_samples_per_second"),
    "environment": ("torch", "transformers", "datasets", "device", "num_threads", "world_size"),
}
DATA_KEYS = ("primary_file", "validation_file", "test_file")


def export_session(store: SessionStore, path: Path) -> dict[str, Any]:
    """A shareable copy: only whitelisted fields, data and model paths relative to the home."""
    full = store.read(path).to_dict()
    data: dict[str, Any] = {section: {k: copy.deepcopy(full[section][k]) for k in keys if k in full.get(section, {})}
                            for section, keys in EXPORTED.items()}
    for key in DATA_KEYS:
        value = data["dataset_config"].get(key)
        if isinstance(value, str) and value:
            data["dataset_config"][key] = paths.relative_to_home(Path(value), store.home) or Path(value).name

    def portable_model(name: Any) -> Any:  # a model folder inside the home: relative to it; elsewhere: its name
        if isinstance(name, str) and Path(name).is_absolute():
            return paths.relative_to_home(Path(name), store.home) or Path(name).name
        return name

    data["model_config"]["selected_model"] = portable_model(data["model_config"].get("selected_model"))
    status = data["execution_status"]
    if isinstance(status.get("models_trained"), list):
        status["models_trained"] = [portable_model(name) for name in status["models_trained"]]
    data["output_paths"] = {}
    data["training_session"]["exported_at"] = now_iso()
    return data


def read_shared_file(path: Path) -> dict[str, Any]:
    """A session file to import: a regular UTF-8 JSON file of at most a few MiB holding an object."""
    data = read_json_file(path, SessionError, what="session file")
    if not isinstance(data, dict):
        raise SessionError(f"{shown(path.name)} does not hold a JSON object: not a session file")
    return data


def _text(value: Any, limit: int = 200) -> str | None:
    """A text field of a foreign file, kept only when it is plain text."""
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _data_candidates(dataset: dict[str, Any], home: Path) -> list[Path]:
    """Where the file's data may be here: its home-relative path first, then the path it names."""
    out = []
    keys: tuple[str, ...] = ("primary_file_relative", "primary_file")
    if is_llm_json(dataset):  # its primary_file is a file LLM_Tool derived; source_file is the user's own data
        keys = ("source_file", *keys)
    for key in keys:
        value = dataset.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        path = Path(value).expanduser()
        if path.is_absolute():
            out.append(path)
        elif paths.is_within(home / path, home):
            out.append(home / path)
        else:
            raise SessionError(f"the session's dataset_config.{key} ({shown(value)}) points outside {home}: "
                               "pass --dataset PATH")
    return out


def _choose_data(source: dict[str, Any], home: Path, warnings: list[str]) -> tuple[str, str | None]:
    """The data path to record, and the path to confirm before reading (data the file names outside the home)."""
    candidates = _data_candidates(source, home)
    if not candidates:
        raise SessionError("the session names no data file: pass --dataset PATH")
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        warnings.append(f"its data file {shown(str(candidates[0]))} is not in this home: pass --dataset PATH to "
                        "`sessions import`, or relaunch it with `llm-tool sessions relaunch ID --dataset PATH`")
        return str(candidates[0]), None
    if not paths.is_within(found, home):
        warnings.append(f"its data file {shown(str(found))} lies outside this home: relaunching asks before "
                        "reading it (or pass --dataset PATH)")
        return str(found), str(found.resolve())
    return str(found), None


def _check_other_paths(raw: dict[str, Any], home: Path) -> None:
    """Relative validation/test paths and model folders of a foreign file are taken from the home, inside it."""
    for key in ("validation_file", "test_file"):
        value = raw["dataset_config"].get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute() \
                and not paths.is_within(home / value, home):
            raise SessionError(f"the session's dataset_config.{key} ({shown(value)}) points outside {home}")
    model = raw["model_config"].get("selected_model")
    if isinstance(model, str) and not Path(model).is_absolute() and (home / model).is_dir():
        if not paths.is_within(home / model, home):
            raise SessionError(f"the session's model_config.selected_model ({shown(model)}) points outside {home}")
        raw["model_config"]["selected_model"] = str((home / model).resolve())


def import_session(store: SessionStore, data: dict[str, Any], *, base_dir: Path, dataset: Path | None = None,
                   warnings: list[str] | None = None) -> Path:
    """Add a shared session (ours, older, or the reference tool's) as a new pending session; nothing is run.

    Only settings that map onto dataset_config/model_config are taken, each validated; other sections are kept
    aside as ``imported_fields`` and never used; ids, output paths and machine fields of the file are ignored."""
    warnings = warnings if warnings is not None else []
    if not isinstance(data, dict) or not any(isinstance(data.get(k), dict) for k in ("dataset_config", "model_config")):
        raise SessionError("not a session file: it has no dataset_config or model_config section")
    source_status: dict[str, Any] = data["execution_status"] if isinstance(data.get("execution_status"), dict) else {}
    original_status = _text(source_status.get("status"), 40)
    foreign = settings_of(data)
    raw = foreign.raw
    source_dataset: dict[str, Any] = data["dataset_config"] if isinstance(data.get("dataset_config"), dict) else {}
    expected = source_dataset.get("fingerprint_sha256")
    confirm: str | None = None
    if dataset is not None:
        if not dataset.is_file():
            raise SessionError(f"--dataset {shown(str(dataset))} is not a file")
        raw["dataset_config"]["primary_file"] = str(dataset.resolve())
        raw["dataset_config"].pop("format", None)  # the new file's format (its extension), not the old file's
    else:
        raw["dataset_config"]["primary_file"], confirm = _choose_data(source_dataset, store.home, warnings)
    _check_other_paths(raw, store.home)
    if is_llm_json(source_dataset):
        column = text_column_of(Path(raw["dataset_config"]["primary_file"]), raw["dataset_config"].get("text_column"))
        if column:
            raw["dataset_config"]["text_column"] = column
    meta = SessionMetadata.from_dict(data)
    origin = _text(meta.session_id) or "unknown"
    old_notes = meta.training_session.notes if isinstance(meta.training_session.notes, list) else []
    notes = [n[:2000] for n in old_notes[:100] if isinstance(n, str)] + [f"imported from {origin} on {now_iso()}"]
    warnings.extend(foreign.notes)
    if foreign.unused:
        warnings.append(unused_note(foreign.unused))
        notes.append(unused_note(foreign.unused, limit=30))
    new_path, _ = create_session(store, raw, base_dir=base_dir, notes=notes,
                                 workflow=_text(meta.training_session.workflow))
    primary = Path(store.read(new_path).dataset_config["primary_file"])
    keep_fingerprint = isinstance(expected, str) and re.fullmatch(r"[0-9a-f]{64}", expected) is not None
    if keep_fingerprint and primary.is_file() and file_sha256(primary) != expected:
        warnings.append(f"{shown(str(primary))} is not the data {shown(origin)} was trained on (sha256 differs): "
                        "results may differ")
        keep_fingerprint = dataset is None  # a file chosen with --dataset is accepted as it is (warned once)
    source = meta.execution_status

    def keep_results(target: SessionMetadata) -> None:
        target.training_session.imported_from = origin
        if confirm:
            target.training_session.extra["unconfirmed_data_file"] = confirm
        if keep_fingerprint:
            target.dataset_config["fingerprint_sha256"] = expected  # relaunch warns if the local data differs
        target.execution_status.extra["imported_results"] = {
            "status": original_status,
            "best_f1": source.best_f1 if isinstance(source.best_f1, (int, float)) else None,
            "test_f1": source.test_f1 if isinstance(source.test_f1, (int, float)) else None}
        if foreign.kept:
            target.extra["imported_fields"] = foreign.kept
    store.update(new_path, keep_results)
    return new_path


def unconfirmed_data(meta: SessionMetadata) -> str | None:
    """The data file outside the home that an imported session names and nobody confirmed yet, if it still uses it."""
    pending = meta.training_session.extra.get("unconfirmed_data_file")
    current = meta.dataset_config.get("primary_file")
    if isinstance(pending, str) and isinstance(current, str) and Path(current).resolve() == Path(pending):
        return pending
    return None
