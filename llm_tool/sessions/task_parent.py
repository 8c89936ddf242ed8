"""The parent session of a tasks run (workflow `tasks`): its children, one per task (x language), as a typed table.

A tasks run trains one model per annotation dimension ("task") of one data set, each in a normal child session
whose ``dataset_config.task`` (and, per language, ``dataset_config.language``) says what it trains. The parent
trains nothing itself; it records the children in ``training_session.child_sessions`` (ids, like a benchmark's
parent) and the task table in ``extra["tasks"]``. Everything reading or writing that table goes through here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llm_tool.sessions.schema import SessionMetadata

WORKFLOW = "tasks"
CHILDREN_KEY = "child_sessions"  # training_session.child_sessions: the children's session ids, in task order
TABLE_KEY = "tasks"  # SessionMetadata.extra["tasks"]: {"entries": [...], "language_strategy": ..., ...}


@dataclass
class TaskEntry:
    """One child of a tasks run: what it trains and, once it ran, how it did."""

    task: str
    session_id: str
    language: str | None = None  # None: all languages (multilingual strategy, or the fallback model)
    multi_label: bool = False
    classes: list[str] = field(default_factory=list)
    rows_used: int | None = None
    rows_not_annotated: int | None = None
    test_macro_f1: float | None = None
    status: str = "pending"

    @classmethod
    def from_dict(cls, data: Any) -> TaskEntry | None:
        """The entry recorded in a (possibly foreign) session file, or None when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("task"), str) \
                or not isinstance(data.get("session_id"), str):
            return None
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def is_tasks_parent(meta: SessionMetadata) -> bool:
    return meta.training_session.workflow == WORKFLOW


def task_table(meta: SessionMetadata) -> dict[str, Any]:
    table = meta.extra.get(TABLE_KEY)
    return table if isinstance(table, dict) else {}


def task_entries(meta: SessionMetadata) -> list[TaskEntry]:
    """The children recorded on a tasks parent, in order (malformed entries are skipped)."""
    raw = task_table(meta).get("entries")
    entries = [TaskEntry.from_dict(item) for item in raw] if isinstance(raw, list) else []
    return [e for e in entries if e is not None]


def write_task_entries(meta: SessionMetadata, entries: list[TaskEntry], **table_fields: Any) -> None:
    """Record ``entries`` (and any other table fields, e.g. ``language_strategy``) on the parent, inside the
    caller's ``SessionStore.update``; the child ids go to ``training_session.child_sessions`` as well."""
    table = dict(task_table(meta))
    table.update(table_fields)
    table["entries"] = [asdict(e) for e in entries]
    meta.extra[TABLE_KEY] = table
    meta.training_session.extra[CHILDREN_KEY] = list(dict.fromkeys(e.session_id for e in entries))
