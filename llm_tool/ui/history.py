"""The history table (20 most recent sessions) that stays readable at 80 columns and in redirected output."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llm_tool.ui.console import console, plain, safe, status_text
from llm_tool.ui.tables import format_duration

WIDE = 100  # from this width on, the Time column shows too


def shorten_left(value: Any, width: int) -> str:
    """Keep the distinctive end of a model or file name: ``…/all-MiniLM-L6-v2``, ``…ary_data.csv``."""
    text = plain(value if value is not None else "-", limit=10_000)
    if len(text) <= width:
        return text
    tail = text.rsplit("/", 1)[-1]
    if "/" in text and len(tail) + 2 <= width:
        return "…/" + tail
    return "…" + text[-(width - 1):]


def shorten_right(value: Any, width: int) -> str:
    text = plain(value if value is not None else "", limit=10_000)
    return text if len(text) <= width else text[:max(1, width - 1)] + "…"


def share_widths(free: int, needed: list[int]) -> list[int]:
    """Split ``free`` characters between columns: none gets more than it needs, the rest goes to those that
    need more (a short data file name leaves room for a long model name)."""
    widths = [0] * len(needed)
    wanting = [i for i, n in enumerate(needed) if n > 0]
    while wanting and free > 0:
        share = max(1, free // len(wanting))
        for i in list(wanting):
            give = min(share, needed[i] - widths[i], free)
            widths[i] += give
            free -= give
            if widths[i] >= needed[i]:
                wanting.remove(i)
    return widths


def short_date(stamp: Any, *, year: bool = True) -> str:
    """``2026-12-04 03:10`` (``12-04 03:10`` in narrow tables)."""
    try:
        return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M" if year else "%m-%d %H:%M")
    except (TypeError, ValueError):
        return "-"


def _score(value: Any) -> str:
    return "-" if isinstance(value, bool) or not isinstance(value, (int, float)) else f"{value:.3f}"


def history_table(rows: Iterable[dict[str, Any]], title: str, width: int | None = None) -> RenderableType:
    """Rows from ``sessions.summaries.summary_row``; unreadable files are listed below the table with their reason.

    Below 100 columns the Name and Data columns merge (a session's name, else its data file) and Time drops;
    model names are cut from the left so their distinctive end stays."""
    rows = list(rows)
    width = width or console.width
    wide = width >= WIDE
    named = wide and any(row.get("name") for row in rows)
    number_w = max((len(str(row.get("number", ""))) for row in rows), default=1)
    fixed = number_w + (16 if wide else 11) + 11 + 6 + 7 + (6 if wide else 0)  # #, date, status, F1s, time
    columns = 7 + (1 if wide else 0) + (1 if named else 0)
    free = max(18, width - fixed - (3 * columns - 1))  # each column: 2 padding, 1 separator between
    name_w, data_w, model_w = share_widths(free, [
        max((len(str(r.get("name") or "")) for r in rows), default=0) if named else 0,
        max((len(str(_data_label(r, named))) for r in rows), default=1),
        max((len(str(r.get("model") or "")) for r in rows), default=1)])
    table = Table(title=title, title_style="primary", box=box.SIMPLE_HEAD, show_edge=False, expand=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Date", no_wrap=True)
    if named:
        table.add_column("Name", no_wrap=True, max_width=name_w)
    table.add_column("Data" if named or wide else "Name/Data", no_wrap=True, max_width=data_w)
    table.add_column("Model", no_wrap=True, max_width=model_w)
    table.add_column("Status", no_wrap=True, min_width=11)
    table.add_column("Val F1", justify="right", no_wrap=True, min_width=6)
    table.add_column("Test F1", justify="right", no_wrap=True, min_width=7)
    if wide:
        table.add_column("Time", justify="right", no_wrap=True)
    notes: list[str] = []
    for row in rows:
        table.add_row(*_cells(row, named, wide, name_w, data_w, model_w, notes))
    caption = "Val F1: validation macro-F1 (picks the best epoch) · Test F1: test macro-F1 (held out)"
    parts: list[RenderableType] = [table, Text(caption, style="dim")]
    parts += [Text(plain(note, limit=400), style="red") for note in notes]
    return Group(*parts)


def _data_label(row: dict[str, Any], named: bool) -> str:
    """The Data column: the data file, or (narrow tables, no Name column) the session's name when it has one."""
    if row.get("error"):
        return str(row.get("file") or "")
    return str((row.get("name") if not named and row.get("name") else row.get("dataset")) or "-")


def _cells(row: dict[str, Any], named: bool, wide: bool, name_w: int, data_w: int, model_w: int,
           notes: list[str]) -> list[str]:
    if row.get("error"):
        reason = str(row["error"]).removeprefix(f"{row['file']} ")
        notes.append(f"#{row['number']} {row['file']}: {reason}")
        cells = [str(row["number"]), "-"] + (["-"] if named else []) + [
            safe(shorten_left(row["file"], data_w)), "-", status_text("unreadable"), "-", "-"]
        return cells + (["-"] if wide else [])
    benchmark = bool(row.get("benchmark"))
    val = None if benchmark else row.get("best_f1")
    test = row.get("test_f1") if row.get("test_f1") is not None or not benchmark else row.get("best_f1")
    cells = [str(row["number"]), short_date(row.get("timestamp"), year=wide)]
    if named:
        cells.append(safe(shorten_right(row.get("name") or "", name_w)))
    data = _data_label(row, named)
    cut = shorten_right if data == row.get("name") else shorten_left
    cells += [safe(cut(data, data_w)), safe(shorten_left(row.get("model"), model_w)),
              status_text(safe(row["status"])), _score(val), _score(test)]
    if wide:
        cells.append(format_duration(row.get("duration_seconds")))
    return cells
