"""`llm-tool report`: an HTML report with figures of a trained model (training curves, confusion, F1, PR)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    report = commands.add_parser(
        "report", help="write an HTML report (with PNG figures) of a trained model",
        description="Write report.html (self-contained: figures embedded) and the PNG figures of a trained model: "
                    "training curves, confusion matrix, F1 per class, per language, PR curves (multi-label), "
                    "settings, data fingerprint and versions.")
    report.add_argument("ref", metavar="SESSION|MODEL_DIR",
                        help="session number, id or name, latest (the newest with a saved model), or a model folder")
    report.add_argument("-o", "--output", type=Path, help="folder to write into (default: <model>/report)")
    report.add_argument("--force", action="store_true", help="replace a report already in --output")
    report.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from llm_tool.results.report import build_model_report
    from llm_tool.sessions import SessionStore
    from llm_tool.training.evaluate import resolve_model
    from llm_tool.ui.console import info, success
    from llm_tool.ui.results_view import loading

    store = SessionStore()
    from llm_tool.training.task_predict import tasks_parent_of

    parent = tasks_parent_of(store, args.ref)
    if parent is not None:  # a tasks run: one section per task, and an index
        from llm_tool.results.task_report import build_tasks_report

        with loading("Drawing the figures of every task…"):
            tasks = build_tasks_report(store, *parent, args.output, force=args.force)
        success(f"report written: {escape(str(tasks.html))} ({len(tasks.sections)} task sections)")
        return 0
    if _curve_report(store, args) or _strategies_report(store, args):
        return 0
    ref = resolve_model(store, args.ref)
    with loading("Drawing the figures…"):
        report = build_model_report(store, ref, args.output, force=args.force)
    success(f"report written: {escape(str(report.html))}")
    for image in report.images:
        info(f"  {escape(str(image))}")
    return 0


def _curve_report(store: Any, args: argparse.Namespace) -> bool:
    """The parent session of `llm-tool curve`: its table, fit and plot (into -o, default reports/); False for any
    other reference. The curve is the home's sweep whose state names this session as its parent (the session file
    itself names nothing that is read or written)."""
    from llm_tool.errors import LlmToolError
    from llm_tool.sweeps import curve
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.console import success

    try:
        meta = store.read(store.resolve(args.ref))
    except LlmToolError:
        return False
    if meta.training_session.workflow != curve.WORKFLOW:
        return False
    states = [state for _, state, _ in SweepStore(store.home).all() if state is not None and state.kind == "curve"
              and state.parent_session is not None and state.parent_session.session_id == meta.session_id]
    if not states:
        return False
    files = curve.write_report(states[0], (args.output or Path("reports")).expanduser(), force=args.force,
                               store=store)
    success("wrote " + ", ".join(str(f) for f in files))
    return True


def _strategies_report(store: Any, args: argparse.Namespace) -> bool:
    """The parent session of `benchmark --language-strategies`: the comparison recorded on it, as Markdown (into
    -o, default reports/); False for any other reference."""
    from llm_tool.errors import LlmToolError
    from llm_tool.sweeps.strategy_record import RECORD_KEY

    try:
        meta = store.read(store.resolve(args.ref))
    except LlmToolError:
        return False
    record = meta.extra.get(RECORD_KEY)
    if meta.training_session.workflow != "benchmark" or not isinstance(record, dict):
        return False
    import re

    from llm_tool.ui.strategies_view import write_comparison

    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(meta.training_session.sweep_id or ""))[:60].strip("._")
    write_comparison(name or meta.session_id, record, meta.session_id, (args.output or Path("reports")).expanduser(),
                     force=args.force)
    return True
