"""Plain-data summaries of a sweep's jobs (status, progress, loss, best F1, pane) for `sweep status` and the control."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from llm_tool.dispatch.tmux_server import PaneInfo
from llm_tool.errors import SessionError
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.schema import FINAL_STATUSES, SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.state import FINAL_JOB_STATUSES, FinalJobStatus, SweepJob, SweepState


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class SessionCache:
    """Parsed session files kept by (inode, size, mtime): a long-lived view (the control window, refreshed every
    second) parses only the files that changed since (writes replace the file: a new inode). Read-only use."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[tuple[int, int, int], SessionMetadata]] = {}

    def read(self, store: SessionStore, path: Path) -> SessionMetadata:
        try:
            info = path.stat()
        except OSError:
            return store.read(path)  # its own error (missing, unreadable)
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        hit = self._found.get(str(path))
        if hit is not None and hit[0] == key:
            return hit[1]
        meta = store.read(path)
        self._found[str(path)] = (key, meta)
        return meta


def session_outcome(store: SessionStore, session_file: str | None,
                    cache: SessionCache | None = None) -> tuple[str | None, SessionMetadata | None]:
    """The session's reconciled status and metadata; (None, None) when unreadable."""
    if not session_file:
        return None, None
    try:
        meta = cache.read(store, Path(session_file)) if cache is not None else store.read(Path(session_file))
    except SessionError:
        return None, None
    return effective_status(store, meta), meta


def finished_status(store: SessionStore, job: SweepJob,
                    pane: PaneInfo | None) -> tuple[FinalJobStatus, int | None, str | None] | None:
    """How a job whose pane has ended finished: (status, exit code, reason); None while its trainer still runs."""
    status, meta = session_outcome(store, job.session_file)
    code = pane.dead_status if pane is not None else None
    if meta is None:
        return "failed", code, "its session file cannot be read"
    es = meta.execution_status
    if status in FINAL_STATUSES:
        reason = es.error_message if status == "failed" else es.interrupt_reason if status == "interrupted" else None
        return cast(FinalJobStatus, status), es.exit_code if es.exit_code is not None else code, reason
    if status == "running":
        return None
    return "failed", code, "the job ended before its training started (see its log)"


def live_status(job: SweepJob, session_status: str | None, pane: PaneInfo | None) -> str:
    """What a job is doing now: queued, starting, running, stopping, or its final status."""
    recorded: str = job.status
    if recorded != "running":
        return recorded
    if session_status in FINAL_STATUSES and (pane is None or pane.dead):
        return session_status
    if job.stop_requested:
        return "stopping"
    if pane is None or pane.dead:
        return session_status if session_status in FINAL_STATUSES else "ending"
    return "running" if session_status == "running" else "starting"


def job_view(store: SessionStore, job: SweepJob, panes: Mapping[str, PaneInfo] | None,
             window_indexes: Mapping[str, int] | None = None, cache: SessionCache | None = None) -> dict[str, Any]:
    """One job as plain data (the rows of `sweep status --json` and of the control window).

    ``panes`` None: the job has no pane to look at (a Slurm task, already synced with the queue): its recorded
    status is its live one."""
    pane = (panes or {}).get(job.pane_id or "")
    if pane is not None and pane.session_file != job.session_file:
        pane = None  # a recycled pane id: not this job's pane
    session_status, meta = session_outcome(store, job.session_file, cache)
    live = panes is not None and job.status not in FINAL_JOB_STATUSES
    status = live_status(job, session_status, pane) if live else job.status
    if status in ("interrupted", "failed") and session_status in ("running", "completed"):
        status = session_status  # resumed outside the sweep (`sessions resume`)
    row: dict[str, Any] = {
        "key": job.key, "number": job.number, "title": job.title, "window": job.window,
        "window_id": job.window_id, "pane_id": job.pane_id, "status": status,
        "session_id": job.session_id, "session_file": job.session_file, "model": job.model,
        "gpu": job.gpu, "started_at": job.started_at, "finished_at": job.finished_at,
        "exit_code": job.exit_code, "reason": job.reason, "overrides": job.overrides,
        "epoch": None, "total_epochs": None, "step": None, "total_steps": None, "loss": None, "best_f1": None,
        "test_f1": None, "window_index": (window_indexes or {}).get(job.window_id or ""),
    }
    if meta is not None:
        es = meta.execution_status
        epochs = meta.model_config.get("epochs")
        total = _num(epochs)
        row.update(epoch=_num(es.current_epoch), total_epochs=int(total) if total else None,
                   step=es.current_step, total_steps=es.total_steps, loss=_num(es.latest_loss),
                   best_f1=_num(es.best_f1), test_f1=_num(es.test_f1))
    return row


def job_views(state: SweepState, store: SessionStore, panes: Mapping[str, PaneInfo] | None,
              window_indexes: Mapping[str, int] | None = None,
              cache: SessionCache | None = None) -> list[dict[str, Any]]:
    jobs = sorted(state.jobs, key=lambda j: j.number)
    return [job_view(store, job, panes, window_indexes, cache) for job in jobs]


def progress_text(row: Mapping[str, Any]) -> str:
    if row.get("total_steps") and row.get("step") is not None:
        pct = 100.0 * row["step"] / row["total_steps"]
        return f"{row['step']}/{row['total_steps']} ({pct:.0f}%)"
    return "-"


def counts(rows: Iterable[Mapping[str, Any] | SweepJob | str]) -> dict[str, int]:
    """How many jobs (view rows, or plain statuses) have each status, in the order first seen.

    The one place job states are counted: `sweep status/list/kill`, waiting, the control view, reports."""
    out: dict[str, int] = {}
    for row in rows:
        status = row if isinstance(row, str) else row.status if isinstance(row, SweepJob) else row["status"]
        out[status] = out.get(status, 0) + 1
    return out


def tally_text(tally: Mapping[str, int], *, ordered: bool = True) -> str:
    """`2 completed, 1 running` (statuses in name order unless ``ordered`` is False)."""
    items = sorted(tally.items()) if ordered else list(tally.items())
    return ", ".join(f"{n} {s}" for s, n in items)
