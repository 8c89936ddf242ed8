"""`llm-tool tmux ...`: start, list (status), attach, monitor and kill trainings that run detached in tmux."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    tmux = commands.add_parser(
        "tmux", help="run trainings in tmux (they survive a closed terminal): start, list, attach, monitor, kill",
        description="Trainings run detached in tmux sessions named llmtool-..., on tmux's own socket "
                    "(default `llm-tool`, set LLM_TOOL_TMUX_SOCKET to change it).")
    sub = tmux.add_subparsers(dest="tmux_command", metavar="ACTION", required=True)

    p = sub.add_parser("start", help="create a session from a config and train it in a new tmux session")
    p.add_argument("--config", type=Path, required=True, help="config JSON (dataset_config + model_config)")
    p.add_argument("--name", help="tmux session name (default: llmtool-<config>-MMDD_HHMM)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. --set model_config.epochs=5 (repeatable)")
    p.add_argument("--auto-confirm", action="store_true", help="never ask")
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
def _interactive() -> bool:
    from llm_tool.ui.console import is_interactive

    return os.environ.get("LLM_TOOL_NON_INTERACTIVE") != "1" and is_interactive()


def _ask(question: str, default: bool) -> bool:
    answer = input(f"{question} [{'Y/n' if default else 'y/N'}] ").strip().lower()
    return default if not answer else answer in ("y", "yes")


def _without_tmux(run_foreground: Callable[[], int]) -> int:
    """tmux is missing: say how to install it, and offer the foreground run when someone can answer."""
    from llm_tool.dispatch.tmux_server import INSTALL_HINT
    from llm_tool.errors import TmuxError
    from llm_tool.ui.console import warning

    if not _interactive():
        raise TmuxError(f"tmux is not installed: {INSTALL_HINT}")
    warning(f"tmux is not installed: {INSTALL_HINT}")
    if _ask("Train in the foreground now instead (it stops if this terminal closes)?", default=False):
        return run_foreground()
    return 2


def _print_started(result: Any) -> None:

    from llm_tool.ui.console import info, success

    success(f"started tmux session {result.name}: training session {result.session_id}")
    info(f"  attach   {result.attach_hint}   (or `llm-tool tmux attach {result.name}`; detach: Ctrl-b d)")
    info("  watch    llm-tool tmux monitor")
    info(f"  stop     llm-tool tmux kill {result.name}")
    info(f"  log      {result.log_file}")


def start_in_tmux(store: Any, path: Path, *, resume: bool, max_retries: int, timeout: float | None,
                  name: str | None, config_dir: Path) -> int:
    """Dispatch an existing session to tmux (`sessions resume|relaunch --tmux`); returns the exit code."""
    from llm_tool.dispatch.launcher import launch_in_tmux
    from llm_tool.dispatch.tmux_server import tmux_available

    if not tmux_available():
        from llm_tool.cli.train_cmd import run_session_file

        return _without_tmux(lambda: run_session_file(store, path, resume=resume))
    result = launch_in_tmux(store, path, resume=resume, name=name, max_retries=max_retries, timeout_hours=timeout,
                            start_dir=config_dir)
    _print_started(result)
    return 0


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
    from llm_tool.cli.train_cmd import load_raw_config
    from llm_tool.config import parse_config
    from llm_tool.dispatch.launcher import check_limits, launch_in_tmux
    from llm_tool.dispatch.tmux_server import tmux_available
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session
    from llm_tool.ui.console import info

    config_path = args.config.expanduser().resolve()
    raw = load_raw_config(config_path, args.sets)
    config_dir = config_path.parent
    _check_data_file(parse_config(raw, source=config_path.name), config_dir)
    check_limits(args.max_retries, args.timeout)
    store = SessionStore()
    if args.dry_run:
        return _dry_run(args, raw, store, config_path)
    if not tmux_available():
        from llm_tool.cli.train_cmd import run_session_file

        def foreground() -> int:
            path, _ = create_session(store, raw, base_dir=config_dir)
            return run_session_file(store, path)
        return _without_tmux(foreground)
    if not args.auto_confirm and _interactive() and not _ask(f"Start {config_path.name} in tmux?", default=True):
        info("nothing started")
        return 1
    path, _ = create_session(store, raw, base_dir=config_dir)
    try:
        result = launch_in_tmux(store, path, name=args.name, max_retries=args.max_retries,
                                timeout_hours=args.timeout, start_dir=config_dir, config_stem=config_path.stem)
    except BaseException:
        store.delete(path)  # it never ran: leave no pending orphan behind
        raise
    _print_started(result)
    return 0


def _dry_run(args: argparse.Namespace, raw: dict[str, Any], store: Any, config_path: Path) -> int:
    import shlex

    from llm_tool.cli.train_cmd import dry_run
    from llm_tool.dispatch.launcher import plan_launch
    from llm_tool.dispatch.tmux_server import INSTALL_HINT, tmux_available
    from llm_tool.ui.console import info, warning

    dry_run(raw, config_path.parent)  # validates config, data and model; prints the training plan
    if not tmux_available():
        warning(f"tmux is not installed: {INSTALL_HINT}")
        return 2
    plan = plan_launch(store, config_stem=config_path.stem, name=args.name, start_dir=config_path.parent,
                       max_retries=args.max_retries, timeout_hours=args.timeout)
    info("[primary]would start[/primary] (dry run: nothing was created)", markup=True)
    info(f"  tmux session  {plan.name}  (socket {plan.socket})")
    info(f"  folder        {plan.start_dir}")
    info(f"  command       {shlex.join(plan.command)}")
    retries = f"up to {args.max_retries} after a crash" if args.max_retries else "none"
    info(f"  retries       {retries}; timeout {f'{args.timeout:g} h' if args.timeout else 'none'}")
    info(f"  attach with   {plan.attach_hint}")
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
    from llm_tool.dispatch.tmux_server import TmuxServer, attach_argv, attach_hint
    from llm_tool.errors import TmuxError
    from llm_tool.ui.console import console, info

    server = TmuxServer()
    if args.name:
        name = _resolve_name(server, args.name)
    else:
        names = tool_session_names(server)
        if not names:
            raise TmuxError("no trainings in tmux to attach to: start one with `llm-tool tmux start --config CFG`")
        if not _interactive():
            raise TmuxError(f"which one? run `llm-tool tmux attach NAME` with one of: {', '.join(names)}")
        for number, candidate in enumerate(names, start=1):
            console.print(f"  {number}. {candidate}")
        choice = input("attach to number: ").strip()
        if not choice.isdigit() or not 1 <= int(choice) <= len(names):
            raise TmuxError(f"no choice {choice!r}: give a number from 1 to {len(names)}")
        name = names[int(choice) - 1]
    inside = os.environ.get("TMUX")
    if inside:
        ours = server.run("display-message", "-p", "#{socket_path}", check=False)
        if ours and inside.split(",")[0] == ours[0]:
            os.execvp("tmux", attach_argv(name, server.socket, switch=True))
        info(f"inside another tmux: opening {name} nested (detach the inner one with Ctrl-b Ctrl-b d)")
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        os.execvpe("tmux", attach_argv(name, server.socket), env)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TmuxError(f"attaching needs a terminal: run `{attach_hint(name, server.socket)}` in one")
    os.execvp("tmux", attach_argv(name, server.socket))
    return 0  # not reached: exec replaces this process


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
