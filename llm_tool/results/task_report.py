"""The report of a tasks run: index.html (the task table, linking each section) and one report per child."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from llm_tool.errors import SessionError
from llm_tool.model_folder import CONFIG_FILE
from llm_tool.results.report import STYLE, Report, html_table, read_metrics, write_report
from llm_tool.results.text import htm, number
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import TaskEntry, task_entries, task_table


@dataclass
class TasksReport:
    html: Path  # index.html
    sections: dict[str, Report] = field(default_factory=dict)  # folder name -> that child's report
    rows: list[dict[str, Any]] = field(default_factory=list)  # the index table's numbers


def section_name(number_: int, entry: TaskEntry) -> str:
    """A folder name for a child's section: its position, then its task (and language), as safe characters."""
    label = entry.task + (f"_{entry.language}" if entry.language else "")
    return f"{number_:02d}_" + (re.sub(r"[^A-Za-z0-9._-]+", "_", label)[:60].strip("._") or "task")


def build_tasks_report(store: SessionStore, parent_path: Path, meta: SessionMetadata, out_dir: Path | None = None,
                       *, force: bool = False) -> TasksReport:
    """Each child's report (``write_report``) in a folder of its own, and index.html with the task table, into
    ``out_dir`` or models/<parent id>/report (the tool's own folder: replaced freely)."""
    from llm_tool import outputs
    from llm_tool.results.predictions import load_predictions

    own = store.output_dirs(meta)[0] / "report"
    target = out_dir or own
    rules = outputs.Rules.of(force=force or out_dir is None, inputs=[parent_path], owned=own)
    result = TasksReport(target / "index.html")
    for n, entry in enumerate(task_entries(meta), start=1):
        name = section_name(n, entry)
        child_path = store.path_for_id(entry.session_id)
        child = store.read(child_path) if child_path.exists() else None
        model_dir = store.output_dirs(child)[0] if child is not None else None
        row = {"task": entry.task, "language": entry.language or "all", "section": None, "classes": entry.classes,
               "rows_used": entry.rows_used, "test_macro_f1": None, "session_id": entry.session_id,
               "status": entry.status}
        result.rows.append(row)
        if child is None or model_dir is None or not (model_dir / CONFIG_FILE).exists():
            continue  # no model yet: its row says so, the other sections are written
        metrics = read_metrics(model_dir)
        row["test_macro_f1"] = (metrics.get("test") or {}).get("macro_f1")
        title = f"Task {entry.task}" + (f" ({entry.language})" if entry.language else "")
        result.sections[name] = write_report(target / name, metrics, child.to_dict(), load_predictions(model_dir),
                                             title=title, rules=rules)
        row["section"] = name
    if not result.sections:
        raise SessionError(f"no task of {meta.session_id} has a saved model yet: see `llm-tool sessions show "
                           f"{meta.session_id}`")
    outputs.write_files(target, {"index.html": _index(meta, result.rows).encode("utf-8")}, rules)
    return result


def _index(meta: SessionMetadata, rows: list[dict[str, Any]]) -> str:
    table = task_table(meta)
    title = f"Tasks report: {meta.training_session.session_name or meta.session_id}"
    cells = [[f"<a href='{htm(r['section'])}/report.html'>{htm(r['task'])}</a>" if r["section"] else htm(r["task"]),
              htm(r["language"]), htm(", ".join(map(str, r["classes"] or [])), 300), htm(r["rows_used"] or "-"),
              number(r["test_macro_f1"]), htm(r["status"]),
              htm(r["session_id"])] for r in rows]
    parts = [f"<h1>{htm(title)}</h1>",
             f"<p>data: {htm(Path(str(meta.dataset_config.get('primary_file') or '-')).name)}; language strategy: "
             f"{htm(table.get('language_strategy') or 'multilingual')}</p>",
             html_table(["task", "language", "classes", "rows used", "test macro-F1", "status", "session"], cells)]
    skipped = table.get("skipped")
    if isinstance(skipped, list) and skipped:
        parts.append("<h2>Not trained</h2>" + html_table(["task", "language", "why"], [
            [htm(s.get("task")), htm(s.get("language")), htm(s.get("reason"), 300)]
            for s in skipped if isinstance(s, dict)]))
    stamp = datetime.now().isoformat(timespec="seconds")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{htm(title)}</title><style>{STYLE}</style>"
            f"</head><body>{''.join(parts)}<p><small>written by llm-tool on {stamp}</small></p></body></html>")
