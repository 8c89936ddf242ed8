"""Test a trained model: pick a completed session, type texts, see the label and the probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.model_folder import CONFIG_FILE
from llm_tool.ui.console import info
from llm_tool.wizard import views
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import INFERENCE_TEXT, GoBack, session_pick_question

LIMIT = 20


def model_dir_of(meta: Any) -> Path | None:
    for value in (meta.execution_status.best_model, meta.output_paths.model_dir):
        if value and (Path(value) / CONFIG_FILE).exists():
            return Path(value)
    return None


def completed_models(ctx: Context) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Completed sessions whose model folder is still there, renumbered 1..N (newest first)."""
    from llm_tool.sessions.summaries import list_rows

    rows: list[dict[str, Any]] = []
    folders: dict[str, Path] = {}
    for row in list_rows(ctx.store, limit=None, status="completed", children=True):  # each task's model
        folder = model_dir_of(ctx.store.read(ctx.store.dir / row["file"]))
        if folder is None:
            continue
        rows.append({**row, "number": len(rows) + 1})
        folders[row["file"]] = folder
        if len(rows) >= LIMIT:
            break
    return rows, folders


def inference_menu(ctx: Context) -> None:
    from llm_tool.training.inference import Predictor
    from llm_tool.ui.history import history_table
    from llm_tool.ui.results_view import loading

    rows, folders = completed_models(ctx)
    if not rows:
        info("no completed session with a saved model yet: train one in the Training Studio first")
        return
    ctx.show(history_table(rows, "Trained models (completed sessions)"))
    name = ctx.ask(session_pick_question(rows, "Which model? Pick a session by its number"))
    from llm_tool.wizard import results_menu  # issue 11: evaluate on a labelled file, write the report

    action = ctx.ask(results_menu.MODEL_ACTION)
    if action != "type":
        from llm_tool.wizard.curve_mode import learning_curve

        run = {"evaluate": results_menu.evaluate_model, "report": results_menu.write_model_report,
               "curve": learning_curve}[action]
        run(ctx, folders[name], ctx.store.dir / name)
        return
    with loading(f"Loading the model in {folders[name]}…") as say:
        predictor = Predictor(folders[name], on_status=say)
        predictor.open()
    info(f"labels: {', '.join(predictor.labels)}{' (multi-label)' if predictor.multi_label else ''}")
    while True:
        try:
            text = ctx.ask(INFERENCE_TEXT)
        except GoBack:
            return
        if not text.strip():
            return
        ctx.show(views.predictions_table(predictor.predict([text])))
