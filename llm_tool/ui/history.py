"""The history table (20 most recent sessions) that stays readable at 80 columns and in redirected output."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llm_tool.ui import distinct
from llm_tool.ui.console import console, plain, safe, status_text
from llm_tool.ui.tables import format_duration

WIDE = 100  # from this width on, the Time column shows too


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


TEXT_COLUMNS = ("name", "data", "model", "label")
HEADERS = {"name": "Name", "data": "Data", "model": "Model", "label": "Label", "name/data": "Name/Data"}
MOVED_OUT_FIRST = ("label", "data", "name", "model")  # columns the same on every row, set below the table


def _values(rows: list[dict[str, Any]], key: str) -> list[str]:
    if key == "data":
        return [str(r.get("file") if r.get("error") else r.get("dataset") or "-") for r in rows]
    if key == "name/data":
        return [str(r.get("name") or "") or _values([r], "data")[0] for r in rows]
    default = "" if key == "name" else "-"
    return [plain(r.get(key) or default, limit=10_000) if not r.get("error") else "-" for r in rows]


def _groups(rows: list[dict[str, Any]], key: str) -> list[list[int]]:
    """Rows cut together: in the merged Name/Data column, names are compared with names, files with files."""
    named = [i for i, r in enumerate(rows) if r.get("name") and not r.get("error")]
    if key == "name":
        return [named]
    if key != "name/data":
        return [list(range(len(rows)))]
    return [named, [i for i in range(len(rows)) if i not in named]]


def _need(rows: list[dict[str, Any]], key: str) -> int:
    values = _values(rows, key)
    return max((distinct.need([values[i] for i in g], keep_tail=key == "model") for g in _groups(rows, key) if g),
               default=1)


def _layout(rows: list[dict[str, Any]], width: int, fixed: int, fixed_columns: int) -> tuple[dict[str, int], list[str]]:
    """Width of each text column, and the columns left out because every row has the same value there.

    A column that tells rows apart needs room for each row's distinguishing part; a column that is the same on
    every row is shown only when it fits whole, else named once below the table; when even that does not fit,
    Name and Data share a column (a session's name, else its data file)."""
    keys = [k for k in TEXT_COLUMNS if k != "name" or any(r.get("name") for r in rows)]
    full = {k: max(len(HEADERS[k]), *(len(v) for v in _values(rows, k))) for k in (*keys, "name/data")}
    same = {k for k in keys if len(rows) > 1 and len(set(_values(rows, k))) == 1}

    def free(columns: list[str]) -> int:
        return width - fixed - 2 * (fixed_columns + len(columns) - 1)

    def needs(columns: list[str]) -> dict[str, int]:
        return {k: max(len(HEADERS[k]), full[k] if k in same else _need(rows, k)) for k in columns}

    common: list[str] = []
    for key in MOVED_OUT_FIRST:
        if sum(needs(keys).values()) <= free(keys):
            break
        if key in same and key in keys:
            keys.remove(key)
            common.append(key)
    if sum(needs(keys).values()) > free(keys) and "name" in keys and "data" in keys:
        keys[keys.index("name"):keys.index("data") + 1] = ["name/data"]
    room = max(len(keys) * 4, free(keys))
    wanted = needs(keys)
    first = share_widths(room, list(wanted.values()))
    extra = share_widths(room - sum(first), [full[k] - w for k, w in zip(keys, first, strict=True)])
    return {k: a + b for k, a, b in zip(keys, first, extra, strict=True)}, common


def history_table(rows: Iterable[dict[str, Any]], title: str, width: int | None = None) -> RenderableType:
    """Rows from ``sessions.summaries.summary_row``; unreadable files are listed below the table with their reason.

    At every width each row keeps what tells it apart from the others (see ``_layout``); below 100 columns the
    Time column drops and dates lose their year."""
    rows = list(rows)
    width = width or console.width
    wide = width >= WIDE
    number_w = max((len(str(row.get("number", ""))) for row in rows), default=1)
    status_w = max((len(str(row.get("status") or "")) for row in rows), default=6)
    scores = ("Val F1", "Test F1") if wide else ("Val", "Test")  # narrow: the caption says they are F1
    fixed = number_w + (16 if wide else 11) + max(6, status_w) + (13 if wide else 10) + (6 if wide else 0)
    widths, common = _layout(rows, width, fixed, 6 if wide else 5)
    cells = {k: _column_cells(rows, k, w) for k, w in widths.items()}
    table = Table(title=title, title_style="primary", box=box.SIMPLE_HEAD, show_edge=False, expand=False,
                  collapse_padding=True, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Date", no_wrap=True)
    for key, w in widths.items():
        table.add_column(HEADERS[key], no_wrap=True, max_width=w)
    table.add_column("Status", no_wrap=True)
    table.add_column(scores[0], justify="right", no_wrap=True, min_width=5)
    table.add_column(scores[1], justify="right", no_wrap=True, min_width=5)
    if wide:
        table.add_column("Time", justify="right", no_wrap=True)
    notes: list[str] = []
    for i, row in enumerate(rows):
        table.add_row(*_cells(row, wide, [safe(cells[k][i]) for k in widths], notes))
    caption = f"{scores[0]}: validation macro-F1 (picks the best epoch) · {scores[1]}: test macro-F1 (held out)"
    parts: list[RenderableType] = [table]
    if common:
        shared = " · ".join(f"{HEADERS[k].lower()} {_values(rows[:1], k)[0]}" for k in TEXT_COLUMNS if k in common)
        parts.append(Text(plain(f"Same on every row: {shared}", limit=400)))
    parts.append(Text(caption, style="dim"))
    parts += [Text(plain(note, limit=400), style="red") for note in notes]
    return Group(*parts)


def _column_cells(rows: list[dict[str, Any]], key: str, width: int) -> list[str]:
    values = _values(rows, key)
    out = list(values)
    for group in _groups(rows, key):
        texts = distinct.cut_all([values[i] for i in group], width, keep_tail=key == "model")
        for i, text in zip(group, texts, strict=True):
            out[i] = text
    return out


def _cells(row: dict[str, Any], wide: bool, texts: list[str], notes: list[str]) -> list[str]:
    if row.get("error"):
        reason = str(row["error"]).removeprefix(f"{row['file']} ")
        notes.append(f"#{row['number']} {row['file']}: {reason}")
        return [str(row["number"]), "-", *texts, status_text("unreadable"), "-", "-"] + (["-"] if wide else [])
    benchmark = bool(row.get("benchmark"))
    val = None if benchmark else row.get("best_f1")
    test = row.get("test_f1") if row.get("test_f1") is not None or not benchmark else row.get("best_f1")
    cells = [str(row["number"]), short_date(row.get("timestamp"), year=wide), *texts,
             status_text(safe(row["status"])), _score(val), _score(test)]
    if wide:
        cells.append(format_duration(row.get("duration_seconds")))
    return cells
