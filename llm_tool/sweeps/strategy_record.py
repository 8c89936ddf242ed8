"""The record of a benchmark of language strategies: which sweep is one, the comparison written on its parent
session once its children end, and that comparison as table rows, plain text and Markdown. Never prompts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.errors import LlmToolError, SessionError
from llm_tool.results.strategy_comparison import STRATEGIES
from llm_tool.sessions import transitions
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore

if TYPE_CHECKING:
    from llm_tool.sweeps.state import SweepState

STRATEGY_KEY = "model_config.language_strategy"  # each job of such a sweep names its strategy
RECORD_KEY = "language_comparison"  # SessionMetadata.extra of the benchmark's parent
ANSWERS_FOLDER = "language_strategies"  # models/<parent id>/language_strategies/<task>.csv


def is_strategies(state: SweepState) -> bool:
    """Whether a sweep is a benchmark of language strategies (each job names its strategy)."""
    return state.kind == "benchmark" and bool(state.jobs) and all(STRATEGY_KEY in j.overrides for j in state.jobs)


def recorded_comparison(state: SweepState, store: SessionStore) -> dict[str, Any] | None:
    """The comparison recorded on such a sweep's parent (None for any other sweep, or before its first record)."""
    if not is_strategies(state) or state.parent_session is None or not state.parent_session.session_file:
        return None
    try:
        found = store.read(Path(state.parent_session.session_file)).extra.get(RECORD_KEY)
    except SessionError:
        return None
    return found if isinstance(found, dict) else None


def arms_of(store: SessionStore, meta: SessionMetadata) -> dict[str, Path]:
    """{strategy: tasks parent file} recorded on a benchmark's parent (empty for a benchmark of models)."""
    recorded = (meta.extra.get("benchmark") or {}).get("language_strategies")
    if not isinstance(recorded, dict):
        return {}
    return {s: store.path_for_id(str(sid)) for s, sid in recorded.items() if s in STRATEGIES and isinstance(sid, str)}


def finalize(state: SweepState, store: SessionStore) -> dict[str, Any] | None:
    """Bring each arm's task table up to date and record the comparison on the benchmark's parent."""
    from llm_tool.sweeps.queue import all_final

    parent = state.parent_session.session_file if state.parent_session else None
    if not parent:
        return None
    return record_comparison(store, Path(parent), final=all_final(state.jobs))


def record_comparison(store: SessionStore, parent: Path, *, final: bool) -> dict[str, Any] | None:
    """Compare the arms of the benchmark ``parent`` (what is trained so far), write each task's answers and record
    the comparison; ``final``: every child has ended (the parent is then completed, or failed when nothing could be
    compared)."""
    from llm_tool.results.strategy_comparison import compare_arms
    from llm_tool.sessions.task_status import sync_parent

    try:
        meta = store.read(parent)
        arms = arms_of(store, meta)
        if sorted(arms) != sorted(STRATEGIES):
            return None
        synced = {s: sync_parent(store, path) for s, path in arms.items()}
    except SessionError:
        return None
    try:
        tasks, answers = compare_arms(store, synced["multilingual"], synced["per_language"])
    except LlmToolError as exc:  # the data file gone or changed since: said on the parent, the sweep goes on
        before = store.read(parent).extra.get(RECORD_KEY)  # fresh: another process may have recorded one since
        if isinstance(before, dict) and any("macro_f1" in t for t in before.get("tasks") or []
                                            if isinstance(t, dict)):
            return before  # a comparison made before stays as it was
        tasks, answers = [{"task": "-", "note": f"not compared: {exc}"}], {}
    record = {"strategies": {s: m.session_id for s, m in synced.items()}, "tasks": tasks,
              "answers": _write_answers(store, meta, answers), "final": final}
    compared = [t for t in tasks if "macro_f1" in t]

    def apply(meta: SessionMetadata) -> None:
        meta.extra[RECORD_KEY] = record
        status = meta.execution_status
        status.models_trained = [meta.model_config.get("selected_model") or "-"]
        if compared:
            status.test_f1 = max(max(t["macro_f1"].values()) for t in compared)
        if final:
            transitions.mark_ended(meta, succeeded=bool(compared),
                                   failure="no task could be compared: see its two tasks runs")
    try:
        store.update(parent, apply)
    except SessionError:
        return None
    return record


