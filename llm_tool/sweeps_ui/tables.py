"""Rich tables of sweeps: the dry-run layout, the sweep list, job status and the leaderboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from llm_tool.sweeps.ranking import ConfigRow
from llm_tool.sweeps.summaries import progress_text
from llm_tool.ui.console import status_text

if TYPE_CHECKING:
    from llm_tool.sweeps.start_stop import SweepPlan


def _num(value: Any, spec: str = ".4f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def _settings(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{k.split('.', 1)[-1]}={json.dumps(v)}" for k, v in overrides.items()) or "-"


def layout_table(plan: SweepPlan) -> Table:
    """Windows, panes and jobs of a planned sweep, in start order (`--dry-run`)."""
    table = Table(title=f"tmux session {plan.tmux_session}: window 0 = control view + scheduler",
                  title_style="primary")
    for column in ("order", "window", "pane", "job", "title", "settings", ""):
        table.add_column(column, justify="right" if column in ("order", "pane") else "left")
    new_keys = {plan.job_key(j): j for j in plan.jobs}
    existing = {j.key: j for j in plan.existing}
    for window in plan.windows:
        for pane, key in enumerate(window.jobs):
            if key in new_keys:
                job = new_keys[key]
                order = plan.first_number + job.number - 1
                table.add_row(str(order), f"{window.index}:{escape(window.name)}", str(pane), key,
                              escape(job.title), escape(_settings(job.overrides)), "[success]new[/success]")
            else:
                old = existing[key]
                table.add_row(str(old.number), f"{window.index}:{escape(window.name)}", str(pane), key,
                              escape(old.title or "?"), escape(_settings(old.overrides)), status_text(old.status))
    return table


def sweeps_table(items: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title="Sweeps", title_style="primary")
    for column in ("name", "kind", "state", "jobs", "statuses", "tmux", "best", "created"):
        table.add_column(column)
    for item in items:
        if item.get("error"):
            table.add_row(escape(item["name"]), "-", "[error]unreadable[/error]", "-", escape(item["error"]), "-",
                          "-", "-")
            continue
        tally = ", ".join(f"{n} {s}" for s, n in sorted(item["counts"].items()))
        best = item.get("best")
        table.add_row(escape(item["name"]), item.get("kind") or "-", status_text(item.get("state") or "?"),
                      str(item["jobs"]), tally, "alive" if item.get("tmux_alive") else "-",
                      escape(f"{best['title']} {best['score']:.4f}") if best else "-",
                      str(item.get("created_at") or "-")[:19])
    return table


def jobs_table(name: str, rows: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=f"Sweep {name}", title_style="primary")
    for column in ("#", "job", "window", "pane", "status", "progress", "loss", "best F1", "test F1", "gpu",
                   "session"):
        table.add_column(column, justify="right" if column in ("#", "loss", "best F1", "test F1") else "left")
    for row in rows:
        window = row.get("window") or "-"
        if row.get("window_index") is not None:
            window = f"{row['window_index']}:{window}"
        table.add_row(str(row.get("number")), escape(str(row.get("title"))), escape(window),
                      str(row.get("pane_id") or "-"), status_text(str(row.get("status"))), progress_text(row),
                      _num(row.get("loss")), _num(row.get("best_f1")), _num(row.get("test_f1")),
                      str(row.get("gpu") if row.get("gpu") is not None else "-"), str(row.get("session_id") or "-"))
    return table


def leaderboard_table(configs: Sequence[ConfigRow], *, title: str = "Leaderboard", width: int = 80) -> Table:
    """Configurations ranked by mean macro-F1 (ties with the best share rank 1), fitted to ``width`` columns."""
    from llm_tool.sweeps_ui.fit import leaderboard_columns

    split = next((c.split for c in configs if c.best), "test") or "test"
    table = Table(title=f"{title} (ranked by {split} macro-F1)", title_style="primary")
    columns = leaderboard_columns(list(configs), width)
    for column in columns:
        size = column.width or None  # names: exactly the width they were shortened to
        table.add_column(escape(column.header), justify=column.justify, no_wrap=True, overflow="ellipsis",
                         min_width=size, max_width=size)
    for i, config in enumerate(configs):
        table.add_row(*[column.styled(config, column.cells[i]) for column in columns])
    lines = ["Δ: mean macro-F1 minus the best's on the same test rows, 95% paired bootstrap CI; "
             "tied: the CI contains 0 (same rank as the best)."]
    models = {c.model for c in configs}
    if len(configs) > 1 and len(models) == 1 and not any(col.header == "model" for col in columns):
        lines.insert(0, f"model: {escape(str(next(iter(models))))}")
    lines += [f"{escape(c.title)}: {escape(c.note)}" for c in configs if c.note and c.mean is not None]
    table.caption = "\n".join(lines)
    table.caption_justify = "left"
    return table
