"""Plain-data views of a sweep's jobs (status, progress, loss, best F1, pane) for `sweep status` and the control."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llm_tool.dispatch.tmux_server import PaneInfo
from llm_tool.errors import SessionError
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.schema import FINAL_STATUSES, SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.state import FINAL_JOB_STATUSES


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def session_outcome(store: SessionStore, session_file: str | None) -> tuple[str | None, SessionMetadata | None]:
    """The session's reconciled status and metadata; (None, None) when unreadable."""
    if not session_file:
        return None, None
    try:
        meta = store.read(Path(session_file))
    except SessionError:
        return None, None
    return effective_status(store, meta), meta


def finished_status(store: SessionStore, job: Mapping[str, Any], pane: PaneInfo | None) -> tuple[str, int | None,
                                                                                               str | None] | None:
    """How a job whose pane has ended finished: (status, exit code, reason); None while its trainer still runs."""
    status, meta = session_outcome(store, job.get("session_file"))
    code = pane.dead_status if pane is not None else None
    if meta is None:
        return "failed", code, "its session file cannot be read"
    es = meta.execution_status
    if status in FINAL_STATUSES:
        reason = es.error_message if status == "failed" else es.interrupt_reason if status == "interrupted" else None
        return status, es.exit_code if es.exit_code is not None else code, reason
    if status == "running":
        return None
    return "failed", code, "the job ended before its training started (see its log)"


def live_status(job: Mapping[str, Any], session_status: str | None, pane: PaneInfo | None) -> str:
    """What a job is doing now: queued, starting, running, stopping, or its final status."""
    recorded = job.get("status", "queued")
    if recorded != "running":
        return recorded
    if session_status in FINAL_STATUSES and (pane is None or pane.dead):
        return session_status
    if job.get("stop_requested"):
        return "stopping"
    if pane is None or pane.dead:
        return session_status if session_status in FINAL_STATUSES else "ending"
    return "running" if session_status == "running" else "starting"


def job_view(store: SessionStore, job: Mapping[str, Any], panes: Mapping[str, PaneInfo],
             window_indexes: Mapping[str, int] | None = None) -> dict[str, Any]:
    pane = panes.get(job.get("pane_id") or "")
    if pane is not None and pane.session_file != job.get("session_file"):
        pane = None  # a recycled pane id: not this job's pane
    session_status, meta = session_outcome(store, job.get("session_file"))
    status = live_status(job, session_status, pane) if job.get("status") not in FINAL_JOB_STATUSES else job["status"]
    if status in ("interrupted", "failed") and session_status in ("running", "completed"):
        status = session_status  # resumed outside the sweep (`sessions resume`)
    row: dict[str, Any] = {
        "key": job.get("key"), "number": job.get("number"), "title": job.get("title"), "window": job.get("window"),
        "window_id": job.get("window_id"), "pane_id": job.get("pane_id"), "status": status,
        "session_id": job.get("session_id"), "session_file": job.get("session_file"), "model": job.get("model"),
        "gpu": job.get("gpu"), "started_at": job.get("started_at"), "finished_at": job.get("finished_at"),
        "exit_code": job.get("exit_code"), "reason": job.get("reason"), "overrides": job.get("overrides") or {},
        "epoch": None, "total_epochs": None, "step": None, "total_steps": None, "loss": None, "best_f1": None,
        "test_f1": None, "window_index": (window_indexes or {}).get(job.get("window_id") or ""),
    }
    if meta is not None:
        es = meta.execution_status
        epochs = meta.model_config.get("epochs")
        row.update(epoch=_num(es.current_epoch), total_epochs=int(epochs) if _num(epochs) else None,
                   step=es.current_step, total_steps=es.total_steps, loss=_num(es.latest_loss),
                   best_f1=_num(es.best_f1), test_f1=_num(es.test_f1))
    return row


def job_views(state: Mapping[str, Any], store: SessionStore, panes: Mapping[str, PaneInfo],
              window_indexes: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    jobs = sorted(state.get("jobs", []), key=lambda j: j.get("number", 0))
    return [job_view(store, job, panes, window_indexes) for job in jobs]


def progress_text(row: Mapping[str, Any]) -> str:
    if row.get("total_steps") and row.get("step") is not None:
        pct = 100.0 * row["step"] / row["total_steps"]
        return f"{row['step']}/{row['total_steps']} ({pct:.0f}%)"
    return "-"


def counts(rows: list[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        out[row["status"]] = out.get(row["status"], 0) + 1
    return out


def summary(state: Mapping[str, Any], rows: list[Mapping[str, Any]], *, tmux_alive: bool,
            scheduler_alive: bool) -> dict[str, Any]:
    return {"name": state.get("name"), "kind": state.get("kind"), "state": state.get("state"),
            "tmux_session": state.get("tmux_session"), "socket": state.get("socket"), "tmux_alive": tmux_alive,
            "scheduler_alive": scheduler_alive, "max_parallel": state.get("max_parallel"),
            "gpus": state.get("gpus") or [], "jobs": len(rows), "counts": counts(list(rows)),
            "created_at": state.get("created_at"), "updated_at": state.get("updated_at"),
            "parent_session": (state.get("parent_session") or {}).get("session_id")}
