"""The only writers of a session's status: one function per transition, each writing the fields that go with it.

pending -> running -> completed | failed | interrupted; a resume goes from any of them back to running, and a
benchmark parent that gets new candidates is reopened (pending). Each function changes the metadata it is given,
inside the caller's locked ``SessionStore.update`` (a test checks that no other module writes ``status``).
"""

from __future__ import annotations

from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.schema import ExecutionStatus, SessionMetadata

MAX_MESSAGE = 2000


def mark_running(meta: SessionMetadata, *, pid: int, pid_create_time: float | None, host: str,
                 resume: bool) -> ExecutionStatus:
    """A trainer started (``resume``: continued) the run in process ``pid`` on ``host``; the end of an earlier
    part (its time, error or reason) no longer applies."""
    status = meta.execution_status
    status.status = "running"
    status.pid, status.pid_create_time, status.host = pid, pid_create_time, host
    status.heartbeat = now_iso()
    status.error_message = status.interrupt_reason = status.completed_at = None
    if resume:
        status.extra.setdefault("resumed_at", []).append(now_iso())
    else:
        status.started_at = now_iso()
    return status


def mark_interrupted(meta: SessionMetadata, reason: str, *, exit_code: int | None = None) -> ExecutionStatus:
    """Stopped before its end (a signal, a kill, a lost process, a job that left the queue): resumable. The
    heartbeat is stamped so that every reader sees when it was found stopped."""
    status = meta.execution_status
    status.status = "interrupted"
    status.interrupt_reason = reason[:MAX_MESSAGE]
    status.error_message = None
    status.heartbeat = now_iso()
    if exit_code is not None:
        status.exit_code = exit_code
    return status


def mark_failed(meta: SessionMetadata, message: str, *, exit_code: int | None = None) -> ExecutionStatus:
    """Ended by an error (``message``, cut to 2,000 characters); its end time is the first time it failed."""
    status = meta.execution_status
    if status.status != "failed" or not status.completed_at:
        status.completed_at = now_iso()
    status.status = "failed"
    status.error_message = message[:MAX_MESSAGE]
    if exit_code is not None:
        status.exit_code = exit_code
    return status


def mark_completed(meta: SessionMetadata, *, exit_code: int | None = None) -> ExecutionStatus:
    """Finished: its model and metrics are saved. Its end time is the first time it completed (marking a completed
    session again, as a supervisor or a benchmark report does, keeps it)."""
    status = meta.execution_status
    if status.status != "completed" or not status.completed_at:
        status.completed_at = now_iso()
    status.status = "completed"
    status.error_message = status.interrupt_reason = None
    if exit_code is not None:
        status.exit_code = exit_code
    return status


def mark_ended(meta: SessionMetadata, *, succeeded: bool, failure: str) -> ExecutionStatus:
    """A parent (benchmark, curve, strategies comparison) whose last child has ended: completed when it has a
    result, else failed saying why."""
    return mark_completed(meta) if succeeded else mark_failed(meta, failure)


def note_interruption(meta: SessionMetadata, reason: str) -> ExecutionStatus:
    """Why an interrupted session stopped, said again after the fact (Slurm: "requeued as job N", or why the
    requeue failed); the status itself is the interruption's."""
    status = meta.execution_status
    status.interrupt_reason = reason[:MAX_MESSAGE]
    return status


def reopen(meta: SessionMetadata) -> ExecutionStatus:
    """A benchmark parent that ended gets new candidates: pending again until they finish."""
    status = meta.execution_status
    status.status = "pending"
    status.completed_at = None
    return status
