"""The parent session of a benchmark: workflow `benchmark`, its child sessions, and the best model once ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.errors import SessionError
from llm_tool.sessions.create import create_session
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.leaderboard import LeaderRow, best, leaderboard
from llm_tool.sweeps.queue import all_final
from llm_tool.sweeps.state import SweepState

WORKFLOW = "benchmark"
CHILDREN_KEY = "child_sessions"  # training_session.child_sessions: the candidates' session ids


def create_parent(store: SessionStore, base: dict[str, Any], *, base_dir: Path, name: str,
                  models: list[str]) -> tuple[Path, str]:
    """A session that trains nothing itself: it records the benchmark (same base config) and, later, the winner."""
    path, _ = create_session(store, base, base_dir=base_dir, session_name=f"benchmark-{name}", sweep_id=name,
                             workflow=WORKFLOW)

    def apply(meta: SessionMetadata) -> None:
        meta.training_session.extra[CHILDREN_KEY] = []
        meta.extra["benchmark"] = {"sweep": name, "models": list(models), "ranked_by": "test macro-F1"}
        meta.output_paths.model_dir = meta.output_paths.checkpoints_dir = meta.output_paths.metrics_file = None
    meta = store.update(path, apply)
    return path, meta.session_id


def add_children(store: SessionStore, parent: Path, session_ids: list[str], models: list[str]) -> None:
    def apply(meta: SessionMetadata) -> None:
        children = meta.training_session.extra.setdefault(CHILDREN_KEY, [])
        children.extend(sid for sid in session_ids if sid not in children)
        info = meta.extra.setdefault("benchmark", {})
        known = info.setdefault("models", [])
        known.extend(m for m in models if m not in known)
        if meta.execution_status.status in ("completed", "failed"):
            meta.execution_status.status = "pending"  # new candidates: ranked again when they finish
            meta.execution_status.completed_at = None
    store.update(parent, apply)


def record_result(store: SessionStore, parent: Path, rows: list[LeaderRow], *, final: bool) -> LeaderRow | None:
    """Write the ranking on the parent session; when ``final``, its status and best model too."""
    top = best(rows)

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.extra["leaderboard"] = [{"rank": r.rank, "model": r.model, "session_id": r.session_id,
                                        "status": r.status, "macro_f1": r.score, "split": r.split,
                                        "train_runtime_seconds": r.train_runtime_seconds,
                                        "train_samples_per_second": r.train_samples_per_second} for r in rows]
        status.models_trained = [r.model for r in rows if r.status == "completed" and r.model]
        if top is not None:
            status.best_model, status.best_f1, status.test_f1 = top.model, top.score, top.test_macro_f1
            status.extra["best_session"] = top.session_id
        if final:
            ended = "completed" if top is not None else "failed"
            if status.status != ended or not status.completed_at:
                status.completed_at = now_iso()  # the first time it ends (status and reports call this again)
            status.status = ended
            if top is None:
                status.error_message = "no candidate finished with metrics"
    try:
        store.update(parent, apply)
    except SessionError:
        return None
    return top


def finalize(state: SweepState, store: SessionStore | None = None) -> LeaderRow | None:
    """Rank the candidates from their metrics on disk and record the result on the parent (if the sweep has one)."""
    parent = state.parent_session.session_file if state.parent_session else None
    if not parent:
        return None
    store = store or SessionStore(Path(state.home) if state.home else None)
    rows = leaderboard(state, store)
    return record_result(store, Path(parent), rows, final=all_final(state.jobs))
