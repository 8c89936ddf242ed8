"""`llm-tool tmux ...`: start, list (status), attach, monitor and kill trainings that run detached in tmux."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llm_tool.errors import ExitCode
from llm_tool.ui.options import Commands, add_budget_options, add_nproc_option, budget_sets


def register(commands: Commands) -> None:
    tmux = commands.add_parser(
        "tmux", help="run trainings in tmux (they survive a closed terminal): start, list, attach, monitor, kill",
        description="Trainings run detached in tmux sessions named llmtool-..., on tmux's own socket "
                    "(default `llm-tool`, set LLM_TOOL_TMUX_SOCKET to change it).")
    sub = tmux.add_subparsers(dest="tmux_command", metavar="ACTION", required=True)

    p = sub.add_parser("start", help="create a session from a config and train it in a new tmux session")
    p.add_argument("--config", type=Path, required=True, help="config JSON (dataset_config + model_config)")
    p.add_argument("--name", help="tmux session name (default: llmtool-<config>-MMDD_HHMM)")
    p.add_argument("--session-name", help="a name for the training session (shown in lists, usable as its id), "
                                          "as with `llm-tool train --session-name`")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set model_config.epochs=5 (repeatable)")
    p.add_argument("--auto-confirm", action="store_true", help="never ask")
    add_budget_options(p)
    add_nproc_option(p)
    p.add_argument("--dry-run", action="store_true", help="validate and show what would run; start nothing")
    p.add_argument("--max-retries", type=int, default=0, metavar="N",
                   help="retry after a crash or an out-of-memory kill, resuming from the last checkpoint")
    p.add_argument("--timeout", type=float, metavar="HOURS", help="stop gracefully (checkpoint) after HOURS")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("list", aliases=["status"], help="every training running (or finished) in tmux")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("attach", help="watch a training's terminal (detach again with Ctrl-b d)")
    p.add_argument("name", nargs="?", help="tmux session name or training session id (default: choose)")
    p.set_defaults(func=cmd_attach)

    p = sub.add_parser("monitor", help="live dashboard of all trainings (Ctrl+C leaves)")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between refreshes (default 5)")
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("kill", help="stop a training gracefully (checkpoint, resumable), then remove its session")
    p.add_argument("name", nargs="?", help="tmux session name (exact) or training session id")
    p.add_argument("--all", action="store_true", help="every llmtool-* session (others are never touched)")
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                   help="wait this long for the checkpoint before SIGKILL (default 75)")
    p.set_defaults(func=cmd_kill)


# ----- shared helpers ------------------------------------------------------------------------------
def _check_data_file(config: Any, base_dir: Path) -> None:
    from llm_tool.errors import DatasetError

    primary = Path(config.dataset.primary_file).expanduser()
    primary = primary if primary.is_absolute() else base_dir / primary
    if not primary.is_file():
        raise DatasetError(f"the data file {primary} does not exist: fix dataset_config.primary_file")


def _resolve_name(server: Any, ref: str) -> str:
    """An exact tmux session name, or the tmux session running a training session (id or name)."""
    from llm_tool.dispatch.jobs import collect_jobs, tool_session_names
    from llm_tool.dispatch.names import NAME_PREFIX
    from llm_tool.errors import TmuxError

    names = tool_session_names(server)
    if ref in names:
        return ref
    if ref in server.session_names():
        raise TmuxError(f"the tmux session {ref} was not created by llm-tool (its names start with "
                        f"{NAME_PREFIX}): not touching it")
    for job in collect_jobs(server):
        if ref == job.session_id:
            return job.name
    listing = ", ".join(names) or "none"
    raise TmuxError(f"no training tmux session named exactly {ref!r} (names never match by prefix); "
                    f"running: {listing}")


# ----- commands ------------------------------------------------------------------------------------
def cmd_start(args: argparse.Namespace) -> int:
    from llm_tool.config import load_raw_config, parse_config
    from llm_tool.dispatch.seam import LaunchOptions
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session
    from llm_tool.ui.console import info
    from llm_tool.ui.interaction import confirm, is_interactive
    from llm_tool.ui.launch_view import start_with_fallback

    config_path = args.config.expanduser().resolve()
    raw = load_raw_config(config_path, [*args.sets, *budget_sets(args)])
    config_dir = config_path.parent
    _check_data_file(parse_config(raw, source=config_path.name), config_dir)
    options = LaunchOptions(max_retries=args.max_retries, timeout_hours=args.timeout, tmux_name=args.name,
                            start_dir=config_dir, config_stem=config_path.stem, nproc=args.nproc)
    store = SessionStore()
    if args.dry_run:
        return _dry_run(args, raw, store, config_path)
    if not args.auto_confirm and is_interactive() and not confirm(f"Start {config_path.name} in tmux?",
                                                                  default=True):
        info("nothing started")
        return ExitCode.FAILED
    path, _ = create_session(store, raw, base_dir=config_dir, session_name=args.session_name,
                             workflow="llm-tool tmux start")
    try:
        code = start_with_fallback(store, path, options)
    except BaseException:
        store.delete(path)  # it never ran: leave no pending orphan behind
        raise
    if code == ExitCode.USER_ERROR:
        store.delete(path)  # tmux missing and the foreground declined: nothing ran
    return code


def _dry_run(args: argparse.Namespace, raw: dict[str, Any], store: Any, config_path: Path) -> int:
    from llm_tool.dispatch.tmux_launch import plan_launch
    from llm_tool.dispatch.tmux_server import INSTALL_HINT, tmux_available
    from llm_tool.ui.console import warning
    from llm_tool.ui.launch_view import show_plan, show_tmux_plan

    show_plan(raw, config_path.parent)  # validates config, data and model; prints the training plan
    if not tmux_available():
        warning(f"tmux is not installed: {INSTALL_HINT}")
        return ExitCode.USER_ERROR
    plan = plan_launch(store, config_stem=config_path.stem, name=args.name, start_dir=config_path.parent,
                       max_retries=args.max_retries, timeout_hours=args.timeout)
    show_tmux_plan(plan, args.max_retries, args.timeout)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.dispatch.jobs import collect_jobs
    from llm_tool.dispatch.tmux_server import TmuxServer

    server = TmuxServer()
    jobs = collect_jobs(server)
    if args.json:
        print(json.dumps([job.to_dict() for job in jobs], indent=2, default=str))
        return 0
    from llm_tool.monitor.views import jobs_table
    from llm_tool.ui.console import console, info

    if not jobs:
        info(f"no trainings in tmux (socket {server.socket}): start one with `llm-tool tmux start --config CFG`")
        return 0
    console.print(jobs_table(jobs, title=f"Trainings in tmux (socket {server.socket})", width=console.width))
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from llm_tool.dispatch.jobs import tool_session_names
    from llm_tool.dispatch.tmux_server import TmuxServer
    from llm_tool.errors import TmuxError
    from llm_tool.ui.attach import attach_here
    from llm_tool.ui.interaction import choose

    server = TmuxServer()
    if args.name:
        name = _resolve_name(server, args.name)
    else:
        names = tool_session_names(server)
        if not names:
            raise TmuxError("no trainings in tmux to attach to: start one with `llm-tool tmux start --config CFG`")
        name = choose("attach to number", names,
                      flag_hint=f"run `llm-tool tmux attach NAME` with one of: {', '.join(names)}")
    return attach_here(server, name)


def cmd_monitor(args: argparse.Namespace) -> int:
    from llm_tool.errors import UserError
    from llm_tool.monitor.dashboard import run_monitor

    if args.interval <= 0:
        raise UserError("--interval must be a positive number of seconds")
    return run_monitor(interval=args.interval, once=args.once)


def cmd_kill(args: argparse.Namespace) -> int:
    from llm_tool.dispatch.jobs import tool_session_names
    from llm_tool.dispatch.stop import KILL_GRACE, stop_sessions
    from llm_tool.dispatch.tmux_server import TmuxServer
    from llm_tool.errors import TmuxError
    from llm_tool.ui.console import info, success, warning

    server = TmuxServer()
    if args.all == bool(args.name):
        running = ", ".join(tool_session_names(server)) or "none"
        raise TmuxError(f"give one NAME or --all (trainings in tmux: {running})")
    names = tool_session_names(server) if args.all else [_resolve_name(server, args.name)]
    if not names:
        info("no trainings in tmux: nothing to stop")
        return 0
    grace = KILL_GRACE if args.grace is None else args.grace
    info(f"stopping {', '.join(names)} (a running training saves a checkpoint first; up to {grace:g} s)...")
    for outcome in stop_sessions(names, server=server, grace=grace):
        if outcome.forced:
            warning(f"{outcome.name} did not stop within {grace:g} s and was killed")
        states = ", ".join(f"{sid} {status}" for sid, status in zip(outcome.session_ids, outcome.statuses,
                                                                     strict=False))
        success(f"removed {outcome.name}" + (f" ({states})" if states else ""))
        for sid, status in zip(outcome.session_ids, outcome.statuses, strict=False):
            if status == "interrupted":
                info(f"  continue with: llm-tool sessions resume {sid} --tmux")
    return 0
