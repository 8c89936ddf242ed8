"""The comparison of the two language strategies: a table (`sweep status`, `sessions show`) and a report file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from llm_tool.ui.console import console, info, safe

if TYPE_CHECKING:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps.state import SweepState


def comparison_table(record: dict[str, Any] | None, title: str) -> Table:
    """One row per task (language "all") and one per language of it, as `strategies.table_rows` gives them."""
    from llm_tool.sweeps.strategy_record import HEADERS, table_rows

    table = Table(title=safe(title, 200), title_justify="left")
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("task", "language", "what it says") else "right",
                         overflow="fold")
    for row in table_rows(record):
        table.add_row(*(safe(cell, 300) for cell in row))
    return table


def print_comparison(record: dict[str, Any] | None, title: str) -> None:
    from llm_tool.sweeps.strategy_record import EXPLAINED

    if not record or not record.get("tasks"):
        info("no comparison yet: the strategies' models are still training")
        return
    console.print(comparison_table(record, title))
    info(EXPLAINED)
    for task, path in (record.get("answers") or {}).items():
        info(f"  answers of each test row ({safe(task, 80)}): {safe(path, 300)}")


def report_strategies(state: SweepState, store: SessionStore, folder: Path, *, force: bool = False) -> int:
    """`sweep report NAME` of such a benchmark: `<folder>/<name>.md` with the comparison (recorded again first)."""
    from llm_tool.sweeps import strategy_record

    record = strategy_record.finalize(state, store)
    parent = state.parent_session.session_id if state.parent_session else None
    write_comparison(state.name, record, parent, folder, force=force)
    return 0


def write_comparison(name: str, record: dict[str, Any] | None, parent: str | None, folder: Path, *,
                     force: bool = False) -> None:
    """`<folder>/<name>.md` (`sweep report NAME`, `report PARENT`), through llm_tool.outputs."""
    from llm_tool import outputs
    from llm_tool.sweeps.strategy_record import markdown
    from llm_tool.ui.console import success

    text = markdown(name, record, parent)
    files = outputs.write_files(folder, {f"{name}.md": text.encode("utf-8")}, outputs.Rules(force=force))
    success("wrote " + ", ".join(safe(str(f), 300) for f in files))
