"""`llm-tool evaluate`: score a trained model on a labelled file, record it in the session, optionally report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llm_tool.training.inference_runners import BACKENDS
from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="score a trained model on a labelled file (same metrics as training)",
        description="Score a trained model on a labelled file: accuracy, macro/micro/weighted F1, per class, "
                    "confusion matrix, per language; multi-label also at the tuned thresholds. The result is saved "
                    "in <model>/evaluations/ and recorded in the session.")
    evaluate.add_argument("ref", metavar="SESSION|MODEL_DIR",
                          help="session number, id or name, latest (the newest with a saved model), or a model folder")
    evaluate.add_argument("--data", type=Path, required=True, help="labelled file (CSV/TSV/JSONL/JSON/Parquet/Excel)")
    evaluate.add_argument("--text-column", help="text column (default: the session's, else 'text')")
    evaluate.add_argument("--label-column", help="label column (default: the session's, else 'label')")
    evaluate.add_argument("--report", action="store_true", help="also write an HTML report next to the result")
    evaluate.add_argument("--json", action="store_true", help="print the result (without per-row predictions) as JSON")
    evaluate.add_argument("--backend", choices=BACKENDS, default="auto",
                          help="auto (default): ONNX Runtime on a CPU, torch on a GPU; torch: bf16 where native")
    evaluate.add_argument("--language-column", help="a tasks run with one model per language: the column giving each "
                                                    "row's language (default: the run's, else detected)")
    evaluate.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from llm_tool.sessions import SessionStore
    from llm_tool.training.evaluate import (
        evaluate_file,
        resolve_model,
        save_evaluation,
        session_columns,
        session_languages,
    )
    from llm_tool.ui.console import info, success
    from llm_tool.ui.results_view import loading, show_evaluation

    store = SessionStore()
    from llm_tool.training.task_predict import find_tasks_parent

    parent = find_tasks_parent(store, args.ref)
    if parent is not None:  # a tasks run: each task scored on the rows annotated for it
        return _evaluate_tasks(args, store, parent)
    ref = resolve_model(store, args.ref)
    columns = session_columns(store, ref)
    with loading(f"Scoring {ref.model_dir.name} on {args.data.name}…"):
        text_column = args.text_column or columns.get("text_column", "text")
        result = evaluate_file(ref.model_dir, args.data, text_column=text_column,
                               label_column=args.label_column or columns.get("label_column") or "label",
                               label_columns=None if args.label_column else columns.get("label_columns"),
                               label_separator=columns.get("label_separator"),
                               languages=session_languages(store, ref), backend=args.backend)
        path = save_evaluation(store, ref, result)
    if args.json:  # stdout holds only the JSON
        summary = {k: v for k, v in result.items() if k != "predictions"}
        print(json.dumps({**summary, "result_file": str(path)}, ensure_ascii=False, indent=2))
        return 0
    show_evaluation(result)
    success(f"evaluation saved: {escape(str(path))}" + ("" if ref.session_path else " (no session owns this model)"))
    if args.report:
        from llm_tool.outputs import Rules
        from llm_tool.results.report import write_report

        with loading("Drawing the figures…"):
            report = write_report(path.with_suffix(""), result, title=f"Evaluation of {ref.model_dir.name} on "
                                                                      f"{result['data_file']}",
                                  rules=Rules(owned=path.parent))
        info(f"report: {escape(str(report.html))}")
    return 0


def _evaluate_tasks(args: argparse.Namespace, store: Any, parent: Any) -> int:
    from rich.markup import escape

    from llm_tool.errors import UserError
    from llm_tool.training.task_evaluate import evaluate_tasks, evaluation_rows, save_tasks_evaluation
    from llm_tool.ui.console import console, success
    from llm_tool.ui.results_view import loading
    from llm_tool.ui.task_results_view import task_evaluation_table

    if args.label_column or args.report:
        raise UserError("a tasks run reads each task's labels as it trained on them: leave out --label-column; "
                        f"for a report use `llm-tool report {parent.meta.session_id}`")
    with loading(f"Scoring {len(parent.tasks)} tasks on {args.data.name}…"):
        result = evaluate_tasks(parent, args.data, text_column=args.text_column,
                                language_column_name=args.language_column, backend=args.backend)
        path = save_tasks_evaluation(store, parent, result)
    if args.json:
        print(json.dumps({**result, "result_file": str(path)}, ensure_ascii=False, indent=2))
        return 0
    console.print(task_evaluation_table(evaluation_rows(result), result["data_file"]))
    success(f"evaluation saved: {escape(str(path))}")
    return 0
