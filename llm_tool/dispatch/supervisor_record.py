"""What the supervisor writes into the session metadata (locked, atomic): attempts, pids, exit codes, final status."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from llm_tool.dispatch.retry_policy import Ending
from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import now_iso, process_identity
from llm_tool.sessions.schema import FINAL_STATUSES, SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.training import checkpoints as ckpt

SUPERVISOR_KEY = "supervisor"  # execution_status.extra["supervisor"]


def supervisor_info(meta: SessionMetadata) -> dict[str, Any]:
    info = meta.execution_status.extra.get(SUPERVISOR_KEY)
    return info if isinstance(info, dict) else {}


class SessionRecorder:
    """Writes supervisor fields; a missing ``path`` (a job without a session) makes every call a no-op."""

    def __init__(self, store: SessionStore | None, path: Path | None, warn: Callable[[str], None]) -> None:
        self.store, self.path, self.warn = store, path, warn

    @property
    def active(self) -> bool:
        return self.store is not None and self.path is not None

    def read(self) -> SessionMetadata | None:
        if not self.active:
            return None
        assert self.store is not None and self.path is not None
        try:
            return self.store.read(self.path)
        except Exception as exc:  # noqa: BLE001 - a bookkeeping problem must never stop the job
            self.warn(f"cannot read the session file: {exc}")
            return None

    def _update(self, change: Callable[[SessionMetadata], None]) -> None:
        if not self.active:
            return
        assert self.store is not None and self.path is not None
        try:
            self.store.update(self.path, change)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"cannot update the session file: {exc}")

    def checkpoints_dir(self) -> Path | None:
        """The session's checkpoints folder as the trainer uses it (always inside the home's models folder)."""
        meta = self.read()
        if meta is None:
            return None
        assert self.store is not None
        return self.store.output_dirs(meta)[1]

    def completed(self) -> bool:
        """The job itself recorded a completed run."""
        meta = self.read()
        return meta is not None and meta.execution_status.status == "completed"

    def final_model_saved(self) -> bool:
        """The final model was saved completely (a resume only has to mark the run completed)."""
        meta = self.read()
        if meta is None:
            return False
        assert self.store is not None
        from llm_tool.training.run_end import saved_final_model

        return saved_final_model(self.store.output_dirs(meta)[0], meta.session_id) is not None

    def started(self, *, max_retries: int, timeout_hours: float | None, log_file: Path | None,
                command: list[str]) -> None:
        pid, created = process_identity()

        def apply(meta: SessionMetadata) -> None:
            meta.execution_status.extra[SUPERVISOR_KEY] = {
                "pid": pid, "pid_create_time": created, "host": socket.gethostname(), "state": "starting",
                "started_at": now_iso(), "max_retries": max_retries, "timeout_hours": timeout_hours,
                "log_file": str(log_file) if log_file else None, "command": command, "attempts": [],
                "tmux_pane": os.environ.get("TMUX_PANE"),
            }
        self._update(apply)

    def attempt_started(self, attempt: int, pid: int, resumed_from: Path | None) -> None:
        created = _create_time(pid)

        def apply(meta: SessionMetadata) -> None:
            status = meta.execution_status
            status.attempt = attempt
            status.exit_code = None  # set again by the job (engine) or by us when it ends
            status.pid, status.pid_create_time, status.host = pid, created, socket.gethostname()
            info = status.extra.setdefault(SUPERVISOR_KEY, {})
            info.update(state="running", child_pid=pid, attempt=attempt)
            info.pop("next_attempt_at", None)
            info.pop("next_attempt", None)
            info.setdefault("attempts", []).append({
                "attempt": attempt, "pid": pid, "started_at": now_iso(),
                "resumed_from": str(resumed_from) if resumed_from else None,
            })
        self._update(apply)

    def attempt_ended(self, attempt: int, ending: Ending) -> None:
        def apply(meta: SessionMetadata) -> None:
            info = meta.execution_status.extra.setdefault(SUPERVISOR_KEY, {})
            for entry in info.get("attempts", []):
                if entry.get("attempt") == attempt:
                    entry.update(ended_at=now_iso(), exit_code=ending.exit_code, signal=ending.signal_name,
                                 outcome=ending.kind)
        self._update(apply)

    def retrying(self, next_attempt: int, delay: float, reason: str) -> None:
        def apply(meta: SessionMetadata) -> None:
            info = meta.execution_status.extra.setdefault(SUPERVISOR_KEY, {})
            at = datetime.now(timezone.utc) + timedelta(seconds=delay)
            info.update(state="retrying", last_failure=reason, next_attempt=next_attempt,
                        next_attempt_at=at.isoformat(timespec="seconds"))
        self._update(apply)

    def finished(self, final: str, *, exit_code: int, reason: str, override_reason: bool) -> None:
        """Record the end: the job's own final status is kept unless the job could not report (or timed out)."""
        folder = self.checkpoints_dir()
        found = ckpt.last_complete(folder)[0] if folder else None

        def apply(meta: SessionMetadata) -> None:
            status = meta.execution_status
            ending = _record_end(meta, final, exit_code=exit_code, reason=reason, override_reason=override_reason)
            status.last_checkpoint = str(found) if found else None  # always a folder that exists
            info = status.extra.setdefault(SUPERVISOR_KEY, {})
            info.update(state=ending, ended_at=now_iso(), exit_code=exit_code, final_reason=reason)
            info.pop("next_attempt_at", None)
        self._update(apply)


def _record_end(meta: SessionMetadata, final: str, *, exit_code: int, reason: str, override_reason: bool) -> str:
    """The end the supervisor saw, through the transitions; the job's own report wins unless overridden.
    Returns the ending recorded in the supervisor's own section."""
    status = meta.execution_status
    reported = status.exit_code is not None and status.status in FINAL_STATUSES
    if status.status == "completed" and status.exit_code == 0:
        return "completed"  # the job saved its model and said so: nothing after that (a kill) undoes it
    if final == "completed":
        transitions.mark_completed(meta, exit_code=exit_code)
    elif final == "interrupted":  # (a job that failed only because it was stopped mid-load is interrupted)
        keep = reported and status.status == "interrupted" and not override_reason
        transitions.mark_interrupted(meta, (status.interrupt_reason if keep else None) or reason, exit_code=exit_code)
    elif reported and status.status == "failed":
        status.exit_code = exit_code  # the job's own error message stays
    else:
        transitions.mark_failed(meta, reason, exit_code=exit_code)
    return final


def _create_time(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        return None
