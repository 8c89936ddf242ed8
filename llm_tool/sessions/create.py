"""Create a pending session from a config (new run, relaunch or import): paths made absolute and portable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool import __version__, paths
from llm_tool.config import TrainingConfig, parse_config
from llm_tool.config.slurm import SECTION as SLURM_SECTION
from llm_tool.config.slurm import options_from_section
from llm_tool.config.slurm_seal import seal
from llm_tool.errors import ConfigError
from llm_tool.model_folder import metrics_path
from llm_tool.sessions.schema import SCHEMA_VERSION, SessionMetadata
from llm_tool.sessions.store import ID_RE, SessionStore

PATH_KEYS = ("primary_file", "validation_file", "test_file")
WORKFLOWS = {"quick": "Training Studio - Quick", "custom": "Training Studio - Custom",
             "benchmark": "Training Studio - Benchmark"}


def absolutise_paths(dataset_config: dict[str, Any], base_dir: Path, home: Path) -> dict[str, Any]:
    """Data paths made absolute (relative ones are taken from ``base_dir``), plus the primary file relative to home."""
    out = dict(dataset_config)
    for key in PATH_KEYS:
        value = out.get(key)
        if value:
            path = Path(value).expanduser()
            out[key] = str((path if path.is_absolute() else base_dir / path).resolve())
    out["primary_file_relative"] = paths.relative_to_home(Path(out["primary_file"]), home)
    return out


@dataclass(frozen=True)
class CreatedSession:
    """A new pending session: its file, its metadata exactly as written (pass it down instead of reading the file
    again), and the config it was made from."""

    path: Path
    meta: SessionMetadata
    config: TrainingConfig


def create_session(store: SessionStore, raw: dict[str, Any], *, base_dir: Path, session_name: str | None = None,
                   parent: str | None = None, sweep_id: str | None = None, notes: list[str] | None = None,
                   workflow: str | None = None) -> tuple[Path, TrainingConfig]:
    """Validate ``raw`` (a config or a session file) and write a new pending session for it."""
    created = create_pending(store, raw, base_dir=base_dir, session_name=session_name, parent=parent,
                             sweep_id=sweep_id, notes=notes, workflow=workflow)
    return created.path, created.config


def create_pending(store: SessionStore, raw: dict[str, Any], *, base_dir: Path, session_name: str | None = None,
                   parent: str | None = None, sweep_id: str | None = None, notes: list[str] | None = None,
                   workflow: str | None = None) -> CreatedSession:
    """``create_session``, returning the metadata written too (one write, no read)."""
    config = parse_config(raw)
    if session_name is not None:
        if not session_name.strip() or len(session_name) > 100:
            raise ConfigError("--session-name must be 1 to 100 characters")
        if session_name.strip().isdigit() or ID_RE.match(session_name.strip()):
            raise ConfigError(f"--session-name {session_name!r} would read as a row number or a session id: "
                              f"add a letter (e.g. run-{session_name.strip()})")
    dataset = absolutise_paths(dataclasses.asdict(config.dataset), base_dir, store.home)
    model = config.model.record()  # "auto" for what the run will choose, never a placeholder number
    metadata = SessionMetadata(dataset_config=dataset, model_config=model)
    if raw.get(SLURM_SECTION) is not None:  # kept with the session: `--backend slurm` uses it
        metadata.extra[SLURM_SECTION] = seal(options_from_section(raw[SLURM_SECTION]).to_dict())
    info = metadata.training_session
    info.tool_version = f"llm-tool {__version__}"
    info.workflow = workflow or WORKFLOWS.get(config.model.training_mode, "Training")
    info.schema_version = SCHEMA_VERSION
    info.session_name = session_name
    info.parent_session = parent
    info.sweep_id = sweep_id
    info.notes = list(notes or [])
    path = store.create(metadata, complete=lambda meta: _set_outputs(store, meta))
    return CreatedSession(path, metadata, config)


def _set_outputs(store: SessionStore, meta: SessionMetadata) -> None:
    """For information only: writers derive them from the session id (``store.output_dirs``)."""
    model_dir, checkpoints_dir = store.output_dirs(meta)
    out = meta.output_paths
    out.models_dir = str(paths.models_dir(store.home))
    out.model_dir = str(model_dir)
    out.checkpoints_dir = str(checkpoints_dir)
    out.logs_dir = str(store.dir)
    out.log_file = str(store.log_path(meta.session_id))
    out.metrics_file = str(metrics_path(model_dir))
