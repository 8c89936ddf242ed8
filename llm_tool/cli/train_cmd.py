"""`llm-tool train` and `llm-tool infer`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llm_tool.training.inference_runners import BACKENDS
from llm_tool.ui.options import Commands, add_budget_options, add_nproc_option, budget_sets


def register(commands: Commands) -> None:
    train = commands.add_parser("train", help="fine-tune a classifier from a config JSON",
                                description="Fine-tune a classifier. CONFIG is a JSON file with dataset_config "
                                            "and model_config (a session metadata file works too).")
    train.add_argument("config", nargs="?", type=Path, help="config JSON")
    train.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting, e.g. --set model_config.epochs=5 (repeatable)")
    train.add_argument("--session-name", help="a name for this session (shown in lists, usable as its id)")
    add_budget_options(train)
    train.add_argument("--dry-run", action="store_true", help="validate and print the plan; train nothing")
    train.add_argument("--session", type=Path, help=argparse.SUPPRESS)  # run an existing pending session file
    train.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    from llm_tool.ui.slurm_args import add_slurm_options

    add_slurm_options(train, default="foreground")
    add_nproc_option(train)
    train.add_argument("--max-parallel", type=int, metavar="N",
                       help="several tasks (one model each) with --backend tmux or slurm: how many train at once "
                            "(default: one per GPU, 1 on a CPU-only machine)")
    train.set_defaults(func=run_train)

    infer = commands.add_parser("infer", help="predict labels with a trained model")
    infer.add_argument("ref", nargs="?", metavar="SESSION",
                       help="session number, id or name, latest (the newest with a saved model); or use --model-dir")
    infer.add_argument("--model-dir", type=Path, help="models/<session_id>")
    infer.add_argument("--text", action="append", default=[], help="a text to classify (repeatable)")
    infer.add_argument("--input", type=Path, help="file of texts (CSV/TSV/JSONL/JSON/Parquet/Excel)")
    infer.add_argument("--output", type=Path, help="where to write predictions (.csv, .tsv or .jsonl)")
    infer.add_argument("--text-column", help="text column of --input (default: the one the session trained on, "
                                             "else text)")
    infer.add_argument("--force", action="store_true", help="replace --output if it exists")
    infer.add_argument("--safe-csv", action="store_true",
                       help="put ' before cells starting with = + - @ (spreadsheets would run them as formulas)")
    infer.add_argument("--json", action="store_true", help="print predictions as JSON")
    infer.add_argument("--backend", choices=BACKENDS, default="auto",
                       help="auto (default): ONNX Runtime on a CPU, torch on a GPU; torch: bf16 where native")
    infer.add_argument("--language-column", help="a tasks run with one model per language: the column giving each "
                                                 "row's language (default: the run's, else detected)")
    infer.set_defaults(func=run_infer)


def run_train(args: argparse.Namespace) -> int:
    from llm_tool.config import load_raw_config
    from llm_tool.dispatch.seam import LaunchOptions, check_nproc
    from llm_tool.errors import ConfigError
    from llm_tool.sessions import SessionStore
    from llm_tool.ui.launch_view import show_plan, start, start_with_fallback
    from llm_tool.ui.slurm_args import slurm_options

    store = SessionStore()
    slurm = slurm_options(args)
    if args.session is not None:  # the tmux supervisor's entry: run an existing session file here
        return start(store, args.session.resolve(), "foreground",
                     LaunchOptions(resume=args.resume, nproc=args.nproc)).exit_code
    if args.config is None:
        raise ConfigError("give a config file: llm-tool train CONFIG.json (see README for the format)")
    raw = load_raw_config(args.config, [*args.sets, *budget_sets(args)])
    base_dir = args.config.resolve().parent
    check_nproc(args.nproc)  # refused before anything is created (dry run included)
    if args.dry_run:
        show_plan(raw, base_dir)  # several tasks: each task's classes, coverage and plan
        return 0
    from llm_tool.sweeps.tasks_run import is_multi_task_config

    if is_multi_task_config(raw):  # several tasks: a parent session and one child session per task
        from llm_tool.ui.tasks_launch import train_tasks

        return train_tasks(args, raw, base_dir)
    from llm_tool.sessions.create import create_pending

    created = create_pending(store, raw, base_dir=base_dir, session_name=args.session_name, workflow="llm-tool train")
    path, meta = created.path, created.meta  # passed down: the session file is written once and never read here
    if args.backend == "tmux":
        return start_with_fallback(store, path, LaunchOptions(start_dir=base_dir, nproc=args.nproc), meta=meta)
    if args.backend == "slurm":
        options = LaunchOptions(slurm=slurm, start_dir=base_dir, nproc=args.nproc)
        return start(store, path, "slurm", options, meta=meta).exit_code
    return start(store, path, "foreground", LaunchOptions(nproc=args.nproc), meta=meta).exit_code


def run_infer(args: argparse.Namespace) -> int:
    from llm_tool.errors import UserError
    from llm_tool.training.inference import Predictor, read_texts, write_predictions
    from llm_tool.ui.console import console, success

    if not args.text and not args.input:
        raise UserError("give --text TEXT (repeatable) or --input FILE --output FILE")
    if args.input and not args.output:
        raise UserError("--input needs --output FILE (.csv, .tsv or .jsonl)")
    from llm_tool.model_folder import CONFIG_FILE
    from llm_tool.sessions import SessionStore
    from llm_tool.training.evaluate import resolve_model, session_columns
    from llm_tool.ui.results_view import loading

    if (args.ref is None) == (args.model_dir is None):
        raise UserError("give the model: a session (number, id or name) or --model-dir models/<session_id>")
    store = SessionStore()
    parent = _tasks_parent(store, args)
    if parent is not None:  # a tasks run: every task's model, one table
        return _infer_tasks(args, parent)
    ref = resolve_model(store, args.ref) if args.model_dir is None else None
    model_dir = args.model_dir if ref is None else ref.model_dir
    rules, text_column = None, "text"
    if args.input:  # the session's text column, as `evaluate` does
        from llm_tool import outputs

        rules = outputs.Rules.of(force=args.force, inputs=(args.input, model_dir))
        outputs.check(args.output, rules)  # before the model is loaded
        if ref is None and model_dir.is_dir() and (model_dir / CONFIG_FILE).exists():
            ref = resolve_model(store, model_dir)
        text_column = args.text_column or (session_columns(store, ref).get("text_column") if ref else None) or "text"
    table, texts = read_texts(args.input, args.output, text_column) if args.input else (None, args.text)
    with loading(f"Loading the model in {model_dir}…") as say:
        predictor = Predictor(model_dir, backend=args.backend, on_status=say)
        predictor.open(len(texts))
    if args.input:
        with loading(f"Predicting {len(texts):,} texts…"):
            write_predictions(table, predictor.predict(texts), predictor.labels, args.output, rules,
                              safe_csv=args.safe_csv)
        success(f"{len(texts)} predictions written to {args.output}")
        return 0
    predictions = predictor.predict(args.text)
    if args.json:
        print(json.dumps([p.__dict__ for p in predictions], ensure_ascii=False, indent=2))
        return 0
    from llm_tool.ui.tables import predictions_table

    console.print(predictions_table(predictions))
    return 0


def _tasks_parent(store: Any, args: argparse.Namespace) -> Any:
    """The tasks run ``args.ref`` names, or None (a single session, a model folder)."""
    from llm_tool.training.task_predict import find_tasks_parent

    return None if args.model_dir is not None else find_tasks_parent(store, args.ref)


def _tasks_input(args: argparse.Namespace, parent: Any) -> tuple[Any, Any, list[str]]:
    """The output rules, the input table (None for --text) and its texts, all checked before a model loads."""
    from llm_tool.training.inference import read_texts
    from llm_tool.training.task_predict import check_input_columns

    if args.language_column and not args.input:
        from llm_tool.errors import UserError

        raise UserError("--language-column names a column of --input FILE; typed texts (--text) have their "
                        "language detected")
    if not args.input:
        return None, None, list(args.text)
    from llm_tool import outputs

    rules = outputs.Rules.of(force=args.force, inputs=(args.input,))
    outputs.check(args.output, rules)
    text_column = args.text_column or parent.meta.dataset_config.get("text_column") or "text"
    table, texts = read_texts(args.input, args.output, str(text_column))
    check_input_columns(parent, list(table.columns))
    return rules, table, texts


def _infer_tasks(args: argparse.Namespace, parent: Any) -> int:
    """`infer PARENT`: every task's model (each row by its language's model, else the fallback), one table."""
    from llm_tool.training.task_predict import ModelPool, language_column, predict_tasks, row_languages
    from llm_tool.ui.console import console, success
    from llm_tool.ui.results_view import loading

    rules, table, texts = _tasks_input(args, parent)
    languages = None
    if parent.routed:
        column = language_column(parent, table, args.language_column) if table is not None else None
        languages = row_languages(table, texts, column)
    with loading(f"Predicting {len(texts):,} texts with {len(parent.tasks)} tasks' models…") as say:
        found = predict_tasks(parent, texts, languages, ModelPool(args.backend, on_status=say))
    if table is not None:
        from llm_tool.training.task_predict import write_task_predictions

        write_task_predictions(table, found, args.output, rules, safe_csv=args.safe_csv)
        success(f"{len(texts)} rows x {len(found)} tasks written to {args.output}")
        return 0
    if args.json:
        rows = [{"text": text, **{k: v for out in found for k, v in out.cells(i).items()}}
                for i, text in enumerate(texts)]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    from llm_tool.ui.task_results_view import task_predictions_table

    console.print(task_predictions_table(texts, found))
    return 0
