"""Session actions behind the commands: relaunch config, export/import (portable and safe), note, delete, clean."""

from __future__ import annotations

import copy
import dataclasses
import re
import time
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.config import apply_overrides, parse_config
from llm_tool.data.hashing import file_sha256
from llm_tool.errors import SessionError
from llm_tool.sessions.atomic import is_locked
from llm_tool.sessions.create import create_session
from llm_tool.sessions.lifecycle import effective_status, now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore, session_id_for

SETTINGS_ONLY = ("dataset_config", "model_config")


def locate_dataset(meta: SessionMetadata, home: Path) -> tuple[Path | None, str | None]:
    """The session's data file (absolute path, else relative to the home) and a warning when moved or changed."""
    dataset = meta.dataset_config
    candidates = []
    if isinstance(dataset.get("primary_file"), str) and dataset["primary_file"]:
        candidates.append(Path(dataset["primary_file"]).expanduser())
    if isinstance(dataset.get("primary_file_relative"), str) and dataset["primary_file_relative"]:
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

    def portable_model(name: Any) -> Any:  # a model folder inside the home: relative to it
        if isinstance(name, str) and Path(name).is_absolute():
            return paths.relative_to_home(Path(name), store.home) or name
        return name

    data["model_config"]["selected_model"] = portable_model(data["model_config"].get("selected_model"))
    status = data["execution_status"]
    if isinstance(status.get("models_trained"), list):
        status["models_trained"] = [portable_model(name) for name in status["models_trained"]]
    for key in ("pid", "pid_create_time", "host", "heartbeat", "last_checkpoint", "best_model"):
        status.pop(key, None)
    data["output_paths"] = {}
    data["training_session"]["exported_at"] = now_iso()
    return data


def _imported_text(value: Any, limit: int = 200) -> str | None:
    """A text field of a foreign file, kept only when it is plain text."""
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _check_imported_paths(raw: dict[str, Any], home: Path, explicit: set[str]) -> None:
    """Relative data paths of a foreign file are taken from the home and must stay inside it."""
    dataset = raw["dataset_config"]
    for key in ("primary_file", "validation_file", "test_file"):
        value = dataset.get(key)
        if key in explicit or not value:
            continue
        if not isinstance(value, str):
            raise SessionError(f"the session's dataset_config.{key} is not a path: {value!r}")
        path = Path(value).expanduser()
        if not path.is_absolute() and not paths.is_within(home / path, home):
            hint = ": pass --dataset PATH" if key == "primary_file" else ""
            raise SessionError(f"the session's dataset_config.{key} ({value!r}) points outside {home}{hint}")
    model = raw["model_config"].get("selected_model")
    if isinstance(model, str) and not Path(model).is_absolute() and (home / model).is_dir():
        if not paths.is_within(home / model, home):
            raise SessionError(f"the session's model_config.selected_model ({model!r}) points outside {home}")
        raw["model_config"]["selected_model"] = str((home / model).resolve())


def import_session(store: SessionStore, data: dict[str, Any], *, base_dir: Path, dataset: Path | None = None,
                   warnings: list[str] | None = None) -> Path:
    """Add a shared session to the history as a new pending session (nothing is run or loaded).

    Only the settings (dataset_config, model_config) are taken, validated like a config; ids, output
    paths and any other key of the file are never used, so it cannot name where to write or what to run."""
    if not isinstance(data, dict) or not isinstance(data.get("dataset_config"), dict):
        raise SessionError("not a session file: it has no dataset_config section")
    meta = SessionMetadata.from_dict(data)
    raw = {section: copy.deepcopy(getattr(meta, section)) for section in SETTINGS_ONLY}
    raw["dataset_config"].pop("primary_file_relative", None)
    expected = raw["dataset_config"].get("fingerprint_sha256")
    explicit: set[str] = set()
    if dataset is not None:
        if not dataset.is_file():
            raise SessionError(f"--dataset {dataset} is not a file")
        raw["dataset_config"]["primary_file"] = str(dataset.resolve())
        explicit.add("primary_file")
    if not raw["dataset_config"].get("primary_file"):
        raise SessionError("the session names no data file: pass --dataset PATH")
    _check_imported_paths(raw, store.home, explicit)
    origin = _imported_text(meta.session_id) or "unknown"
    old_notes = meta.training_session.notes if isinstance(meta.training_session.notes, list) else []
    notes = [n[:2000] for n in old_notes if isinstance(n, str)] + [f"imported from {origin} on {now_iso()}"]
    workflow = _imported_text(meta.training_session.workflow)
    new_path, _ = create_session(store, raw, base_dir=base_dir, notes=notes, workflow=workflow)
    source = meta.execution_status
    primary = Path(store.read(new_path).dataset_config["primary_file"])
    keep_fingerprint = isinstance(expected, str) and re.fullmatch(r"[0-9a-f]{64}", expected) is not None
    if keep_fingerprint and primary.is_file() and file_sha256(primary) != expected:
        if warnings is not None:
            warnings.append(f"{primary} is not the data {origin} was trained on (sha256 differs): "
                            "results may differ")
        keep_fingerprint = dataset is None  # a file chosen with --dataset is accepted as it is (warned once)

    def keep_results(target: SessionMetadata) -> None:
        target.training_session.imported_from = origin
        if keep_fingerprint:
            target.dataset_config["fingerprint_sha256"] = expected  # relaunch warns if the local data differs
        target.execution_status.extra["imported_results"] = {
            "status": _imported_text(source.status, 20),
            "best_f1": source.best_f1 if isinstance(source.best_f1, (int, float)) else None,
            "test_f1": source.test_f1 if isinstance(source.test_f1, (int, float)) else None}
    store.update(new_path, keep_results)
    return new_path


def add_note(store: SessionStore, path: Path, text: str) -> None:
    if not text.strip():
        raise SessionError("the note is empty")

    def append(meta: SessionMetadata) -> None:
        info = meta.training_session
        if not isinstance(info.notes, list):  # a file written by another tool: keep what it had
            info.notes = [] if info.notes in (None, "") else [info.notes]
        info.notes.append(f"{now_iso()} {text}")
    store.update(path, append)


def delete_session(store: SessionStore, path: Path, *, with_model: bool = False) -> None:
    """Delete a session's metadata and log (and model folder if asked); an unreadable file can be deleted too."""
    try:
        meta: SessionMetadata | None = store.read(path)
    except SessionError:
        if not path.exists():
            raise
        meta = None
    sid = meta.session_id if meta else session_id_for(path)
    if (meta and effective_status(store, meta) == "running") or is_locked(store.run_lock_path(sid)):
        raise SessionError(f"{sid} is running: stop it first")
    store.delete(path)
    store.log_path(sid).unlink(missing_ok=True)
    if with_model:  # models/<id>, from the id alone: never a folder the file names
        paths.remove_session_tree(paths.session_model_dir(sid, store.home), sid, store.home, whole=True)


def clean_candidates(store: SessionStore, days: float) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Sessions older than ``days`` that can be deleted, and those kept with the reason (unreadable, running)."""
    old, kept = [], []
    for path in sessions_older_than(store, days):
        try:
            meta = store.read(path)
        except SessionError as exc:
            kept.append((path, f"kept: {exc}"))  # never drop a file nobody can read
            continue
        if effective_status(store, meta) == "running":
            kept.append((path, f"kept: {meta.session_id} is running"))
            continue
        old.append(path)
    return old, kept


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
