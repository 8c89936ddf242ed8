"""Session actions behind the commands: relaunch config, note, delete, clean (export/import: sharing.py)."""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.atomic import is_locked
from llm_tool.config import apply_overrides, parse_config
from llm_tool.config.auto import chosen_settings
from llm_tool.config.presets import BUDGET_REASON
from llm_tool.data.hashing import file_sha256
from llm_tool.errors import ConfirmationNeeded, SessionError
from llm_tool.sessions.create import create_session
from llm_tool.sessions.lifecycle import effective_status, now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore, session_id_for
from llm_tool.untrusted import quoted, shown

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
        return None, (f"the data file {quoted(dataset.get('primary_file'))} is not there any more: "
                      "give its new location with --dataset PATH")
    expected = dataset.get("fingerprint_sha256")
    if expected and file_sha256(found) != expected:
        return found, (f"the data file {shown(str(found))} changed since the session ran (sha256 differs): "
                       "results may differ; pass --dataset to confirm another file")
    return found, None


def require_confirmed_data(meta: SessionMetadata, confirmed: bool) -> None:
    """An imported session whose data file lies outside the home reads it only once the user agreed."""
    from llm_tool.sessions.sharing import unconfirmed_data

    outside = unconfirmed_data(meta)
    if outside and not confirmed:
        raise ConfirmationNeeded(
            f"{meta.session_id} was imported and names the data file {shown(outside)}, outside this home: pass "
            "--dataset PATH to choose the data, or --yes to read that file",
            question=f"{meta.session_id} was imported; read its data file {shown(outside)} (outside this home)?")


def relaunch_config(store: SessionStore, path: Path, *, dataset: Path | None = None,
                    sets: list[str] | None = None, confirmed: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The settings of a session as a new config (recorded analysis dropped), and warnings to show."""
    meta = store.read(path)
    if dataset is None:
        require_confirmed_data(meta, confirmed)
    raw = {section: copy.deepcopy(getattr(meta, section)) for section in SETTINGS_ONLY}
    warnings: list[str] = []
    if dataset is not None:
        if not dataset.is_file():
            raise SessionError(f"--dataset {shown(str(dataset))} is not a file")
        if str(dataset.resolve()) != raw["dataset_config"].get("primary_file"):
            raw["dataset_config"].pop("format", None)  # another file: its own format, not the recorded one's
        raw["dataset_config"]["primary_file"] = str(dataset.resolve())
    else:
        found, warning = locate_dataset(meta, store.home)
        if found is None:
            raise SessionError(warning or "data file not found")
        raw["dataset_config"]["primary_file"] = str(found)
        if warning:
            warnings.append(warning)
    _keep_numerics(raw["model_config"], meta)
    _repeat_choices(raw["model_config"], meta)
    raw = apply_overrides(raw, sets or [])
    config = parse_config(raw)  # validates: unknown keys and bad values fail here
    return config.to_sections(), warnings


def _repeat_choices(model: dict[str, Any], meta: SessionMetadata) -> None:
    """A relaunch runs the values the session's run chose for its automatic settings (recorded with their
    reasons), not a new choice (`--set model_config.learning_rate=auto` lets the tool choose again). A session
    that never chose (pending) stays "auto"; older files work the same, their chosen values are recorded alike."""
    chosen = chosen_settings(meta.model_config)
    for key, choice in chosen.items():
        model[key] = choice.value
    if isinstance(model.get("auto"), list):
        model["auto"] = [key for key in model["auto"] if key not in chosen]


def _keep_numerics(model: dict[str, Any], meta: SessionMetadata) -> None:
    """A relaunch repeats the precision, attention kernels and step cuts the run used where its config left them to
    "auto" (`--set model_config.precision=auto` lets this machine choose again). Runs from before they were recorded ran
    fp32 on a CPU."""
    env = meta.environment
    used = env.precision or ("fp32" if env.device == "cpu" else None)
    if model.get("precision", "auto") == "auto" and used in ("fp32", "bf16", "fp16"):
        model["precision"] = used
    if model.get("attention", "auto") == "auto" and env.attention in ("sdpa", "eager"):
        model["attention"] = env.attention
    if model.get("word_embeddings", "auto") == "auto" and env.word_embeddings in ("train", "frozen"):
        model["word_embeddings"] = env.word_embeddings
    if model.get("dropout", "auto") == "auto" and env.dropout in ("model", "off"):
        model["dropout"] = env.dropout


def relaunch(store: SessionStore, path: Path, *, dataset: Path | None = None, sets: list[str] | None = None,
             session_name: str | None = None, confirmed: bool = False,
             workflow: str | None = None) -> tuple[Path, list[str]]:
    """A new session with ``path``'s settings; ``workflow`` names where it was started (the CLI, the studio)."""
    parent = store.read(path).session_id
    raw, warnings = relaunch_config(store, path, dataset=dataset, sets=sets, confirmed=confirmed)
    new_path, _ = create_session(store, raw, base_dir=store.home, session_name=session_name, parent=parent,
                                 workflow=workflow)
    return new_path, warnings


def check_resumable(store: SessionStore, path: Path) -> SessionMetadata:
    meta = store.read(path)
    status = effective_status(store, meta)
    if status == "completed" and meta.execution_status.extra.get("completion_reason") != BUDGET_REASON:
        raise SessionError(f"{meta.session_id} already completed: `llm-tool sessions relaunch {meta.session_id}` "
                           "starts a new run with the same settings")
    if status == "running":
        raise SessionError(f"{meta.session_id} is still running (pid {meta.execution_status.pid})")
    return meta


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
        if not os.path.lexists(path):  # a dangling link is deleted like any unreadable file
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
