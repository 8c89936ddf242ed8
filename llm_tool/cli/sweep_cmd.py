"""`llm-tool sweep ...` (start, list, status, kill, report, attach) and `llm-tool benchmark`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.ui.options import add_budget_options, budget_sets

if TYPE_CHECKING:
    from llm_tool.sweeps.state import SweepState

MAX_TABLE_JOBS = 24  # larger sweeps print their layout table only with --dry-run
SWEEP_HELP = ("A sweep file is {\"base\": CONFIG or \"config.json\", \"grid\": {\"model_config.learning_rate\": "
              "[2e-5, 5e-5], ...}} (the cross product) or {\"base\": ..., \"jobs\": [{\"model_config.batch_size\": 16},"
              " ...]}; optional: name, group_by (default model_config.selected_model), max_panes_per_window (4), "
              "max_parallel, max_retries, seeds (runs per configuration, default 1).")


def _add_launch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="sweep name (default: the file's name); an existing sweep gets the jobs added")
    p.add_argument("--max-parallel", type=int, metavar="N",
                   help="jobs running at once (default: the number of GPUs, or 1 on CPU)")
    p.add_argument("--seeds", type=int, metavar="N",
                   help="run each configuration with N seeds (model_config.seed = base seed + 0..N-1, the data split "
                        "fixed); the leaderboard reports mean ± sd and ties (default: the file's seeds, or 1)")
    add_budget_options(p)
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of the base config (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="print windows, panes, jobs and order; start nothing")
    p.add_argument("--yes", action="store_true", help="add to an existing sweep of that name without asking")
    p.add_argument("--wait", action="store_true", help="wait for the end and print the leaderboard")
    from llm_tool.ui.slurm_args import add_slurm_options

    add_slurm_options(p, backends=("tmux", "slurm"), default="tmux")


def register(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="many trainings of one config (a grid or a job list) in one tmux session, queued and ranked",
        description="Run a grid or a list of trainings in one tmux session (window 0: control view), at most "
                    "--max-parallel at once. " + SWEEP_HELP)
    sub = sweep.add_subparsers(dest="sweep_command", metavar="ACTION", required=True)
    p = sub.add_parser("start", help="start a sweep (or add its jobs to an existing one)", description=SWEEP_HELP)
    p.add_argument("sweep_file", type=Path, help="sweep JSON")
    _add_launch_options(p)
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("list", help="every sweep of this home")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("status", help="jobs of a sweep (status, progress, loss, F1, pane) and its leaderboard")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("kill", help="stop a sweep gracefully (jobs checkpoint: interrupted, resumable)")
    p.add_argument("name")
    p.add_argument("--grace", type=float, metavar="SECONDS", help="wait this long before SIGKILL (default 75)")
    p.set_defaults(func=cmd_kill)

    p = sub.add_parser("resume", help="queue the interrupted jobs again (from their checkpoints) and cancelled ones")
    p.add_argument("name")
    p.add_argument("--max-parallel", type=int, metavar="N", help="change how many run at once")
    p.add_argument("--wait", action="store_true", help="wait for the end and print the leaderboard")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("report", help="write a Markdown report and a PNG chart of the scores")
    p.add_argument("name")
    p.add_argument("-o", "--output", type=Path, default=Path("reports"), help="folder (default: reports)")
    p.add_argument("--force", action="store_true", help="replace this sweep's report files in the folder")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("attach", help="open the sweep's tmux session (its control window)")
    p.add_argument("name")
    p.set_defaults(func=cmd_attach)

    bench = commands.add_parser(
        "benchmark", help="train several models on the same data and split, then rank them",
        description="Benchmark models: one training per model on the same config (same data, split and seed), "
                    "run as a sweep; a leaderboard ranks them by test macro-F1 and a parent benchmark session "
                    "records the best.")
    bench.add_argument("config", type=Path, help="config JSON (dataset_config + model_config)")
    bench.add_argument("--models", nargs="+", required=True, metavar="MODEL",
                       help="candidate models: a Hugging Face id or a local folder each (one job per model)")
    _add_launch_options(bench)
    bench.set_defaults(func=cmd_benchmark)


# ----- helpers ---------------------------------------------------------------------------------------
def _server(required: bool = True) -> Any:
    from llm_tool.dispatch.tmux_server import TmuxServer, tmux_available

    if not required and not tmux_available():
        return None
    return TmuxServer()


def _live(state: SweepState, server: Any) -> tuple[dict[str, Any], dict[str, int]]:
    from llm_tool.sweeps import tmux_ops

    if server is None:
        return {}, {}
    name = state.tmux_session
    return tmux_ops.sweep_panes(server, name), tmux_ops.window_indexes(server, name)


# ----- start / benchmark -----------------------------------------------------------------------------
def _print_plan(plan: Any) -> None:
    from llm_tool.sweeps_ui.tables import layout_table
    from llm_tool.ui.console import console, info

    what = f"adding {len(plan.jobs)} jobs to sweep {plan.name} ({len(plan.existing)} already)" if plan.appending \
        else f"sweep {plan.name}: {len(plan.jobs)} jobs"
    gpus = f"GPUs {', '.join(plan.gpus)} (one CUDA_VISIBLE_DEVICES per job)" if plan.gpus else "CPU"
    info(f"[primary]{what}[/primary], at most {plan.max_parallel} at once on {gpus}; "
         f"up to {plan.max_panes_per_window} panes per window", markup=True)
    console.print(layout_table(plan))


def _launch(spec: Any, args: argparse.Namespace) -> int:
    from llm_tool.sweeps.launch import attach_command, plan_sweep, start_sweep
    from llm_tool.sweeps.state import SweepError, SweepStore
    from llm_tool.ui.console import info, success
    from llm_tool.ui.interaction import confirm, is_interactive

    sweeps = SweepStore()
    plan = plan_sweep(spec, name=args.name, max_parallel=args.max_parallel, sweeps=sweeps)
    if args.dry_run or len(plan.jobs) <= MAX_TABLE_JOBS:
        _print_plan(plan)
    if args.dry_run:
        info("dry run: no session was created and nothing was started")
        return 0
    if plan.appending and not args.yes:
        if not is_interactive():
            raise SweepError(f"a sweep named {plan.name} already exists ({len(plan.existing)} jobs): add --yes to "
                             f"append these {len(plan.jobs)} jobs to it, or choose another --name")
        if not confirm(f"Sweep {plan.name} already exists. Add these {len(plan.jobs)} jobs to it?"):
            info("nothing started")
            return 1
    if args.backend == "slurm":
        return _launch_slurm(spec, plan, args, sweeps)
    state = start_sweep(spec, plan, server=_server(), sweeps=sweeps)
    verb = f"added {len(plan.jobs)} jobs to" if plan.appending else "started"
    success(f"{verb} {spec.kind} {plan.name}: {len(state.jobs)} jobs, at most {state.max_parallel} at once "
            f"(tmux session {state.tmux_session})")
    info(f"  attach   {attach_command(state)}   (window 0 is the control view; detach: Ctrl-b d)")
    info(f"  status   llm-tool sweep status {plan.name}")
    info(f"  stop     llm-tool sweep kill {plan.name}")
    info(f"  report   llm-tool sweep report {plan.name} -o reports/")
    if args.wait:
        return _wait(plan.name, sweeps)
    return 0


def _launch_slurm(spec: Any, plan: Any, args: argparse.Namespace, sweeps: Any) -> int:
    from llm_tool.sweeps.slurm_ops import describe, start_on_slurm
    from llm_tool.ui.console import info, success
    from llm_tool.ui.slurm_args import slurm_options

    state = start_on_slurm(spec, plan, slurm_options(args), sweeps=sweeps)
    arrays = ", ".join(describe(state)["arrays"])
    success(f"submitted {spec.kind} {plan.name} to Slurm: {len(plan.jobs)} jobs as job array {arrays}, "
            f"at most {state.max_parallel} at once")
    info(f"  status   llm-tool sweep status {plan.name}   (or llm-tool slurm list)")
    info(f"  stop     llm-tool sweep kill {plan.name}")
    info(f"  report   llm-tool sweep report {plan.name} -o reports/")
    if args.wait:
        return _wait(plan.name, sweeps)
    return 0


def _scheduler_alive(state: SweepState, server: Any) -> bool:
    from llm_tool.sweeps import tmux_ops

    pane = tmux_ops.sweep_panes(server, state.tmux_session).get(state.scheduler.pane_id or "")
    return pane is not None and not pane.dead


def _wait(name: str, sweeps: Any, poll: float = 2.0) -> int:
    """Follow the sweep until it ends (Ctrl+C stops waiting, not the sweep), then print the leaderboard."""
    from llm_tool.sweeps.slurm_ops import is_slurm, sync
    from llm_tool.sweeps.views import counts
    from llm_tool.ui.console import info, warning

    on_slurm = is_slurm(sweeps.read(name))
    server = None if on_slurm else _server()
    last, missing = None, 0
    while True:
        state = sync(name, sweeps=sweeps) if on_slurm else sweeps.read(name)
        tally = ", ".join(f"{n} {s}" for s, n in sorted(counts(state.jobs).items()))
        if tally != last:
            info(f"  {time.strftime('%H:%M:%S')}  {tally}")
            last = tally
        if state.state in ("finished", "stopped"):
            break
        missing = 0 if on_slurm or _scheduler_alive(state, server) else missing + 1
        if missing >= 3:  # ~3 polls: not the moment between two ticks or a respawn
            warning(f"the scheduler of {name} is not running: see `llm-tool sweep status {name}`, "
                    f"continue with `llm-tool sweep resume {name}`")
            _print_results(state, sweeps)
            return 1
        time.sleep(poll)
    _print_results(state, sweeps)
    return 0


def _print_results(state: SweepState, sweeps: Any) -> None:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps import benchmark
    from llm_tool.sweeps.ranking import ranking, score_text
    from llm_tool.sweeps_ui.tables import leaderboard_table
    from llm_tool.ui.console import console, success

    store = SessionStore(sweeps.home)
    configs = ranking(state, store)
    if any(c.mean is not None for c in configs):
        console.print(leaderboard_table(configs, title=f"Leaderboard of {state.name}", width=console.width))
    top = benchmark.finalize(state, store, configs)
    if top is not None and state.parent_session is not None:
        tied = sum(1 for c in configs if c.tied)
        success(f"best model: {top.model} (macro-F1 {score_text(top)}, session {top.best_session_id})"
                + (f", {tied} tied with it" if tied else "")
                + f"; recorded on benchmark session {state.parent_session.session_id}")


def cmd_start(args: argparse.Namespace) -> int:
    from llm_tool.sweeps.spec import load_sweep_file

    return _launch(load_sweep_file(args.sweep_file, [*args.sets, *budget_sets(args)], seeds=args.seeds), args)


def cmd_benchmark(args: argparse.Namespace) -> int:
    from llm_tool.sweeps.spec import benchmark_spec

    return _launch(benchmark_spec(args.config, args.models, [*args.sets, *budget_sets(args)], seeds=args.seeds),
                   args)


# ----- list / status / kill / report / attach --------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps.ranking import best_config, ranking
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.sweeps.views import counts
    from llm_tool.sweeps_ui.tables import sweeps_table
    from llm_tool.ui.console import console, info

    sweeps = SweepStore()
    server = _server(required=False)
    alive = set(server.session_names()) if server is not None else set()
    store = SessionStore(sweeps.home)
    items: list[dict[str, Any]] = []
    from llm_tool.sweeps.slurm_ops import is_slurm, sync

    for name, state, error in sweeps.all():
        if state is None:
            items.append({"name": name, "error": error})
            continue
        state = sync(name, sweeps=sweeps) if is_slurm(state) else state
        top = best_config(ranking(state, store, with_stats=False))
        items.append({"name": name, "kind": state.kind, "state": state.state,
                      "jobs": len(state.jobs), "counts": counts(state.jobs),
                      "tmux_session": state.tmux_session, "tmux_alive": state.tmux_session in alive,
                      "created_at": state.created_at,
                      "best": {"title": top.title, "model": top.model, "score": top.mean, "sd": top.sd,
                               "n_seeds": len(top.scores), "session_id": top.best_session_id} if top else None})
    if args.json:
        print(json.dumps(items, indent=2, default=str))
        return 0
    if not items:
        info("no sweeps yet: start one with `llm-tool sweep start SWEEP.json` "
             "or `llm-tool benchmark CONFIG --models A B`")
        return 0
    console.print(sweeps_table(items))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps.launch import attach_command
    from llm_tool.sweeps.leaderboard import leaderboard
    from llm_tool.sweeps.ranking import group_configs, rank_configs
    from llm_tool.sweeps.slurm_ops import is_slurm, sync
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.sweeps.views import job_views, summary

    sweeps = SweepStore()
    state = sync(args.name, sweeps=sweeps)
    server = None if is_slurm(state) else _server(required=False)
    panes, indexes = _live(state, server)
    store = SessionStore(sweeps.home)
    rows = job_views(state, store, panes, indexes)
    scheduler = panes.get(state.scheduler.pane_id or "")
    info_ = summary(state, rows, tmux_alive=bool(server and server.has_session(state.tmux_session)),
                    scheduler_alive=scheduler is not None and not scheduler.dead)
    if args.json:
        runs = leaderboard(state, store)
        board = [c.to_dict() for c in rank_configs(group_configs(state, runs))]
        print(json.dumps({"sweep": info_, "jobs": rows, "leaderboard": board, "runs": [r.to_dict() for r in runs]},
                         indent=2, default=str))
        return 0
    from llm_tool.sweeps_ui.tables import jobs_table
    from llm_tool.ui.console import console, info

    console.print(jobs_table(args.name, rows))
    tally = ", ".join(f"{n} {s}" for s, n in sorted(info_["counts"].items()))
    sched = "Slurm job array" if is_slurm(state) else "running" if info_["scheduler_alive"] else "not running"
    info(f"{state.kind} {args.name} [{state.state}]: {tally}; scheduler {sched}; "
         f"at most {state.max_parallel} at once")
    if info_["tmux_alive"]:
        info(f"  attach   {attach_command(state)}")
    _print_results(state, sweeps)
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    from llm_tool.sweeps.launch import kill_sweep
    from llm_tool.sweeps.slurm_ops import is_slurm, kill_on_slurm
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.console import info, success

    sweeps = SweepStore()
    if is_slurm(sweeps.read(args.name)):  # a clear error for an unknown name, before tmux is needed
        info(f"stopping sweep {args.name} on Slurm (running jobs save a checkpoint first)...")
        stopped = kill_on_slurm(args.name, grace=args.grace, sweeps=sweeps)
        success(f"stopped sweep {args.name}: " + ", ".join(f"{n} {s}" for s, n in sorted(_tally(stopped).items())))
        return 0
    info(f"stopping sweep {args.name} (running jobs save a checkpoint first)...")
    result = kill_sweep(args.name, grace=args.grace, sweeps=sweeps, server=_server())
    tally: dict[str, int] = {}
    for job in result.jobs:
        tally[job.status] = tally.get(job.status, 0) + 1
    where = f"removed tmux session {result.tmux_session}" if result.removed else "its tmux session was gone"
    success(f"stopped sweep {args.name}: {where}; " + ", ".join(f"{n} {s}" for s, n in sorted(tally.items())))
    for job in result.jobs:
        if job.status == "interrupted":
            info(f"  {job.title}: continue with `llm-tool sessions resume {job.session_id} --tmux`")
    return 0


def _tally(state: Any) -> dict[str, int]:
    tally: dict[str, int] = {}
    for job in state.jobs:
        tally[job.status] = tally.get(job.status, 0) + 1
    return tally


def cmd_resume(args: argparse.Namespace) -> int:
    from llm_tool.sweeps.launch import attach_command, requeue
    from llm_tool.sweeps.slurm_ops import is_slurm, resume_on_slurm
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.console import info, success

    sweeps = SweepStore()
    if is_slurm(sweeps.read(args.name)):
        again = resume_on_slurm(args.name, max_parallel=args.max_parallel, sweeps=sweeps)
    else:
        again = requeue(args.name, max_parallel=args.max_parallel, sweeps=sweeps, server=_server())
    if not again:
        info(f"sweep {args.name} has no interrupted or cancelled jobs: nothing to resume")
        return 0
    resumed = sum(1 for j in again if j.resume)
    success(f"queued {len(again)} jobs of {args.name} again ({resumed} from their last checkpoint)")
    if not is_slurm(sweeps.read(args.name)):
        info(f"  attach   {attach_command(sweeps.read(args.name))}")
    if args.wait:
        return _wait(args.name, sweeps)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps import benchmark
    from llm_tool.sweeps.ranking import ranking
    from llm_tool.sweeps.report import write_report
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.console import success, warning

    sweeps = SweepStore()
    state = sweeps.read(args.name)
    store = SessionStore(sweeps.home)
    configs = ranking(state, store)
    files = write_report(state, configs, args.output.expanduser(), force=args.force)
    benchmark.finalize(state, store, configs)
    if len(files) == 1:
        warning("no job has metrics yet: the report has no chart")
    success("wrote " + ", ".join(str(f) for f in files))
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from llm_tool.errors import TmuxError
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.attach import attach_here

    state = SweepStore().read(args.name)
    server = _server()
    name = state.tmux_session
    if not server.has_session(name):
        raise TmuxError(f"sweep {args.name} has no tmux session now (state {state.state}): "
                        f"see `llm-tool sweep status {args.name}`")
    return attach_here(server, name)
