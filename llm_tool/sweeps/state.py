"""The sweep state file `logs/sweeps/<name>.json`: jobs -> session file, window, pane and status; locked, atomic."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.errors import SessionError
from llm_tool.sessions.atomic import file_lock, write_json_atomic
from llm_tool.sessions.lifecycle import now_iso

STATE_VERSION = 1
JOB_STATUSES = ("queued", "running", "completed", "failed", "interrupted", "cancelled")
FINAL_JOB_STATUSES = ("completed", "failed", "interrupted", "cancelled")
SWEEP_STATES = ("running", "finished", "stopping", "stopped")


class SweepError(SessionError):
    """A sweep cannot be found, read or acted on (one line, exit code 2)."""


def new_state(name: str, *, kind: str, tmux_session: str, socket: str, home: Path, max_parallel: int,
              max_panes_per_window: int, group_by: str | None, max_retries: int, gpus: list[str]) -> dict[str, Any]:
    now = now_iso()
    return {
        "schema_version": STATE_VERSION, "name": name, "kind": kind, "tmux_session": tmux_session,
        "socket": socket, "home": str(home), "created_at": now, "updated_at": now, "state": "running",
        "max_parallel": max_parallel, "max_panes_per_window": max_panes_per_window, "group_by": group_by,
        "max_retries": max_retries, "gpus": list(gpus), "sources": [], "parent_session": None,
        "control": {}, "scheduler": {}, "windows": {}, "jobs": [], "max_running_seen": 0,
    }


def new_job(number: int, *, title: str, group: str, window: str, overrides: dict[str, Any], session_id: str,
            session_file: Path, start_dir: Path, model: str | None) -> dict[str, Any]:
    return {
        "key": f"j{number:03d}", "number": number, "title": title, "group": group, "window": window,
        "overrides": overrides, "model": model, "session_id": session_id, "session_file": str(session_file),
        "start_dir": str(start_dir), "status": "queued", "pane_id": None, "window_id": None, "gpu": None,
        "queued_at": now_iso(), "started_at": None, "finished_at": None, "exit_code": None,
        "stop_requested": False, "reason": None,
    }


def job_by_key(state: dict[str, Any], key: str) -> dict[str, Any]:
    for job in state.get("jobs", []):
        if job.get("key") == key:
            return job
    raise SweepError(f"sweep {state.get('name')} has no job {key}")


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

    def read(self, name: str) -> dict[str, Any]:
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none"
            raise SweepError(f"no sweep named {name!r} in {self.dir} (sweeps: {known}); "
                             "see `llm-tool sweep list`") from None
        except (OSError, ValueError) as exc:
            raise SweepError(f"cannot read the sweep file {path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
            raise SweepError(f"{path} is not a sweep state file")
        return data

    def write(self, name: str, state: dict[str, Any]) -> None:
        state["updated_at"] = now_iso()
        with file_lock(self.lock_path(name)):
            write_json_atomic(self.path(name), state)

    @contextlib.contextmanager
    def locked(self, name: str, *, create: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the sweep's lock; the state is written back only when the block succeeds."""
        with file_lock(self.lock_path(name)):
            state = create if create is not None and not self.exists(name) else self.read(name)
            before = json.dumps(state, sort_keys=True, default=str)
            yield state
            if json.dumps(state, sort_keys=True, default=str) != before or create is not None:
                state["updated_at"] = now_iso()
                write_json_atomic(self.path(name), state)

    def names(self) -> list[str]:
        """Sweep names, newest first."""
        if not self.dir.is_dir():
            return []
        files = [p for p in self.dir.glob("*.json") if not p.name.startswith(".")]
        files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        return [p.stem for p in files]

    def all(self) -> list[tuple[str, dict[str, Any] | None, str | None]]:
        """(name, state or None, error) for every sweep, newest first."""
        out: list[tuple[str, dict[str, Any] | None, str | None]] = []
        for name in self.names():
            try:
                out.append((name, self.read(name), None))
            except SweepError as exc:
                out.append((name, None, str(exc)))
        return out
