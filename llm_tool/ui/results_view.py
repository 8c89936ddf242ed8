"""Rich views of results: an evaluation's tables, per-language and threshold tables, report paths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.markup import escape
from rich.table import Table

from llm_tool.ui.console import console, err_console


def _num(value: Any, spec: str = ".4f") -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    return format(value, spec)


def _text(value: Any, limit: int = 60) -> str:
    from llm_tool.results.text import clean

    return escape(clean(value, limit))


@contextmanager
def loading(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner on the terminal while something loads (nothing when output is redirected). It yields a function
    that says what is happening now: the spinner's new text, or a line on stderr when output is redirected."""
    if err_console.is_terminal:
        with err_console.status(escape(message)) as status:
            yield lambda text: status.update(escape(text))
    else:
        yield lambda text: err_console.print(escape(text), style="dim", highlight=False)


def summary_table(metrics: dict[str, Any], keys: tuple[str, ...], title: str) -> Table:
    table = Table(title=title, title_style="primary")
    for column in ("split", "accuracy", "macro F1", "micro F1", "weighted F1", "rows"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for key in keys:
        report = metrics.get(key)
        if isinstance(report, dict):
            table.add_row(key.replace("_tuned", " (tuned thresholds)"), _num(report.get("accuracy")),
                          _num(report.get("macro_f1")), _num(report.get("micro_f1")), _num(report.get("weighted_f1")),
                          str(report.get("num_samples", "-")))
    return table


def per_class_table(report: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_style="primary")
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for name, row in (report.get("per_class") or {}).items():
        table.add_row(_text(name), _num(row.get("precision")), _num(row.get("recall")), _num(row.get("f1")),
                      str(row.get("support", "-")))
    return table


def confusion_table(report: dict[str, Any], title: str) -> Table | None:
    matrix = report.get("confusion_matrix") or {}
    if "matrix" not in matrix:
        return None
    table = Table(title=title + " (rows true, columns predicted)", title_style="primary")
    table.add_column("")
    for name in matrix["labels"]:
        table.add_column(_text(name, 20), justify="right")
    for name, row in zip(matrix["labels"], matrix["matrix"], strict=False):
        table.add_row(_text(name, 20), *map(str, row))
    return table


def language_table(metrics: dict[str, Any], splits: tuple[str, ...] = ("validation", "test")) -> Table | None:
    """Macro-F1 per language of each split's ``per_language`` section (None when there is none)."""
    table = Table(title="Per language", title_style="primary")
    for column in ("split", "language", "macro F1", "accuracy", "rows"):
        table.add_column(column, justify="left" if column in ("split", "language") else "right")
    for split in splits:
        section = (metrics.get(split) or {}).get("per_language") if isinstance(metrics.get(split), dict) else None
        for code, values in (section or {}).items():
            table.add_row(split, _text(code, 10), _num(values.get("macro_f1")), _num(values.get("accuracy")),
                          str(values.get("num_samples", "-")))
    return table if table.row_count else None


def thresholds_table(metrics: dict[str, Any]) -> Table | None:
    values = (metrics.get("thresholds") or {}).get("values") if isinstance(metrics.get("thresholds"), dict) else None
    if not values:
        return None
    table = Table(title="Decision thresholds (tuned on validation)", title_style="primary")
    table.add_column("label")
    table.add_column("threshold", justify="right")
    for name, value in values.items():
        table.add_row(_text(name), _num(value, ".3f"))
    return table


def show_evaluation(result: dict[str, Any]) -> None:
    console.print(summary_table(result, ("evaluation", "evaluation_tuned"),
                                f"Evaluation on {_text(result.get('data_file'))}"))
    key = "evaluation_tuned" if isinstance(result.get("evaluation_tuned"), dict) else "evaluation"
    console.print(per_class_table(result[key], f"Per class ({key.replace('_', ' ')})"))
    for table in (confusion_table(result[key], "Confusion matrix"), language_table(result, (key,)),
                  thresholds_table(result)):
        if table is not None:
            console.print(table)
