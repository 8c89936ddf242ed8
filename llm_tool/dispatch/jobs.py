"""The training jobs on the tool's tmux server, joined with their session metadata (for list, monitor and kill)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from llm_tool.dispatch.names import is_tool_name
from llm_tool.dispatch.supervisor_record import supervisor_info
from llm_tool.dispatch.tmux_server import PaneInfo, TmuxServer
from llm_tool.errors import SessionError
from llm_tool.sessions.lifecycle import effective_status, pid_alive
from llm_tool.sessions.schema import FINAL_STATUSES, SessionMetadata
from llm_tool.sessions.store import SessionStore

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
SUPERVISOR_FINAL = ("completed", "failed", "interrupted")
SWEEP_CONTROL_ROLES = ("control", "scheduler")  # a sweep's own panes (pane option @llm_tool_role): not trainings


@dataclass
class JobInfo:
    """One job pane and what its session says: status reconciled with the processes."""

    name: str
    socket: str
    pane_id: str
    window_id: str
    attached: bool
    created: str | None
    supervisor_alive: bool
    pane_pid: int | None
    session_file: str | None = None
    session_id: str | None = None
    status: str = "unknown"
    exit_code: int | None = None
    attempt: int | None = None
    max_retries: int | None = None
    epoch: float | None = None
    total_epochs: int | None = None
    step: int | None = None
    total_steps: int | None = None
    loss: float | None = None
    best_f1: float | None = None
    reason: str | None = None
    pid: int | None = None
    started_at: str | None = None
    resumed: bool = False
    log_file: str | None = None
    last_line: str | None = None
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def tail_lines(path: str | Path | None, count: int = 5, max_bytes: int = 32768) -> list[str]:
    """The last ``count`` non-blank lines of a log, with escape codes and carriage-return overwrites removed."""
    if not path:
        return []
    try:
        with Path(path).open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:
        return []
    lines = []
    for raw in data.decode("utf-8", errors="replace").split("\n"):
        text = _ANSI.sub("", raw.rstrip("\r").rsplit("\r", 1)[-1]).rstrip()  # a `\r` redraw keeps the last
        if text.strip():
            lines.append(text)
    return lines[-count:]


def job_status(store: SessionStore, meta: SessionMetadata, supervisor_alive: bool) -> str:
    """The metadata status, reconciled: a live supervisor between attempts shows `retrying` or `starting`."""
    status = effective_status(store, meta)
    info = supervisor_info(meta)
    state = info.get("state")
    if supervisor_alive and state not in SUPERVISOR_FINAL:
        if status == "running":
            return "running"
        if state == "retrying":
            return "retrying"
        es = meta.execution_status
        if info.get("child_pid") and info.get("child_pid") == es.pid and pid_alive(es.pid, es.pid_create_time):
            return "running"  # the job process is up; a training marks itself running once loaded
        return "starting"
    if not supervisor_alive and status == "pending" and state is not None:
        return "failed"  # the supervisor ended without the job reporting anything
    return status


def _fill(job: JobInfo, pane: PaneInfo) -> None:
    path = Path(pane.session_file or "")
    try:
        store = SessionStore(path.parents[2])  # <home>/logs/training_sessions/<file>
        meta = store.read(path)
    except (SessionError, IndexError) as exc:
        job.reason = str(exc) if isinstance(exc, SessionError) else "not a session file"
        return
    es = meta.execution_status
    info = supervisor_info(meta)
    job.session_id = meta.session_id
    job.status = job_status(store, meta, job.supervisor_alive)
    job.exit_code = es.exit_code if job.status in FINAL_STATUSES else None
    if job.exit_code is None and not job.supervisor_alive and job.status in FINAL_STATUSES:
        job.exit_code = pane.dead_status
    job.attempt, job.max_retries = es.attempt, info.get("max_retries")
    job.epoch, job.step, job.total_steps = es.current_epoch, es.current_step, es.total_steps
    epochs = meta.model_config.get("epochs")
    job.total_epochs = int(epochs) if isinstance(epochs, (int, float)) else None
    job.loss, job.best_f1 = es.latest_loss, es.best_f1
    job.reason = es.error_message if job.status == "failed" else es.interrupt_reason if job.status == "interrupted" \
        else info.get("last_failure") if job.status == "retrying" else None
    job.pid, job.started_at = es.pid, es.started_at
    job.resumed = bool(es.extra.get("resumed_at"))
    job.model = meta.model_config.get("selected_model")
    job.log_file = meta.output_paths.log_file or info.get("log_file") or str(store.log_path(meta.session_id))
    last = tail_lines(job.log_file, 1)
    job.last_line = last[0] if last else None


def collect_jobs(server: TmuxServer | None = None, *, sweep_control: bool = False) -> list[JobInfo]:
    """Every job pane of every `llmtool-*` session (one tmux call, then one metadata read per job).

    A sweep's control view and scheduler panes are no trainings: left out unless ``sweep_control`` (stopping a
    whole tmux session must signal them too, so that the scheduler starts nothing while its jobs stop)."""
    server = server or TmuxServer()
    jobs = []
    for pane in server.list_panes():
        if not (pane.owned and is_tool_name(pane.session_name)):  # a hand-made `llmtool-x` session is not ours
            continue
        if pane.role in SWEEP_CONTROL_ROLES and not sweep_control:
            continue
        created = datetime.fromtimestamp(pane.created).isoformat(timespec="seconds") if pane.created else None
        job = JobInfo(name=pane.session_name, socket=server.socket, pane_id=pane.pane_id, window_id=pane.window_id,
                      attached=pane.attached, created=created, supervisor_alive=not pane.dead,
                      pane_pid=pane.pane_pid, session_file=pane.session_file)
        if pane.session_file:
            _fill(job, pane)
        elif pane.dead:
            job.status, job.exit_code = "exited", pane.dead_status
        jobs.append(job)
    return jobs


def tool_session_names(server: TmuxServer) -> list[str]:
    """The tmux sessions the tool created (marked at creation): the only ones list, attach and kill consider."""
    return [n for n in server.owned_session_names() if is_tool_name(n)]
