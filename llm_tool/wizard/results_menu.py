"""Studio actions on a trained model beyond typing texts: evaluate it on a labelled file, write its report."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from llm_tool.model_folder import MODEL_CARD_FILE
from llm_tool.ui.console import info, success
from llm_tool.ui.results_view import loading, show_evaluation
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import Choice, Question, data_path_question, select

MODEL_ACTION = select("model_action", "What do you want to do with this model?", (
    Choice("Type texts and see the predicted labels", "type"),
    Choice("Evaluate it on a labelled file", "evaluate", "the training metrics on another file; saved in the session"),
    Choice("Write its report (HTML + figures)", "report", "training curves, confusion matrix, F1 per class/language"),
), "type")


def evaluate_model(ctx: Context, model_dir: Path, session_path: Path | None) -> None:
    """Ask for a labelled file, score the model on it (columns as in training), show and record the result."""
    from llm_tool.training.evaluate import ModelRef, evaluate_file, save_evaluation, session_columns

    data: Path = ctx.ask(data_path_question())
    ref = ModelRef(model_dir, session_path)
    columns = session_columns(ctx.store, ref)
    text_column: str = ctx.ask(Question("text_column", "text", "Text column", default=columns.get("text_column",
                                                                                                    "text")))
    label_column: str = ctx.ask(Question("label_column", "text", "Label column",
                                         default=columns.get("label_column") or "label"))
    as_trained = label_column.strip() == columns.get("label_column")  # then 0/1 label columns apply too
    with loading(f"Scoring the model on {data.name}…"):
        result = evaluate_file(model_dir, data, text_column=text_column.strip(), label_column=label_column.strip(),
                               label_columns=columns.get("label_columns") if as_trained else None,
                               label_separator=columns.get("label_separator"))
        path = save_evaluation(ctx.store, ref, result)
    show_evaluation(result)
    success(f"evaluation saved: {escape(str(path))}")


def write_model_report(ctx: Context, model_dir: Path, session_path: Path | None) -> None:
    from llm_tool.results.report import build_model_report
    from llm_tool.training.evaluate import ModelRef

    with loading("Drawing the figures…"):
        report = build_model_report(ctx.store, ModelRef(model_dir, session_path))
    success(f"report written: {escape(str(report.html))}")
    card = escape(str(model_dir / MODEL_CARD_FILE))
    info(f"  {len(report.images)} figures (PNG) next to it; the model card is {card}")
