"""The live state of a tasks run: each child's status and test macro-F1, the parent's status made from them.

A tasks parent trains nothing itself: it is running while its foreground runner holds its run lock or while a
child trains; otherwise its status follows from its children's (all completed: completed; a failed child: failed;
any other child unfinished: interrupted, resumable; none started: pending). :func:`sync_parent` writes that, and
each child's entry, onto the parent (through :mod:`llm_tool.sessions.transitions`).
"""

from __future__ import annotations

from pathlib import Path

from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import ChildNow, children_now, parent_status, status_from
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import write_task_entries

__all__ = ["CHILD_WORKFLOW", "ChildNow", "children_now", "is_task_child", "parent_status", "status_from",
           "sync_parent"]

CHILD_WORKFLOW = "tasks child"  # training_session.workflow of a child session (hidden from the top-level list)


def is_task_child(meta: SessionMetadata) -> bool:
    return meta.training_session.workflow == CHILD_WORKFLOW


def _seconds(meta: SessionMetadata) -> float | None:
    """A child's training time over every part it ran (as the history counts it)."""
    status = meta.execution_status
    segments = status.extra.get("segment_seconds")
    if isinstance(segments, list) and segments and all(isinstance(s, (int, float)) for s in segments):
        return float(sum(segments))
    value = status.duration_seconds
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def sync_parent(store: SessionStore, path: Path) -> SessionMetadata:
    """Record each child's status and score on the parent, and the parent's own status when it is final."""
    def apply(meta: SessionMetadata) -> None:
        children = children_now(store, meta)
        if not children:
            return
        write_task_entries(meta, [c.entry for c in children])
        spent = [_seconds(c.meta) for c in children if c.meta is not None]
        meta.execution_status.duration_seconds = sum(s for s in spent if s is not None) or None  # every task's
        now = status_from([c.entry.status for c in children])
        unfinished = [c.entry.task for c in children if c.entry.status != "completed"]
        if now == "completed":
            transitions.mark_completed(meta)
            scores = [c.entry.test_macro_f1 for c in children if c.entry.test_macro_f1 is not None]
            meta.execution_status.test_f1 = sum(scores) / len(scores) if scores else None
        elif now == "failed":
            failed = [c.entry.task for c in children if c.entry.status in ("failed", "missing")]
            transitions.mark_failed(meta, f"task(s) {', '.join(failed)} failed; resume the parent to run again "
                                          f"what is unfinished ({', '.join(unfinished)})")
        elif now == "interrupted":
            transitions.mark_interrupted(meta, f"unfinished task(s): {', '.join(unfinished)}")
    return store.update(path, apply)
