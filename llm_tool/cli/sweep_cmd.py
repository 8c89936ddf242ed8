"""`llm-tool sweep ...` (start, list, status, kill, report, attach), `llm-tool benchmark` and `llm-tool curve`."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.errors import ExitCode
from llm_tool.ui.options import Commands, add_budget_options, budget_sets

if TYPE_CHECKING:
    from llm_tool.sweeps.seam import SweepSnapshot, WaitOutcome
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


def register(commands: Commands) -> None:
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
    p.add_argument("--yes", action="store_true",
                   help="on Slurm: use the jobs' extra sbatch lines even if the sessions were edited or copied")
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
    bench.add_argument("--models", nargs="+", metavar="MODEL",
                       help="candidate models: a Hugging Face id or a local folder each (one job per model)")
    bench.add_argument("--language-strategies", metavar="multilingual,per_language",
                       help="instead of models: train the config's tasks with one model for every language and with "
                            "one model per language (model_config.language_strategy) on the same split, and compare "
                            "them on the same test rows (overall and per language, paired bootstrap)")
    _add_launch_options(bench)
    bench.set_defaults(func=cmd_benchmark)

    curve = commands.add_parser(
        "curve", help="learning curve: train on 10/25/50/100%% of the training rows; would more data help?",
        description="Train the config on nested, stratified fractions of its training rows (the 25%% contain the "
                    "10%%), each scored on the same validation and test rows, as a sweep (tmux or Slurm). A parent "
                    "curve session records macro-F1 per fraction (mean and 95%% interval over seeds), an inverse "
                    "power law fitted to it with the estimated macro-F1 at 2x and 4x the data, and a PNG plot.")
    curve.add_argument("config", type=Path, help="config JSON (dataset_config + model_config)")
    curve.add_argument("--fractions", metavar="F,F,...",
                       help="shares of the training rows, each above 0 and at most 1 (default 0.1,0.25,0.5,1)")
    curve.add_argument("--per-class", action="store_true", help="also draw each class's F1 (mean over seeds)")
    _add_launch_options(curve)
    curve.set_defaults(func=cmd_curve)


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
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.state import SweepError
    from llm_tool.ui.console import info, success
    from llm_tool.ui.interaction import confirm, is_interactive
    from llm_tool.ui.slurm_args import slurm_options

    options = slurm_options(args)  # Slurm settings without --backend slurm: refused before anything is planned
    plan = seam.plan(spec, name=args.name, max_parallel=args.max_parallel)
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
            return ExitCode.FAILED
    started = seam.start(spec, args.backend, planned=plan, slurm=options)
    state = started.state
    if started.place == "slurm":
        success(f"submitted {spec.kind} {plan.name} to Slurm: {started.added} jobs as job array "
                f"{', '.join(started.arrays)}, at most {state.max_parallel} at once")
        info(f"  status   llm-tool sweep status {plan.name}   (or llm-tool slurm list)")
    else:
        verb = f"added {started.added} jobs to" if started.appended else "started"
        success(f"{verb} {spec.kind} {plan.name}: {len(state.jobs)} jobs, at most {state.max_parallel} at once "
                f"(tmux session {state.tmux_session})")
        info(f"  attach   {started.attach}   (window 0 is the control view; detach: Ctrl-b d)")
        info(f"  status   llm-tool sweep status {plan.name}")
    info(f"  stop     llm-tool sweep kill {plan.name}")
    info(f"  report   llm-tool sweep report {plan.name} -o reports/")
    return _wait(plan.name) if args.wait else 0


def _wait(name: str) -> int:
    """Follow the sweep until it ends (Ctrl+C stops waiting, not the sweep), then print the leaderboard."""
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.summaries import tally_text
    from llm_tool.ui.console import info, warning

    def show(snapshot: SweepSnapshot) -> None:
        info(f"  {time.strftime('%H:%M:%S')}  {tally_text(snapshot.counts)}")

    outcome: WaitOutcome = seam.wait(name, on_change=show)
    if outcome.scheduler_lost:
        warning(f"the scheduler of {name} is not running: see `llm-tool sweep status {name}`, "
                f"continue with `llm-tool sweep resume {name}`")
    _print_results(outcome.snapshot.state)
    return ExitCode.FAILED if outcome.scheduler_lost else 0


def _print_results(state: SweepState) -> None:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps import benchmark, strategy_record
    from llm_tool.sweeps.ranking import ranking, score_text
    from llm_tool.sweeps_ui.tables import leaderboard_table
    from llm_tool.ui.console import console, success

    store = SessionStore()
    if state.kind == "curve":
        from llm_tool.sweeps.curve import finalize
        from llm_tool.ui.curve_view import print_curve

        print_curve(finalize(state, store), f"Learning curve {state.name}")
        return
    if strategy_record.is_strategies(state):
        from llm_tool.ui.strategies_view import print_comparison

        print_comparison(strategy_record.finalize(state, store), f"Language strategies of {state.name}")
        return
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
    from llm_tool.errors import ConfigError
    from llm_tool.sweeps.spec import benchmark_spec

    if args.language_strategies is not None:
        if args.models:
            raise ConfigError("--language-strategies compares two strategies of one model: leave out --models (set "
                              "model_config.selected_model, or --set model_config.selected_model=MODEL)")
        return _launch_strategies(args)
    if not args.models:
        raise ConfigError("give the candidate models (--models A B) or --language-strategies multilingual,per_language")
    return _launch(benchmark_spec(args.config, args.models, [*args.sets, *budget_sets(args)], seeds=args.seeds),
                   args)


def _launch_strategies(args: argparse.Namespace) -> int:
    """`benchmark CONFIG --language-strategies ...`: both tasks runs planned (nothing created on a dry run or an
    error), then created and started as one sweep."""
    from llm_tool.config import apply_overrides, load_config_file
    from llm_tool.errors import ConfigError
    from llm_tool.sweeps import seam, strategies
    from llm_tool.ui.console import info, success
    from llm_tool.ui.slurm_args import slurm_options

    if args.seeds not in (None, 1):
        raise ConfigError("--language-strategies runs each strategy once: leave out --seeds")
    options = slurm_options(args)
    names = strategies.parse_strategies(args.language_strategies)
    path = args.config.expanduser().resolve()
    raw = apply_overrides(load_config_file(path), [*args.sets, *budget_sets(args)])
    plan = strategies.plan_strategies(raw, names, base_dir=path.parent, source=path.name)
    planned = seam.plan(strategies.sweep_spec(plan), name=args.name or f"{path.stem}-languages",
                        max_parallel=args.max_parallel)
    if args.dry_run or len(planned.jobs) <= MAX_TABLE_JOBS:
        _print_plan(planned)
    for skipped in (plan.arms["per_language"].languages.skipped if plan.arms["per_language"].languages else []):
        info(f"  per_language: no {skipped.language} model of {skipped.task} ({skipped.reason}); its rows go to "
             "the fallback")
    if args.dry_run:
        info("dry run: no session was created and nothing was started")
        return 0
    started = strategies.start(plan, args.backend, planned=planned, slurm=options)
    parent = started.state.parent_session.session_id if started.state.parent_session else "-"
    success(f"started benchmark {started.name} of language strategies ({', '.join(names)}): "
            f"{len(started.state.jobs)} trainings, at most {started.state.max_parallel} at once; comparison recorded "
            f"on benchmark session {parent}")
    if started.attach:
        info(f"  attach   {started.attach}")
    info(f"  status   llm-tool sweep status {started.name}")
    info(f"  report   llm-tool sweep report {started.name} -o reports/")
    return _wait(started.name) if args.wait else 0


def cmd_curve(args: argparse.Namespace) -> int:
    from llm_tool.config import apply_overrides, load_config_file
    from llm_tool.sweeps.curve import curve_from_config, parse_fractions

    fractions = parse_fractions(args.fractions)
    path = args.config.expanduser().resolve()
    base = apply_overrides(load_config_file(path), [*args.sets, *budget_sets(args)])
    spec = curve_from_config(base, fractions, base_dir=path.parent, source=path.name, seeds=args.seeds,
                             per_class=args.per_class)
    return _launch(spec, args)


# ----- list / status / kill / report / attach --------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps import seam, strategy_record
    from llm_tool.sweeps.ranking import best_config, ranking
    from llm_tool.sweeps_ui.tables import sweeps_table
    from llm_tool.ui.console import console, info

    store = SessionStore()
    items: list[dict[str, Any]] = []
    for entry in seam.overview():
        if entry.snapshot is None:
            items.append({"name": entry.name, "error": entry.error})
            continue
        state = entry.snapshot.state
        top = None if strategy_record.is_strategies(state) else best_config(ranking(state, store, with_stats=False))
        items.append({"name": entry.name, "kind": state.kind, "state": state.state, "place": entry.snapshot.place,
                      "jobs": len(state.jobs), "counts": entry.snapshot.counts,
                      "tmux_session": state.tmux_session, "tmux_alive": entry.snapshot.tmux_alive,
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
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.summaries import tally_text

    if args.json:
        print(json.dumps(seam.status_document(args.name), indent=2, default=str))
        return 0
    now = seam.refresh(args.name)
    state = now.state
    from llm_tool.sweeps_ui.tables import jobs_table
    from llm_tool.ui.console import console, info

    console.print(jobs_table(args.name, now.rows))
    sched = "Slurm job array" if now.place == "slurm" else "running" if now.scheduler_alive else "not running"
    info(f"{state.kind} {args.name} [{state.state}]: {tally_text(now.counts)}; scheduler {sched}; "
         f"at most {state.max_parallel} at once")
    if now.attach:
        info(f"  attach   {now.attach}")
    _print_results(state)
    return 0


def cmd_kill(args: argparse.Namespace) -> int:
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.summaries import tally_text
    from llm_tool.ui.console import info, success

    where = " on Slurm" if seam.place_of(args.name) == "slurm" else ""  # an unknown name: one line, exit 2
    info(f"stopping sweep {args.name}{where} (running jobs save a checkpoint first)...")
    done = seam.kill(args.name, grace=args.grace)
    if done.place == "slurm":
        success(f"stopped sweep {args.name}: {tally_text(done.counts)}")
        return 0
    gone = f"removed tmux session {done.tmux_session}" if done.removed else "its tmux session was gone"
    success(f"stopped sweep {args.name}: {gone}; {tally_text(done.counts)}")
    for job in done.interrupted:
        info(f"  {job.title}: continue with `llm-tool sessions resume {job.session_id} --tmux`")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.sweeps import seam
    from llm_tool.ui.console import info, success

    slurm = SlurmOptions(accept_unsealed=True) if args.yes else None  # --yes: lines the user checked
    done = seam.resume(args.name, max_parallel=args.max_parallel, slurm=slurm)
    if not done.jobs:
        info(f"sweep {args.name} has no interrupted or cancelled jobs: nothing to resume")
        return 0
    success(f"queued {len(done.jobs)} jobs of {args.name} again ({done.from_checkpoint} from their last checkpoint)")
    if done.attach:
        info(f"  attach   {done.attach}")
    return _wait(args.name) if args.wait else 0


def cmd_report(args: argparse.Namespace) -> int:
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps import benchmark
    from llm_tool.sweeps.ranking import ranking
    from llm_tool.sweeps.report import write_report
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.ui.console import success, warning

    state = SweepStore().read(args.name)
    store = SessionStore()
    if state.kind == "curve":  # the curve's table, fit and plot
        from llm_tool.sweeps import curve

        files = curve.write_report(state, args.output.expanduser(), force=args.force, store=store)
        success("wrote " + ", ".join(str(f) for f in files))
        return 0
    from llm_tool.sweeps import strategy_record

    if strategy_record.is_strategies(state):  # the comparison of the two strategies
        from llm_tool.ui.strategies_view import report_strategies

        return report_strategies(state, store, args.output.expanduser(), force=args.force)
    configs = ranking(state, store)
    files = write_report(state, configs, args.output.expanduser(), force=args.force)
    benchmark.finalize(state, store, configs)
    if len(files) == 1:
        warning("no job has metrics yet: the report has no chart")
    success("wrote " + ", ".join(str(f) for f in files))
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from llm_tool.sweeps import seam
    from llm_tool.ui.attach import attach_here

    target = seam.attach_target(args.name)
    return attach_here(target.server, target.session)
