"""Status lifecycle: pending -> running -> completed | failed | interrupted, with liveness reconciliation (a tasks
run's parent: its status made from its children's)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from llm_tool.atomic import is_locked
from llm_tool.errors import SessionError
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import ID_RE, SessionStore
from llm_tool.sessions.task_parent import TaskEntry, is_tasks_parent, task_entries

STALE_HEARTBEAT = timedelta(minutes=10)  # for runs on another host, where no lock or pid can be checked
CLOCK_SKEW = timedelta(minutes=5)
MAX_CHILDREN = 1000  # a tasks parent listing more is not one this tool wrote: the rest is ignored


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


# ----- a tasks run's parent: its status is its children's -------------------------------------------
@dataclass(frozen=True)
class ChildNow:
    """One child of a tasks run as it is now: its entry (status and F1 brought up to date), file and metadata."""

    entry: TaskEntry
    path: Path | None
    meta: SessionMetadata | None


def _child(store: SessionStore, parent: SessionMetadata, entry: TaskEntry) -> ChildNow:
    sid = entry.session_id
    if not ID_RE.match(sid) or sid == parent.session_id:  # never a path, never the parent itself
        return ChildNow(replace(entry, status="missing"), None, None)
    path = store.path_for_id(sid)
    try:
        meta = store.read(path)
    except SessionError:
        return ChildNow(replace(entry, status="missing"), path, None)
    if is_tasks_parent(meta):
        return ChildNow(replace(entry, status="missing"), path, None)
    status = meta.execution_status
    f1 = status.test_f1 if isinstance(status.test_f1, (int, float)) and not isinstance(status.test_f1, bool) \
        else entry.test_macro_f1
    rows = meta.dataset_config.get("rows_used")
    skipped = meta.dataset_config.get("rows_not_annotated")
    return ChildNow(replace(entry, status=effective_status(store, meta), test_macro_f1=f1,
                            rows_used=rows if isinstance(rows, int) else entry.rows_used,
                            rows_not_annotated=skipped if isinstance(skipped, int) else entry.rows_not_annotated),
                    path, meta)


def children_now(store: SessionStore, parent: SessionMetadata) -> list[ChildNow]:
    """Every child of ``parent`` read now (a child whose file is gone reads ``missing``)."""
    return [_child(store, parent, entry) for entry in task_entries(parent)[:MAX_CHILDREN]]


def status_from(children: list[str], *, runner_alive: bool = False) -> str:
    """The parent's status from its children's statuses."""
    if runner_alive or "running" in children:
        return "running"
    if children and all(s == "completed" for s in children):
        return "completed"
    if "failed" in children or "missing" in children:
        return "failed"
    if all(s == "pending" for s in children):
        return "pending"
    return "interrupted"


def parent_status(store: SessionStore, meta: SessionMetadata) -> str:
    """The status every reader shows for a tasks parent (its recorded one when it lists no child)."""
    if not task_entries(meta):
        return meta.execution_status.status
    runner = is_locked(store.run_lock_path(meta.session_id)) if ID_RE.match(meta.session_id) else False
    return status_from([c.entry.status for c in children_now(store, meta)], runner_alive=runner)
