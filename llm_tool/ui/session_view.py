"""`sessions show`: a headline a researcher reads first, the per-class, confusion, language and threshold tables
from the saved metrics, then (with --all) every recorded parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from llm_tool.ui.console import console, info, safe, status_text, warning
from llm_tool.ui.tables import format_duration

if TYPE_CHECKING:
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore


def _score(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def _value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def headline_table(sid: str, head: dict[str, Any]) -> Table:
    table = Table(title=f"Session {safe(sid)}", title_style="primary", show_header=False)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    status = status_text(safe(head["status"]))
    table.add_row("status", status + (f"  ({safe(head['reason'], 300)})" if head.get("reason") else ""))
    table.add_row("test macro-F1", f"{_score(head['test_macro_f1'])}   accuracy {_score(head['test_accuracy'])}")
    table.add_row("validation macro-F1", _score(head["validation_macro_f1"]) + "  (picked the best epoch)")
    parts = f" over {head['segments']} runs (resumed)" if head["segments"] > 1 else ""
    table.add_row("training time", format_duration(head["duration_seconds"]) + parts)
    table.add_row("data", safe(head["data"] or "-", 300) + (f"  [muted]sha256 {head['fingerprint']}…[/muted]"
                                                            if head.get("fingerprint") else ""))
    table.add_row("model", safe(head["model"] or "-", 300))
    for key, value, why in head.get("settings", []):
        text = "auto  [muted](chosen when the run starts)[/muted]" if value == "auto" else safe(_value(value))
        table.add_row(key, text + (f"  [muted](auto: {safe(why, 300)})[/muted]" if why else ""))
    if head.get("long_text"):
        table.add_row("long texts", safe(head["long_text"], 400))
    split = safe(head["split"] or "-")
    table.add_row("split", split + (f"  (train / validation / test: {head['split_sizes']})" if head["split_sizes"]
                                    else ""))
    if head.get("languages"):
        table.add_row("languages", safe(head["languages"]))
    if head.get("imported_fields"):
        table.add_row("kept from the imported file", safe(", ".join(head["imported_fields"]), 300)
                      + "  [muted](not used; see --all)[/muted]")
    return table


def show_session(store: SessionStore, meta: SessionMetadata, *, everything: bool) -> None:
    from llm_tool.sessions.summaries import flatten, headline, saved_metrics
    from llm_tool.ui.results_view import confusion_table, language_table, per_class_table, thresholds_table
    from llm_tool.ui.tables import details_table

    metrics = saved_metrics(meta, store)
    head = headline(meta, store, metrics)
    console.print(headline_table(meta.session_id, head))
    for message in head["warnings"]:
        warning(message)
    from llm_tool.sessions.task_parent import is_tasks_parent

    if is_tasks_parent(meta):  # trains nothing itself: its children's table
        from llm_tool.ui.tasks_view import show_parent

        show_parent(store, meta)
    compared = meta.extra.get("language_comparison")
    if isinstance(compared, dict):  # a benchmark of language strategies: the comparison recorded on it
        from llm_tool.ui.strategies_view import print_comparison

        print_comparison(compared, f"Language strategies ({meta.session_id})")
    curve = meta.extra.get("learning_curve")
    if isinstance(curve, dict) and curve.get("points"):  # the parent session of `llm-tool curve`
        from llm_tool.ui.curve_view import curve_lines, curve_table

        console.print(curve_table(curve, f"Learning curve ({meta.session_id})"))
        for line in curve_lines(curve):
            info(line)
    if metrics:
        split = "test" if isinstance(metrics.get("test"), dict) else "validation"
        report = metrics.get(split)
        if isinstance(report, dict):
            console.print(per_class_table(report, f"Per class ({split})"))
            confusion = confusion_table(report, f"Confusion matrix ({split})")
            if confusion is not None:
                console.print(confusion)
        for extra in (language_table(metrics), thresholds_table(metrics)):
            if extra is not None:
                console.print(extra)
    if everything:
        console.print(details_table(flatten(meta, store), f"Session {meta.session_id}: every recorded field"))
    else:
        info(f"every parameter: llm-tool sessions show {meta.session_id} --all   (report: llm-tool report "
             f"{meta.session_id})")
