"""A learning curve as a table and a few plain lines (`llm-tool curve`, `sessions show`, the Training Studio)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _score(value: Any) -> str:
    return f"{value:.3f}" if _is_number(value) else "-"


def _text(value: Any) -> str:
    """A recorded value as a cell (a session file may come from someone else: escaped, bounded)."""
    from llm_tool.untrusted import shown

    return escape(shown(value, 40)) if value is not None else "-"


def curve_table(record: dict[str, Any], title: str) -> Table:
    """One row per fraction (rows, seeds, mean and interval), then the estimates at 2x and 4x the data."""
    table = Table(title=escape(title), title_justify="left")
    for column in ("training data", "rows", "runs", "macro-F1", "95% interval"):
        table.add_column(column, justify="left" if column == "training data" else "right")
    for point in record.get("points") or []:
        if not isinstance(point, dict):
            continue
        low, high = point.get("ci_low"), point.get("ci_high")
        fraction = point.get("fraction")
        seeds = point.get("seed_scores")
        share = f"{100 * float(fraction or 0):g}%" if _is_number(fraction) else "-"
        table.add_row(share, _text(point.get("train_rows")),
                      str(len(seeds)) if isinstance(seeds, list) else "-", _score(point.get("mean")),
                      f"{_score(low)} – {_score(high)}" if low is not None else "-")
    fit: dict[str, Any] = record["fit"] if isinstance(record.get("fit"), dict) else {}
    for estimate in fit.get("estimates") or []:
        if isinstance(estimate, dict) and estimate.get("macro_f1") is not None:
            low, high = estimate.get("low"), estimate.get("high")
            table.add_row(f"{_text(estimate.get('factor'))}x (estimate)", _text(estimate.get("train_rows")), "-",
                          _score(estimate.get("macro_f1")),
                          f"{_score(low)} – {_score(high)}" if low is not None else "-", style="italic")
    return table


def curve_lines(record: dict[str, Any]) -> list[str]:
    """The fit and what it says, in plain words (escaped for Rich)."""
    from llm_tool.untrusted import shown

    fit: dict[str, Any] = record["fit"] if isinstance(record.get("fit"), dict) else {}
    lines = []
    if all(_is_number(fit.get(k)) for k in ("a", "b", "c")):
        lines.append(f"fit: macro-F1 = {fit['a']:.3f} - {fit['b']:.3f} · rows^-{fit['c']:.3f} "
                     f"(R² {_score(fit.get('r2'))}); ceiling {fit['a']:.3f}")
    if fit.get("note"):
        lines.append(shown(fit["note"], 300))
    if record.get("plot"):
        lines.append(f"plot: {shown(record['plot'], 300)}")
    return [escape(line) for line in lines]


def print_curve(record: dict[str, Any] | None, title: str) -> None:
    from llm_tool.ui.console import console, info

    if not record or not record.get("points"):
        info("no run of the curve has finished yet")
        return
    console.print(curve_table(record, title))
    for line in curve_lines(record):
        info(line)
