"""`llm-tool sessions ...`: list, show, resume, relaunch, export, import, compare, note, delete, clean."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llm_tool.errors import ExitCode
from llm_tool.sessions.schema import STATUSES
from llm_tool.ui.options import Commands, add_budget_options, budget_sets


def register(commands: Commands) -> None:
    sessions = commands.add_parser("sessions", help="history of training sessions: list, show, resume, relaunch...")
    sub = sessions.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="the 20 most recent sessions, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--all", action="store_true", help="every session")
    p.add_argument("--status", choices=(*STATUSES, "unreadable"))
    p.add_argument("--model", help="only sessions whose model contains this text")
    p.add_argument("--dataset", help="only sessions whose data file name contains this text")
    p.add_argument("--children", action="store_true",
                   help="also list each child session of a tasks run (one per task; by default its parent is one row)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one session's results (scores, per class, confusion matrix), then its settings")
    p.add_argument("id", help="row number, session id or name")
    p.add_argument("--all", action="store_true", help="also every recorded parameter")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("resume", help="continue an interrupted or failed session from its last checkpoint")
    p.add_argument("id")
    p.add_argument("--time-budget", metavar="DURATION", help="a new time budget for this part of the run, e.g. 1h")
    _dispatch_options(p)
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("relaunch", help="a new session with the same settings")
    p.add_argument("id")
    p.add_argument("--dataset", type=Path, help="train on another data file")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    add_budget_options(p)
    p.add_argument("--session-name")
    _dispatch_options(p)
    p.set_defaults(func=cmd_relaunch)

    p = sub.add_parser("export", help="write a shareable JSON (portable paths)")
    p.add_argument("id")
    p.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    p.add_argument("--force", action="store_true", help="replace --output if it exists")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="add a shared session JSON to the history")
    p.add_argument("file", type=Path)
    p.add_argument("--dataset", type=Path, help="the data file on this machine")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("compare", help="settings, data and metrics side by side (what differs)")
    p.add_argument("ids", nargs="+")
    p.add_argument("--all", action="store_true", help="every field, also those that are the same")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("note", help="add a note to a session")
    p.add_argument("id")
    p.add_argument("text")
    p.set_defaults(func=cmd_note)

    p = sub.add_parser("delete", help="delete a session's metadata and log")
    p.add_argument("id")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--with-model", action="store_true", help="also delete models/<session_id>")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("clean", help="delete sessions older than N days")
    p.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_clean)


def _dispatch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true",
                   help="read the data file an imported session names outside this home without asking; with "
                        "--backend slurm, use the session's extra sbatch lines even if edited or copied")
    p.add_argument("--tmux", action="store_true", help="run it in a tmux session (survives disconnects)")
    p.add_argument("--max-retries", type=int, default=0, help="with --tmux: retries after a crash")
    p.add_argument("--timeout", type=float, help="with --tmux: stop gracefully after HOURS")
    p.add_argument("--max-parallel", type=int, metavar="N",
                   help="a tasks run with --tmux or --backend slurm: how many tasks train at once (default: one per "
                        "GPU, 1 on a CPU-only machine)")
    from llm_tool.ui.options import add_nproc_option
    from llm_tool.ui.slurm_args import add_slurm_options

    add_nproc_option(p)
    add_slurm_options(p)


def _store() -> Any:
    from llm_tool.sessions import SessionStore

    return SessionStore()


def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.sessions.summaries import list_rows

    store = _store()
    limit = None if args.all else args.limit
    rows = list_rows(store, limit=limit, status=args.status, model=args.model, dataset=args.dataset,
                     children=args.children)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    from llm_tool.ui.console import console, info
    from llm_tool.ui.history import history_table

    if not rows:
        info(f"no training sessions in {store.dir}: start one with `llm-tool train CONFIG` or `llm-tool studio`")
        return 0
    title = f"Training sessions ({'all' if limit is None else f'{len(rows)} most recent'})"
    console.print(history_table(rows, title))
    return 0


def cmd_show(args: argparse.Namespace) -> int:

    store = _store()
    path = store.resolve(args.id)
    meta = store.read(path)
    if args.json:
        data = meta.to_dict()
        from llm_tool.sessions.lifecycle import effective_status

        data["execution_status"]["status"] = effective_status(store, meta)
        print(json.dumps(data, indent=2, default=str))
        return 0
    from llm_tool.ui.session_view import show_session

    show_session(store, meta, everything=args.all)
    return 0


def _launch(store: Any, path: Path, args: argparse.Namespace, *, resume: bool, meta: Any = None) -> int:
    from llm_tool.dispatch.seam import LaunchOptions
    from llm_tool.ui.launch_view import start, start_with_fallback
    from llm_tool.ui.slurm_args import slurm_options

    options = LaunchOptions(resume=resume, max_retries=args.max_retries, timeout_hours=args.timeout,
                            start_dir=store.home, slurm=slurm_options(args), nproc=args.nproc)
    if args.backend == "slurm":
        return start(store, path, "slurm", options, meta=meta).exit_code
    if args.tmux or args.backend == "tmux":
        return start_with_fallback(store, path, options, meta=meta)
    return start(store, path, "foreground", options, meta=meta).exit_code


def cmd_resume(args: argparse.Namespace) -> int:
    from llm_tool.config.presets import parse_duration
    from llm_tool.dispatch.seam import resume_mode
    from llm_tool.sessions.operations import check_resumable, require_confirmed_data
    from llm_tool.sessions.sharing import unconfirmed_data

    store = _store()
    path = store.resolve(args.id)
    meta = check_resumable(store, path)
    if not _confirmed_data(lambda confirmed: require_confirmed_data(meta, confirmed), args.yes):
        return ExitCode.FAILED
    if unconfirmed_data(meta):
        meta = store.update(path, lambda m: m.training_session.extra.pop("unconfirmed_data_file", None))
    from llm_tool.sessions.task_parent import is_tasks_parent

    if is_tasks_parent(meta):  # its unfinished children resume or start; completed ones stay
        from llm_tool.ui.tasks_launch import resume_parent

        return resume_parent(store, path, args)
    resume = resume_mode(store, path, meta)  # a saved, never started session simply starts from the beginning
    if args.time_budget:
        budget = args.time_budget
        parse_duration(budget)
        meta = store.update(path, lambda m: m.model_config.update({"time_budget": budget}))
    return _launch(store, path, args, resume=resume, meta=meta)  # passed down: read once in this process


def cmd_relaunch(args: argparse.Namespace) -> int:
    from llm_tool.sessions.operations import relaunch
    from llm_tool.sessions.store import session_id_for
    from llm_tool.ui.console import info, warning
    from llm_tool.ui.slurm_args import slurm_options

    slurm_options(args)  # bad Slurm settings are refused before the new session is created
    store = _store()
    source = store.resolve(args.id)
    from llm_tool.sessions.task_parent import is_tasks_parent

    if is_tasks_parent(store.read(source)):  # a new parent and children with the same settings
        from llm_tool.ui.tasks_launch import relaunch_parent

        return relaunch_parent(store, source, args, [*args.sets, *budget_sets(args)])
    result: list[tuple[Path, list[str]]] = []

    def attempt(confirmed: bool) -> None:
        result.append(relaunch(store, source, dataset=args.dataset, sets=[*args.sets, *budget_sets(args)],
                               session_name=args.session_name,
                               confirmed=confirmed, workflow="llm-tool sessions relaunch"))
    if not _confirmed_data(attempt, args.yes):
        return ExitCode.FAILED
    path, warnings = result[-1]
    for message in warnings:
        warning(message)
    original = store.read(source)
    info(f"relaunching {original.session_id} as {session_id_for(path)}")
    if args.nproc is None and (original.environment.world_size or 1) > 1:
        args.nproc = original.environment.world_size  # the same batches as the original run (--nproc to change)
    return _launch(store, path, args, resume=False)


def _confirmed_data(action: Any, yes: bool) -> bool:
    """Run ``action(confirmed)``; when it needs a yes to read data outside the home, ask (or refuse: no terminal)."""
    from llm_tool.errors import ConfirmationNeeded

    try:
        action(yes)
        return True
    except ConfirmationNeeded as exc:
        from llm_tool.ui.console import info
        from llm_tool.ui.interaction import confirm, is_interactive

        if not is_interactive():
            raise
        if not confirm(exc.question, default=False):
            info("nothing started: pass --dataset PATH to train on another file")
            return False
    action(True)
    return True


def cmd_export(args: argparse.Namespace) -> int:
    from llm_tool import outputs
    from llm_tool.sessions.lifecycle import effective_status
    from llm_tool.sessions.sharing import export_session
    from llm_tool.ui.console import warning

    store = _store()
    path = store.resolve(args.id)
    rules = outputs.Rules.of(force=args.force, inputs=[path])
    if args.output:
        outputs.check(args.output, rules)
    if effective_status(store, store.read(path)) == "running":
        warning(f"{store.read(path).session_id} is still running: the export holds its settings and its progress "
                "so far, not its final results")
    data = export_session(store, path)
    if args.output:
        outputs.write_text(args.output, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", rules)
        from llm_tool.ui.console import success

        success(f"exported to {args.output}")
    else:
        print(json.dumps(data, indent=2, default=str))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from llm_tool.sessions.sharing import import_session, read_shared_file
    from llm_tool.ui.console import success, warning

    store = _store()
    data = read_shared_file(args.file)
    warnings: list[str] = []
    path = import_session(store, data, base_dir=store.home, dataset=args.dataset, warnings=warnings)
    for message in warnings:
        warning(message)
    sid = store.read(path).session_id
    success(f"imported as {sid}: run it with `llm-tool sessions relaunch {sid}`")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from llm_tool.sessions.summaries import compare_rows

    store = _store()
    metas = [store.read(store.resolve(ref)) for ref in args.ids]
    rows = compare_rows(metas, store, everything=args.all)
    ids = [m.session_id for m in metas]
    if args.json:
        print(json.dumps({"sessions": ids, "rows": rows}, indent=2, default=str))
        return 0
    from llm_tool.ui.console import console
    from llm_tool.ui.tables import compare_table

    console.print(compare_table(ids, rows))
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from llm_tool.sessions.operations import add_note
    from llm_tool.ui.console import success

    store = _store()
    add_note(store, store.resolve(args.id), args.text)
    success("note added")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from llm_tool.sessions.operations import delete_session
    from llm_tool.sessions.store import session_id_for
    from llm_tool.ui.console import info, success
    from llm_tool.ui.interaction import confirm

    store = _store()
    path = store.resolve(args.id)
    sid = session_id_for(path)
    if not confirm(f"delete session {sid}?", assume_yes=args.yes):
        info("nothing deleted")
        return ExitCode.FAILED
    delete_session(store, path, with_model=args.with_model)
    success(f"deleted {sid}")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from llm_tool.errors import UserError
    from llm_tool.sessions.operations import clean_candidates, delete_session
    from llm_tool.ui.console import info, success, warning
    from llm_tool.ui.interaction import confirm

    if args.older_than < 0:
        raise UserError(f"--older-than must be 0 or more days, got {args.older_than:g}")
    store = _store()
    old, kept = clean_candidates(store, args.older_than)
    for path, reason in kept:
        warning(f"{path.name} {reason}")
    if not old:
        info(f"no session to delete older than {args.older_than:g} days")
        return 0
    if not confirm(f"delete {len(old)} sessions older than {args.older_than:g} days?", assume_yes=args.yes):
        info("nothing deleted")
        return ExitCode.FAILED
    for path in old:
        delete_session(store, path)
    success(f"deleted {len(old)} sessions")
    return 0
