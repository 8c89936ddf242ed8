"""The live state of a tasks run: each child's status and test macro-F1, the parent's status made from them.

A tasks parent trains nothing itself: it is running while its foreground runner holds its run lock or while a
child trains; otherwise its status follows from its children's (all completed: completed; a failed child: failed;
any other child unfinished: interrupted, resumable; none started: pending). :func:`sync_parent` writes that, and
each child's entry, onto the parent (through :mod:`llm_tool.sessions.transitions`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from llm_tool.atomic import is_locked
from llm_tool.errors import SessionError
from llm_tool.sessions import transitions
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import ID_RE, SessionStore
from llm_tool.sessions.task_parent import TaskEntry, is_tasks_parent, task_entries, write_task_entries

CHILD_WORKFLOW = "tasks child"  # training_session.workflow of a child session (hidden from the top-level list)
MAX_CHILDREN = 1000  # a parent listing more is not one this tool wrote: the rest is ignored


@dataclass(frozen=True)
class ChildNow:
    """One child of a tasks run as it is now: its entry (status and F1 brought up to date), file and metadata."""

    entry: TaskEntry
    path: Path | None
    meta: SessionMetadata | None


def is_task_child(meta: SessionMetadata) -> bool:
    return meta.training_session.workflow == CHILD_WORKFLOW


def _child(store: SessionStore, parent: SessionMetadata, entry: TaskEntry) -> ChildNow:
    from llm_tool.sessions.lifecycle import effective_status

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


def sync_parent(store: SessionStore, path: Path) -> SessionMetadata:
    """Record each child's status and score on the parent, and the parent's own status when it is final."""
    def apply(meta: SessionMetadata) -> None:
        children = children_now(store, meta)
        if not children:
            return
        write_task_entries(meta, [c.entry for c in children])
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
