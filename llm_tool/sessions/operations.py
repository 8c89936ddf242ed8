"""Session actions behind the commands: relaunch config, export/import (portable and safe), note, delete, clean."""

from __future__ import annotations

import copy
import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.config import apply_overrides, parse_config
from llm_tool.data.hashing import file_sha256
from llm_tool.errors import SessionError
from llm_tool.sessions.create import create_session
from llm_tool.sessions.lifecycle import effective_status, now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore

SETTINGS_ONLY = ("dataset_config", "model_config")


def locate_dataset(meta: SessionMetadata, home: Path) -> tuple[Path | None, str | None]:
    """The session's data file (absolute path, else relative to the home) and a warning when moved or changed."""
    dataset = meta.dataset_config
    candidates = []
    if dataset.get("primary_file"):
        candidates.append(Path(dataset["primary_file"]))
    if dataset.get("primary_file_relative"):
        candidates.append(home / dataset["primary_file_relative"])
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        return None, (f"the data file {dataset.get('primary_file')!r} is not there any more: "
                      "give its new location with --dataset PATH")
    expected = dataset.get("fingerprint_sha256")
    if expected and file_sha256(found) != expected:
        return found, (f"the data file {found} changed since the session ran (sha256 differs): "
                       "results may differ; pass --dataset to confirm another file")
    return found, None


def relaunch_config(store: SessionStore, path: Path, *, dataset: Path | None = None,
                    sets: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The settings of a session as a new config (recorded analysis dropped), and warnings to show."""
    meta = store.read(path)
    raw = {section: copy.deepcopy(getattr(meta, section)) for section in SETTINGS_ONLY}
    warnings: list[str] = []
    if dataset is not None:
        if not dataset.is_file():
            raise SessionError(f"--dataset {dataset} is not a file")
        raw["dataset_config"]["primary_file"] = str(dataset.resolve())
    else:
        found, warning = locate_dataset(meta, store.home)
        if found is None:
            raise SessionError(warning or "data file not found")
        raw["dataset_config"]["primary_file"] = str(found)
        if warning:
            warnings.append(warning)
    raw = apply_overrides(raw, sets or [])
    config = parse_config(raw)  # validates: unknown keys and bad values fail here
    return {"dataset_config": dataclasses.asdict(config.dataset),
            "model_config": dataclasses.asdict(config.model)}, warnings


def relaunch(store: SessionStore, path: Path, *, dataset: Path | None = None, sets: list[str] | None = None,
             session_name: str | None = None) -> tuple[Path, list[str]]:
    parent = store.read(path).session_id
    raw, warnings = relaunch_config(store, path, dataset=dataset, sets=sets)
    new_path, _ = create_session(store, raw, base_dir=store.home, session_name=session_name, parent=parent)
    return new_path, warnings


def check_resumable(store: SessionStore, path: Path) -> SessionMetadata:
    meta = store.read(path)
    status = effective_status(store, meta)
    if status == "completed":
        raise SessionError(f"{meta.session_id} already completed: `llm-tool sessions relaunch {meta.session_id}` "
                           "starts a new run with the same settings")
    if status == "running":
        raise SessionError(f"{meta.session_id} is still running (pid {meta.execution_status.pid})")
    return meta


def export_session(store: SessionStore, path: Path) -> dict[str, Any]:
    """A shareable copy: data paths relative to the home, machine-specific fields removed."""
    meta = store.read(path)
    data = meta.to_dict()
    dataset = data["dataset_config"]
    for key in ("primary_file", "validation_file", "test_file"):
        value = dataset.get(key)
        if value:
            relative = paths.relative_to_home(Path(value), store.home)
            dataset[key] = relative or Path(value).name
    dataset.pop("primary_file_relative", None)
    status = data["execution_status"]
    for key in ("pid", "pid_create_time", "host", "heartbeat", "last_checkpoint", "best_model"):
        status.pop(key, None)
    data["output_paths"] = {}
    data["training_session"]["exported_at"] = now_iso()
    return data


def import_session(store: SessionStore, data: dict[str, Any], *, base_dir: Path, dataset: Path | None = None) -> Path:
    """Add a shared session to the history as a new pending session (nothing is run or loaded)."""
    if not isinstance(data, dict) or "dataset_config" not in data:
        raise SessionError("not a session file: it has no dataset_config section")
    meta = SessionMetadata.from_dict(data)
    raw = {section: copy.deepcopy(getattr(meta, section)) for section in SETTINGS_ONLY}
    raw["dataset_config"].pop("primary_file_relative", None)
    if dataset is not None:
        raw["dataset_config"]["primary_file"] = str(dataset.resolve())
    primary = raw["dataset_config"].get("primary_file")
    if not primary:
        raise SessionError("the session names no data file: pass --dataset PATH")
    origin = meta.session_id or "unknown"
    notes = list(meta.training_session.notes) + [f"imported from {origin} on {now_iso()}"]
    new_path, _ = create_session(store, raw, base_dir=base_dir, notes=notes,
                                 workflow=meta.training_session.workflow or None)

    def keep_results(target: SessionMetadata) -> None:
        target.training_session.imported_from = origin
        source = meta.execution_status
        target.execution_status.extra["imported_results"] = {
            "status": source.status, "best_f1": source.best_f1, "test_f1": source.test_f1}
    store.update(new_path, keep_results)
    return new_path


def add_note(store: SessionStore, path: Path, text: str) -> None:
    store.update(path, lambda m: m.training_session.notes.append(f"{now_iso()} {text}"))


def delete_session(store: SessionStore, path: Path, *, with_model: bool = False) -> None:
    meta = store.read(path)
    if effective_status(store, meta) == "running":
        raise SessionError(f"{meta.session_id} is running: stop it first")
    store.delete(path)
    store.log_path(meta.session_id).unlink(missing_ok=True)
    if with_model and meta.output_paths.model_dir:
        model_dir = Path(meta.output_paths.model_dir)
        if paths.is_within(model_dir, paths.models_dir(store.home)):
            shutil.rmtree(model_dir, ignore_errors=True)


def sessions_older_than(store: SessionStore, days: float) -> list[Path]:
    cutoff = time.time() - days * 86400
    out = []
    for path in store.files_newest_first():
        try:
            if path.stat().st_mtime < cutoff:
                out.append(path)
        except FileNotFoundError:
            continue
    return out
