"""The sweep state file `logs/sweeps/<name>.json`: jobs -> session file, window, pane and status; locked, atomic.

Every read and write of a sweep's state goes through SweepStore; the typed state lives in state_schema."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.atomic import file_lock, write_json_atomic
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sweeps.state_schema import (
    FINAL_JOB_STATUSES,
    JOB_STATUSES,
    STATE_VERSION,
    SWEEP_STATES,
    FinalJobStatus,
    JobStatus,
    ParentSession,
    SchemaError,
    SweepError,
    SweepJob,
    SweepKind,
    SweepSource,
    SweepState,
    SweepStatus,
)

__all__ = ["FINAL_JOB_STATUSES", "JOB_STATUSES", "MAX_STATE_BYTES", "STATE_VERSION", "SWEEP_STATES", "FinalJobStatus",
           "JobStatus", "ParentSession", "SweepError", "SweepJob", "SweepKind", "SweepSource", "SweepState",
           "SweepStatus", "SweepStore", "new_job", "new_state"]

MAX_STATE_BYTES = 64 * 1024 * 1024  # ~100k jobs; anything larger is not a state file this tool wrote


def new_state(name: str, *, kind: SweepKind, tmux_session: str, socket: str, home: Path, max_parallel: int,
              max_panes_per_window: int, group_by: str | None, max_retries: int, gpus: list[str]) -> SweepState:
    now = now_iso()
    return SweepState(name=name, kind=kind, tmux_session=tmux_session, socket=socket, home=str(home),
                      created_at=now, updated_at=now, state="running", max_parallel=max_parallel,
                      max_panes_per_window=max_panes_per_window, group_by=group_by, max_retries=max_retries,
                      gpus=list(gpus))


def new_job(number: int, *, title: str, group: str, window: str, overrides: dict[str, Any], session_id: str,
            session_file: Path, start_dir: Path, model: str | None) -> SweepJob:
    return SweepJob(key=f"j{number:03d}", number=number, title=title, group=group, window=window, overrides=overrides,
                    model=model, session_id=session_id, session_file=str(session_file), start_dir=str(start_dir),
                    status="queued", queued_at=now_iso())


def _canonical(state: SweepState) -> str:
    return json.dumps(state.to_dict(), sort_keys=True, default=str)


class SweepStore:
    """The sweeps of one llm-tool home."""

    def __init__(self, root: Path | None = None) -> None:
        self.home = (root or paths.home()).resolve()
        self.dir = paths.sweeps_dir(self.home)

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.json"

    def lock_path(self, name: str) -> Path:
        return self.dir / ".locks" / f"{name}.lock"

    def env_path(self, name: str) -> Path:
        """The starter's environment for the scheduler (private; the scheduler reads it once and deletes it)."""
        return self.dir / ".locks" / f"{name}.env.json"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def read(self, name: str) -> SweepState:
        path = self.path(name)
        try:
            if path.stat().st_size > MAX_STATE_BYTES:
                raise SweepError(f"the sweep file {path} is larger than {MAX_STATE_BYTES // 2**20} MiB: "
                                 "it is not a sweep state file; move it out of the sweeps folder")
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none"
            raise SweepError(f"no sweep named {name!r} in {self.dir} (sweeps: {known}); "
                             "see `llm-tool sweep list`") from None
        except RecursionError:
            raise SweepError(f"cannot read the sweep file {path}: it is nested too deeply") from None
        except (OSError, ValueError) as exc:
            raise SweepError(f"cannot read the sweep file {path}: {exc}") from None
        try:
            return SweepState.parse(data)
        except SchemaError as exc:
            raise SweepError(f"{path} is not a valid sweep state file: {exc}; repair it or move it out of the "
                             "sweeps folder") from None

    def write(self, name: str, state: SweepState) -> None:
        state.updated_at = now_iso()
        with file_lock(self.lock_path(name)):
            write_json_atomic(self.path(name), state.to_dict())

    @contextlib.contextmanager
    def locked(self, name: str, *, create: SweepState | None = None) -> Iterator[SweepState]:
        """Read-modify-write under the sweep's lock; the state is written back only when the block succeeds."""
        with file_lock(self.lock_path(name)):
            state = create if create is not None and not self.exists(name) else self.read(name)
            before = _canonical(state)
            yield state
            if create is not None or _canonical(state) != before:
                state.updated_at = now_iso()
                write_json_atomic(self.path(name), state.to_dict())

    def names(self) -> list[str]:
        """Sweep names, newest first."""
        if not self.dir.is_dir():
            return []
        files = [p for p in self.dir.glob("*.json") if not p.name.startswith(".")]
        files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        return [p.stem for p in files]

    def all(self) -> list[tuple[str, SweepState | None, str | None]]:
        """(name, state or None, error) for every sweep, newest first."""
        out: list[tuple[str, SweepState | None, str | None]] = []
        for name in self.names():
            try:
                out.append((name, self.read(name), None))
            except SweepError as exc:
                out.append((name, None, str(exc)))
        return out
