"""Status lifecycle: pending -> running -> completed | failed | interrupted, with liveness reconciliation."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from llm_tool.atomic import is_locked
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import is_tasks_parent

STALE_HEARTBEAT = timedelta(minutes=10)  # for runs on another host, where no lock or pid can be checked
CLOCK_SKEW = timedelta(minutes=5)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def pid_alive(pid: int | None, create_time: float | None = None) -> bool:
    """The process exists and, when its start time is known, is the same process (not a reused pid)."""
    if not pid:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if create_time is not None and abs(proc.create_time() - create_time) > 1.0:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil.NoSuchProcess, AccessDenied...
        return False


def process_identity() -> tuple[int, float | None]:
    pid = os.getpid()
    try:
        import psutil

        return pid, psutil.Process(pid).create_time()
    except Exception:  # noqa: BLE001
        return pid, None


def effective_status(store: SessionStore, metadata: SessionMetadata) -> str:
    """The status every reader shows: a 'running' session whose process is gone is 'interrupted'."""
    if is_tasks_parent(metadata):  # trains nothing itself: its children say
        from llm_tool.sessions.task_status import parent_status

        return parent_status(store, metadata)
    status = metadata.execution_status
    if status.status != "running":
        return status.status
    if status.host and status.host != socket.gethostname():
        if _slurm_job_gone(status.extra.get("slurm")):
            return "interrupted"  # its Slurm job left the queue: nothing can still be training it
        beat = parse_iso(status.heartbeat)  # no lock or pid to check: a recent heartbeat is the only sign of life
        age = datetime.now(timezone.utc) - beat if beat else None
        if age is None or not -CLOCK_SKEW <= age <= STALE_HEARTBEAT:  # a heartbeat from the future is no sign
            return "interrupted"
        return "running"
    # On this host a trainer holds its run lock from before it writes 'running' until it ends (the kernel
    # frees it on any death): without the lock held, nobody trains it, whatever pid the file names.
    return "running" if is_locked(store.run_lock_path(metadata.session_id)) else "interrupted"



def _slurm_job_gone(info: object) -> bool:
    """The session ran as a Slurm job that `squeue` no longer knows (False when it cannot be asked)."""
    if not isinstance(info, dict) or not info.get("job_id"):
        return False
    import shutil

    if shutil.which("squeue") is None:
        return False
    from llm_tool.sessions.slurm_queue import queue_states

    job = str(info["job_id"])
    try:
        return job not in queue_states([job])
    except Exception:  # noqa: BLE001 - the controller is down or slow: fall back to the heartbeat
        return False
