"""Show a tasks run: its task table (task, classes, rows, test macro-F1, status) and its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from llm_tool.ui.console import console, info, safe, status_text, success, warning

if TYPE_CHECKING:
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sessions.task_parent import TaskEntry
    from llm_tool.sweeps.tasks_run import ForegroundOutcome

MAX_CLASSES_SHOWN = 6


def _classes(entry_classes: list[str], multi_label: bool) -> str:
    shown = ", ".join(safe(c, 40) for c in entry_classes[:MAX_CLASSES_SHOWN])
    more = f" (+{len(entry_classes) - MAX_CLASSES_SHOWN})" if len(entry_classes) > MAX_CLASSES_SHOWN else ""
    return f"{len(entry_classes)}: {shown}{more}" + ("  [muted]multi-label[/muted]" if multi_label else "")


def tasks_table(entries: list[TaskEntry], title: str) -> Table:
    """One row per child: task (language), classes, rows used / not annotated, test macro-F1, status, session."""
    table = Table(title=title, title_style="primary")
    for name in ("Task", "Classes", "Rows", "Not annotated", "Test macro-F1", "Status", "Session"):
        table.add_column(name, overflow="fold",
                         justify="right" if name in ("Rows", "Not annotated", "Test macro-F1") else "left")
    for e in entries:
        task = safe(e.task, 60) + (f" [{safe(e.language, 20)}]" if e.language else "")
        f1 = "-" if e.test_macro_f1 is None else f"{e.test_macro_f1:.4f}"
        table.add_row(task, _classes(e.classes, e.multi_label), _count(e.rows_used), _count(e.rows_not_annotated),
                      f1, status_text(safe(e.status)), safe(e.session_id))
    return table


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def show_parent(store: SessionStore, meta: SessionMetadata) -> None:
    """A tasks parent's table as it is now (each child's status and score read from its own session)."""
    from llm_tool.sessions.task_status import children_now

    entries = [c.entry for c in children_now(store, meta)]
    from llm_tool.sessions.task_parent import task_table

    console.print(tasks_table(entries, f"Tasks of {safe(meta.session_id)}"))
    skipped = task_table(meta).get("skipped")
    for item in skipped if isinstance(skipped, list) else []:  # per_language: the languages left to the fallback
        if isinstance(item, dict):
            info(f"no {safe(item.get('language'), 20)} model of {safe(item.get('task'), 60)} (its rows go to the "
                 f"fallback): {safe(item.get('reason'), 200)}")
    info("a task's own results: llm-tool sessions show SESSION   (every child: llm-tool sessions list --children)")
    info(f"every task at once: llm-tool infer {meta.session_id} --input FILE --output FILE; "
         f"evaluate {meta.session_id} --data FILE; report {meta.session_id}")


def show_foreground_end(outcome: ForegroundOutcome, store: SessionStore) -> None:
    """The end of a run here: the table, and what to do next."""
    parent = outcome.parent
    show_parent(store, parent)
    sid = parent.session_id
    status = parent.execution_status.status
    if status == "completed":
        success(f"{sid}: every task completed")
    elif outcome.interrupted:
        warning(f"{sid} interrupted; continue every unfinished task with: llm-tool sessions resume {sid}")
    else:
        for task, what in outcome.ran.items():
            if what.startswith("failed"):
                warning(f"task {safe(task, 60)} {safe(what, 300)}")
        warning(f"{sid} is {status}: run what is unfinished again with: llm-tool sessions resume {sid}")
