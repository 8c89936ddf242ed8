"""What `llm-tool slurm list` shows: every session submitted to Slurm, its queue state, reconciled first."""

from __future__ import annotations

from typing import Any

from llm_tool.dispatch.slurm import queue_states, reconcile, slurm_info
from llm_tool.errors import SessionError
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.store import SessionStore

MAX_SCANNED = 2000  # session files looked at, newest first


def job_display(queue: str | None, info: dict[str, Any], status: str) -> str:
    """pending / requeued / running while queued; afterwards how the session ended."""
    if queue == "PENDING":
        again = info.get("state") in ("REQUEUED", "INTERRUPTED") or int(info.get("restarts") or 0) > 0
        return "requeued" if again else "pending"
    if queue in ("RUNNING", "COMPLETING", "CONFIGURING"):
        return "stopping" if info.get("cancel_requested") else "running"
    if queue:
        return queue.lower()
    if info.get("state") == "CANCELLED" and status == "pending":
        return "cancelled"
    return status


def slurm_rows(store: SessionStore, *, include_ended: bool = True, limit: int | None = 50) -> list[dict[str, Any]]:
    """One row per submitted session (newest first): job id, state, restarts; sessions that left the queue
    without marking themselves are written `interrupted` on the way."""
    found = []
    for path in store.files_newest_first()[:MAX_SCANNED]:
        try:
            meta = store.read(path)
        except SessionError:
            continue
        if slurm_info(meta).get("job_id"):
            found.append((path, meta))
    queued = queue_states(str(slurm_info(m)["job_id"]) for _, m in found)
    rows: list[dict[str, Any]] = []
    for path, meta in found:
        meta = reconcile(store, path, meta, queued)
        info = slurm_info(meta)
        job = str(info["job_id"])
        status = effective_status(store, meta)
        state = job_display(queued.get(job), info, status)
        if not include_ended and job not in queued:
            continue
        es = meta.execution_status
        rows.append({"job_id": job, "session_id": meta.session_id, "name": meta.training_session.session_name,
                     "state": state, "queue_state": queued.get(job), "session_status": status,
                     "restarts": int(info.get("restarts") or 0), "submitted_at": info.get("submitted_at"),
                     "step": es.current_step, "total_steps": es.total_steps,
                     "reason": es.interrupt_reason if status == "interrupted" else None})
        if limit is not None and len(rows) >= limit:
            break
    return rows
