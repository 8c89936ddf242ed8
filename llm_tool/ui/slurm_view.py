"""The `llm-tool slurm list` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from llm_tool.ui.console import safe

STYLES = {"running": "green", "pending": "yellow", "requeued": "magenta", "completed": "green",
          "interrupted": "yellow", "failed": "red", "cancelled": "dim", "stopping": "yellow"}


def slurm_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Slurm jobs of llm-tool sessions", title_justify="left")
    for column in ("job", "state", "restarts", "session", "name", "progress", "submitted", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        state = str(row["state"])
        style = STYLES.get(state, "")
        progress = f"{row['step']}/{row['total_steps']}" if row.get("total_steps") else ""
        table.add_row(safe(str(row["job_id"])), f"[{style}]{safe(state)}[/]" if style else safe(state),
                      str(row["restarts"]), safe(str(row["session_id"])), safe(str(row.get("name") or "")),
                      progress, safe(str(row.get("submitted_at") or "")), safe(str(row.get("reason") or "")))
    return table