def _write_answers(store: SessionStore, meta: SessionMetadata, answers: dict[str, list[dict[str, Any]]]) -> dict[
        str, str]:
    """Each task's per-row answers of both strategies as CSV in the parent's own folder: {task: file}."""
    import csv
    import io
    import re

    from llm_tool import outputs

    folder = store.output_dirs(meta)[0] / ANSWERS_FOLDER
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for n, (task, rows) in enumerate(answers.items(), start=1):
        name = f"{n:02d}_" + (re.sub(r"[^A-Za-z0-9._-]+", "_", task)[:60].strip("._") or "task") + ".csv"
        handle = io.StringIO()
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["row"])
        writer.writeheader()
        writer.writerows(rows)
        files[name] = handle.getvalue().encode("utf-8")
        names[task] = str(folder / name)
    if files:
        outputs.write_files(folder, files, outputs.Rules(force=True, owned=folder))
    return names


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def _signed(value: Any) -> str:
    return f"{value:+.3f}" if isinstance(value, (int, float)) else "-"


def table_rows(record: dict[str, Any] | None) -> list[list[str]]:
    """One row per task (language "all") and per language of it: support, each strategy's macro-F1, the
    difference per_language - multilingual with its 95% interval, and what it says (untrusted text left as is)."""
    rows: list[list[str]] = []
    for task in (record or {}).get("tasks") or []:
        if not isinstance(task, dict):
            continue
        if "macro_f1" not in task:
            rows.append([str(task.get("task")), "all", "-", "-", "-", "-", "-", str(task.get("note") or "")])
            continue
        diff = task.get("difference") or {}
        rows.append([str(task["task"]), "all", str(task.get("test_rows")), _num(task["macro_f1"].get("multilingual")),
                     _num(task["macro_f1"].get("per_language")), _signed(diff.get("diff")),
                     f"{_signed(diff.get('ci_low'))} to {_signed(diff.get('ci_high'))}", str(diff.get("conclusion"))])
        for lang in task.get("languages") or []:
            rows.append(["", str(lang.get("language")), str(lang.get("support")),
                         _num(lang.get("multilingual_macro_f1")), _num(lang.get("per_language_macro_f1")),
                         _signed(lang.get("diff")), f"{_signed(lang.get('ci_low'))} to {_signed(lang.get('ci_high'))}",
                         f"{lang.get('conclusion')} (per_language: {lang.get('answered_by')})"])
    return rows


HEADERS = ["task", "language", "test rows", "multilingual F1", "per_language F1", "difference", "95% interval",
           "what it says"]
EXPLAINED = ("Macro-F1 on the same test rows; difference = per_language - multilingual, 95% paired bootstrap "
             "interval (rows resampled together). per_language answers each row with its language's model, else "
             "with its fallback (all languages).")


def plain_lines(record: dict[str, Any] | None) -> list[str]:
    """The comparison as plain text lines (the scheduler's last words, logs)."""
    rows = table_rows(record)
    if not rows:
        return ["no comparison yet"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=False)) + "  " + HEADERS[-1]]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]
    return [*lines, EXPLAINED]


def markdown(name: str, record: dict[str, Any] | None, parent: str | None) -> str:
    """The comparison as Markdown (`sweep report`, `report PARENT`)."""
    from llm_tool.sweeps.report import markdown_table

    record = record or {}
    arms = record.get("strategies") or {}
    lines = [f"# Language strategies `{name}`", "", f"Benchmark session: `{parent or '-'}`; tasks runs: " +
             ", ".join(f"{s} `{sid}`" for s, sid in arms.items()), "",
             markdown_table(HEADERS, table_rows(record)) if table_rows(record) else "No comparison yet.", "",
             EXPLAINED, ""]
    for task, path in (record.get("answers") or {}).items():
        lines.append(f"- answers of each test row for `{task}`: `{path}`")
    return "\n".join(lines) + "\n"
