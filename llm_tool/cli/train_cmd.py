"""`llm-tool train` and `llm-tool infer`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

SUPERVISED_ENV = "LLM_TOOL_SUPERVISED"  # set by the tmux supervisor, which tees output to the session log


def register(commands: Any) -> None:
    train = commands.add_parser("train", help="fine-tune a classifier from a config JSON",
                                description="Fine-tune a classifier. CONFIG is a JSON file with dataset_config "
                                            "and model_config (a session metadata file works too).")
    train.add_argument("config", nargs="?", type=Path, help="config JSON")
    train.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting, e.g. --set model_config.epochs=5 (repeatable)")
    train.add_argument("--session-name", help="a name for this session (shown in lists, usable as its id)")
    train.add_argument("--dry-run", action="store_true", help="validate and print the plan; train nothing")
    train.add_argument("--session", type=Path, help=argparse.SUPPRESS)  # run an existing pending session file
    train.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    train.set_defaults(func=run_train)

    infer = commands.add_parser("infer", help="predict labels with a trained model")
    infer.add_argument("--model-dir", type=Path, required=True, help="models/<session_id>")
    infer.add_argument("--text", action="append", default=[], help="a text to classify (repeatable)")
    infer.add_argument("--input", type=Path, help="file of texts (CSV/TSV/JSONL/JSON/Parquet/Excel)")
    infer.add_argument("--output", type=Path, help="where to write predictions (.csv, .tsv or .jsonl)")
    infer.add_argument("--text-column", default="text", help="text column of --input (default: text)")
    infer.add_argument("--json", action="store_true", help="print predictions as JSON")
    infer.set_defaults(func=run_infer)


def load_raw_config(path: Path, sets: list[str]) -> dict[str, Any]:
    from llm_tool.config import apply_overrides, load_config_file

    return apply_overrides(load_config_file(path), sets)


def run_train(args: argparse.Namespace) -> int:
    from llm_tool.errors import ConfigError
    from llm_tool.sessions import SessionStore

    store = SessionStore()
    if args.session is not None:
        return run_session_file(store, args.session.resolve(), resume=args.resume)
    if args.config is None:
        raise ConfigError("give a config file: llm-tool train CONFIG.json (see README for the format)")
    raw = load_raw_config(args.config, args.sets)
    base_dir = args.config.resolve().parent
    if args.dry_run:
        return dry_run(raw, base_dir)
    from llm_tool.sessions.create import create_session

    path, _ = create_session(store, raw, base_dir=base_dir, session_name=args.session_name)
    return run_session_file(store, path)


def dry_run(raw: dict[str, Any], base_dir: Path) -> int:
    from llm_tool.config import parse_config
    from llm_tool.training.plan import make_plan
    from llm_tool.ui.console import console, success
    from llm_tool.ui.tables import plan_table

    config = parse_config(raw)
    plan = make_plan(config, base_dir)
    console.print(plan_table(plan.as_dict()))
    success("config, data and model are valid (dry run: nothing was trained)")
    return 0


def run_session_file(store: Any, path: Path, *, resume: bool = False) -> int:
    """Train a session in this process, showing progress; returns the exit code."""
    from llm_tool.training.engine import EXIT_INTERRUPTED, run_session
    from llm_tool.ui.console import console, safe, success, warning
    from llm_tool.ui.progress import PlainProgress, RichProgress, Tee
    from llm_tool.ui.tables import metrics_tables

    supervised = os.environ.get(SUPERVISED_ENV) == "1"
    sid = store.read(path).session_id
    console.print(f"[primary]session[/primary] {sid}  ({safe(str(path), 1000)})")
    screen: Any = RichProgress() if console.is_terminal else PlainProgress(console.file)
    handlers = [screen]
    log_handle = None
    if not supervised:
        log_path = store.log_path(sid)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_handle = log_path.open("a", encoding="utf-8")
        handlers.append(PlainProgress(log_handle, interval=30.0))
    display = Tee(*handlers)
    try:
        outcome = run_session(store, path, resume=resume, on_event=display, log_to_file=not supervised)
    finally:
        display.close()
        if log_handle:
            log_handle.close()
    if outcome.status == "interrupted":
        warning(f"{sid} interrupted ({outcome.reason}); its last checkpoint is kept. "
                f"Continue with: llm-tool sessions resume {sid}")
        return EXIT_INTERRUPTED
    for table in metrics_tables(outcome.metrics or {}):
        console.print(table)
    success(f"{sid} completed: model saved in {outcome.model_dir}")
    return 0


def run_infer(args: argparse.Namespace) -> int:
    from llm_tool.errors import UserError
    from llm_tool.training.inference import Predictor, predict_file
    from llm_tool.ui.console import console, success

    if not args.text and not args.input:
        raise UserError("give --text TEXT (repeatable) or --input FILE --output FILE")
    if args.input and not args.output:
        raise UserError("--input needs --output FILE (.csv, .tsv or .jsonl)")
    predictor = Predictor(args.model_dir)
    if args.input:
        count = predict_file(predictor, args.input, args.output, args.text_column)
        success(f"{count} predictions written to {args.output}")
        return 0
    predictions = predictor.predict(args.text)
    if args.json:
        print(json.dumps([p.__dict__ for p in predictions], ensure_ascii=False, indent=2))
        return 0
    from rich.table import Table

    table = Table(title="Predictions", title_style="primary")
    table.add_column("text", overflow="fold")
    table.add_column("label")
    table.add_column("probabilities", overflow="fold")
    for p in predictions:
        table.add_row(p.text, ", ".join(p.labels) or "-",
                      ", ".join(f"{k}: {v:.3f}" for k, v in p.probabilities.items()))
    console.print(table)
    return 0
