"""`llm-tool slurm ...`: list the sessions queued on Slurm, stop one gracefully."""

from __future__ import annotations

import argparse
import json

from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    slurm = commands.add_parser("slurm", help="sessions submitted to Slurm: list, kill",
                                description="Sessions started with --backend slurm: their jobs and states "
                                            "(pending, running, requeued, then how they ended).")
    sub = slurm.add_subparsers(dest="slurm_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="jobs of llm-tool sessions: pending, running, requeued, ended")
    p.add_argument("--active", action="store_true", help="only jobs still in the queue")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("kill", help="stop a job gracefully (checkpoint, no requeue), then scancel it",
                       description="Send USR1 to the job (it saves a checkpoint and ends interrupted, resumable "
                                   "with `llm-tool sessions resume`), then scancel it if it is still there after "
                                   "the grace period. A pending job is simply cancelled.")
    p.add_argument("id", help="Slurm job id (123 or 123_4) or a session id / name")
    p.add_argument("--grace", type=float, default=None, metavar="SECONDS", help="wait before scancel (default 120)")
    p.set_defaults(func=cmd_kill)


def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.dispatch.slurm_status import slurm_rows
    from llm_tool.errors import UserError
    from llm_tool.sessions import SessionStore

    if args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    store = SessionStore()
    rows = slurm_rows(store, include_ended=not args.active, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    from llm_tool.ui.console import console, info
    from llm_tool.ui.slurm_view import slurm_table

    if not rows:
        info("no session was submitted to Slurm yet: start one with `llm-tool train CONFIG --backend slurm`")
        return 0
    console.print(slurm_table(rows))
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    from llm_tool.dispatch.slurm import KILL_GRACE, kill
    from llm_tool.errors import UserError
    from llm_tool.sessions import SessionStore
    from llm_tool.ui.console import info, success

    grace = KILL_GRACE if args.grace is None else args.grace
    if grace < 0:
        raise UserError(f"--grace must be 0 or more seconds, got {grace:g}")
    store = SessionStore()
    info(f"stopping {args.id[:40]} (a running job saves a checkpoint first)...")
    job, how = kill(store, args.id, grace=grace)
    success(f"Slurm job {job}: {how}")
    return 0
