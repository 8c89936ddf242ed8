"""Studio actions on a trained model beyond typing texts: evaluate it on a labelled file, write its report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from llm_tool.errors import DatasetError
from llm_tool.model_folder import MODEL_CARD_FILE
from llm_tool.ui.console import error, info, success
from llm_tool.ui.results_view import loading, show_evaluation
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import Choice, column_question, data_path_question, select

if TYPE_CHECKING:
    from llm_tool.data.formats import Table

TRAINED_FLAGS = "__trained_label_columns__"  # the label choice: the model's own 0/1 label columns

MODEL_ACTION = select("model_action", "What do you want to do with this model?", (
    Choice("Type texts and see the predicted labels", "type"),
    Choice("Evaluate it on a labelled file", "evaluate", "the training metrics on another file; saved in the session"),
    Choice("Write its report (HTML + figures)", "report", "training curves, confusion matrix, F1 per class/language"),
    Choice("Learning curve: would more annotations help?", "curve",
           "train on 10/25/50/100% of its rows (same test rows), fit the curve, estimate the score at 2x and 4x"),
), "type")


def evaluate_model(ctx: Context, model_dir: Path, session_path: Path | None) -> None:
    """Ask for a labelled file, score the model on it (columns as in training), show and record the result."""
    from llm_tool.training.evaluate import ModelRef, evaluate_file, save_evaluation, session_columns

    data, table = labelled_file(ctx)
    ref = ModelRef(model_dir, session_path)
    trained = session_columns(ctx.store, ref)
    text_column, label_column, label_columns = ask_columns(ctx, table, trained)
    with loading(f"Scoring the model on {data.name}…"):
        result = evaluate_file(model_dir, data, text_column=text_column, label_column=label_column,
                               label_columns=label_columns, label_separator=trained.get("label_separator"))
        path = save_evaluation(ctx.store, ref, result)
    show_evaluation(result)
    success(f"evaluation saved: {escape(str(path))}")


def labelled_file(ctx: Context) -> tuple[Path, Table]:
    """The path of a labelled file, read through the data readers (asked again while it cannot be read)."""
    from llm_tool.data.formats import read_table

    while True:
        data: Path = ctx.ask(data_path_question())
        try:
            return data, read_table(data)
        except DatasetError as exc:
            error(str(exc))


def ask_columns(ctx: Context, table: Table, trained: dict[str, Any]) -> tuple[str, str | None, list[str] | None]:
    """Text and label columns picked from the file's own columns, those the model was trained with preselected.
    A model trained on 0/1 label columns offers them together when the file has them all."""
    from llm_tool.wizard.detect import column_hints, guess_label_column, guess_text_column

    hints = column_hints(table)
    text_default = trained.get("text_column")
    text_column: str = ctx.ask(column_question(
        "text_column", "Text column", table.columns,
        text_default if text_default in table.columns else guess_text_column(table), hints))
    others = [c for c in table.columns if c != text_column]
    if not others:
        raise DatasetError(f"the file has no column besides {text_column!r} to read the labels from")
    flags = [c for c in trained.get("label_columns") or [] if isinstance(c, str)]
    choices = [Choice(c, c, hints.get(c, "")) for c in others]
    default = trained.get("label_column")
    if flags and all(c in others for c in flags):
        choices.insert(0, Choice(f"The 0/1 columns it was trained on: {', '.join(flags)}", TRAINED_FLAGS))
        default = default if default in others else TRAINED_FLAGS
    if default not in others and default != TRAINED_FLAGS:
        default = guess_label_column(table, text_column)
    label = ctx.ask(select("label_column", "Label column", choices, default))
    if label == TRAINED_FLAGS:
        return text_column, None, flags
    return text_column, label, trained.get("label_columns") if label == trained.get("label_column") else None


def write_model_report(ctx: Context, model_dir: Path, session_path: Path | None) -> None:
    from llm_tool.results.report import build_model_report
    from llm_tool.training.evaluate import ModelRef

    with loading("Drawing the figures…"):
        report = build_model_report(ctx.store, ModelRef(model_dir, session_path))
    success(f"report written: {escape(str(report.html))}")
    card = escape(str(model_dir / MODEL_CARD_FILE))
    info(f"  {len(report.images)} figures (PNG) next to it; the model card is {card}")
