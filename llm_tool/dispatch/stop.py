"""Stop jobs gracefully: SIGTERM to each supervisor (the trainer checkpoints), wait, SIGKILL, remove the session."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from llm_tool.dispatch.jobs import JobInfo, collect_jobs
from llm_tool.dispatch.names import NAME_PREFIX, is_tool_name
from llm_tool.dispatch.supervisor import DEFAULT_GRACE
from llm_tool.dispatch.tmux_server import TmuxServer
from llm_tool.errors import SessionError, TmuxError
from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import pid_alive
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore

KILL_GRACE = DEFAULT_GRACE + 15.0  # longer than the supervisor's own grace, so it can record the end itself


@dataclass
class StopOutcome:
    """One removed tmux session: its training sessions' final statuses, and whether SIGKILL was needed."""

    name: str
    session_ids: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    forced: bool = False


def _session(job: JobInfo) -> tuple[SessionStore, Path, SessionMetadata] | None:
    if not job.session_file:
        return None
    path = Path(job.session_file)
    try:
        store = SessionStore(path.parents[2])
        return store, path, store.read(path)
    except (SessionError, IndexError):
        return None


def _trainer_alive(job: JobInfo) -> bool:
    found = _session(job)
    if found is None:
        return False
    status = found[2].execution_status
    return pid_alive(status.pid, status.pid_create_time)


def _busy(server: TmuxServer, job: JobInfo) -> bool:
    return (job.supervisor_alive and not server.pane_dead(job.pane_id)) or _trainer_alive(job)


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _kill_tree(pid: int | None) -> None:
    """SIGKILL a process and all its descendants (the job runs in its own process group)."""
    if not pid:
        return
    try:
        import psutil

        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except Exception:  # noqa: BLE001 - gone already, or psutil missing
        _signal(pid, signal.SIGKILL)
        return
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()


def _ask(job: JobInfo) -> None:
    if job.supervisor_alive:
        _signal(job.pane_pid, signal.SIGTERM)  # the pane's own process is the supervisor: it forwards the stop
    elif _trainer_alive(job):
        _signal(job.pid, signal.SIGTERM)  # an orphaned trainer (its supervisor died): stop it directly


def _force(job: JobInfo) -> None:
    if job.supervisor_alive:
        _kill_tree(job.pane_pid)
    found = _session(job)
    if found and pid_alive(found[2].execution_status.pid, found[2].execution_status.pid_create_time):
        _kill_tree(found[2].execution_status.pid)


def _record(job: JobInfo, forced: bool, grace: float) -> str | None:
    """Mark a session that could not report its own end (it was SIGKILLed) as interrupted."""
    found = _session(job)
    if found is None:
        return None
    store, path, _ = found

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        if status.status in ("running", "pending") and not pid_alive(status.pid, status.pid_create_time):
            how = f"killed after a {grace:g} s grace period" if forced else "its supervisor ended first"
            transitions.mark_interrupted(meta, f"stopped by llm-tool tmux kill ({how})")
    try:
        return store.update(path, apply).status
    except SessionError:
        return None


def check_names(server: TmuxServer, names: list[str]) -> None:
    existing = set(server.session_names())
    owned = set(server.owned_session_names())
    for name in names:
        if not is_tool_name(name) or (name in existing and name not in owned):
            raise TmuxError(f"{name} was not created by llm-tool (its sessions start with {NAME_PREFIX} and carry "
                            "the tool's mark): not touching it")
        if name not in existing:
            raise TmuxError(f"no tmux session named exactly {name} on socket {server.socket}: "
                            "see `llm-tool tmux list`")


def stop_sessions(names: list[str], *, server: TmuxServer | None = None, grace: float = KILL_GRACE,
                  poll: float = 0.2) -> list[StopOutcome]:
    """Stop every job of the named tool sessions (exact names), wait up to ``grace`` s, then remove them."""
    server = server or TmuxServer()
    check_names(server, names)
    jobs = [job for job in collect_jobs(server, sweep_control=True) if job.name in names]
    for job in jobs:
        _ask(job)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_busy(server, job) for job in jobs):
        time.sleep(poll)
    forced = {job.name for job in jobs if _busy(server, job)}
    for job in jobs:
        if job.name in forced:
            _force(job)
    end = time.monotonic() + 5.0
    while time.monotonic() < end and any(_busy(server, job) for job in jobs if job.name in forced):
        time.sleep(poll)
    outcomes = {name: StopOutcome(name, forced=name in forced) for name in names}
    for job in jobs:
        status = _record(job, job.name in forced, grace)
        if job.session_id:
            outcomes[job.name].session_ids.append(job.session_id)
            outcomes[job.name].statuses.append(status or job.status)
    for name in names:
        server.kill_session(name)
    return list(outcomes.values())
