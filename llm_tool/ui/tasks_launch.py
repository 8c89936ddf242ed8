"""Launch a tasks run (CLI and studio alike): `train` on a config naming several tasks, `sessions resume/relaunch` of
a parent; here one task after another, or side by side as a sweep (tmux, Slurm)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from llm_tool.errors import ExitCode


def train_tasks(args: argparse.Namespace, raw: dict[str, Any], base_dir: Path) -> int:
    """Find the tasks, create the parent and one child per task, and run them."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sweeps.tasks_run import create_run, plan_tasks

    plan = plan_tasks(raw, base_dir)
    store = SessionStore()
    run = create_run(store, plan, session_name=args.session_name)
    return run_parent(store, run.path, args)


def run_parent(store: Any, path: Path, args: argparse.Namespace) -> int:
    """Run a parent's unfinished children: here one after another, or side by side (``--backend tmux|slurm``)."""
    from llm_tool.ui.console import info

    backend = "tmux" if getattr(args, "tmux", False) else (args.backend or "foreground")
    parent = store.read(path)
    info(f"tasks run {parent.session_id}: {len(parent.extra.get('tasks', {}).get('entries', []))} tasks"
         + ("" if backend == "foreground" else f", side by side ({backend})"))
    if backend == "foreground":
        return _run_here(store, path, args)
    return _run_parallel(store, path, args, backend)


def _run_here(store: Any, path: Path, args: argparse.Namespace) -> int:
    from llm_tool.dispatch.seam import LaunchOptions
    from llm_tool.sweeps.tasks_run import run_here
    from llm_tool.ui.console import info
    from llm_tool.ui.launch_view import start
    from llm_tool.ui.tasks_view import show_foreground_end

    def run_child(child: Any, resume: bool) -> Any:
        info(f"[primary]task {child.entry.task}[/primary]: " + ("resuming" if resume else "training"),
             markup=True)
        return start(store, child.path, "foreground", LaunchOptions(resume=resume, nproc=args.nproc),
                     meta=child.meta)

    outcome = run_here(store, path, run_child)
    show_foreground_end(outcome, store)
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    return 0 if outcome.parent.execution_status.status == "completed" else ExitCode.FAILED


def _run_parallel(store: Any, path: Path, args: argparse.Namespace, backend: str) -> int:
    from llm_tool.sweeps.tasks_run import start_parallel
    from llm_tool.ui.console import info, success
    from llm_tool.ui.slurm_args import slurm_options

    sid = store.read(path).session_id
    started = start_parallel(store, path, "slurm" if backend == "slurm" else "tmux",
                             max_parallel=getattr(args, "max_parallel", None), slurm=slurm_options(args))
    where = f"Slurm job array {', '.join(started.arrays)}" if started.place == "slurm" \
        else f"tmux session {started.state.tmux_session}"
    success(f"started {started.added} tasks of {sid} as sweep {started.name}, at most "
            f"{started.state.max_parallel} at once ({where})")
    if started.attach:
        info(f"  attach   {started.attach}   (window 0 is the control view; detach: Ctrl-b d)")
    info(f"  tasks    llm-tool sessions show {sid}")
    info(f"  stop     llm-tool sweep kill {started.name}   (then: llm-tool sessions resume {sid})")
    return 0


def resume_parent(store: Any, path: Path, args: argparse.Namespace) -> int:
    """`sessions resume PARENT`: the interrupted children resume, the pending ones start, completed ones stay."""
    return run_parent(store, path, args)


def relaunch_parent(store: Any, source: Path, args: argparse.Namespace, sets: list[str]) -> int:
    """`sessions relaunch PARENT`: a new parent and children with the same settings (another file: --dataset)."""
    from llm_tool.sweeps.tasks_run import create_run, relaunch_plan
    from llm_tool.ui.console import info, warning

    plan, warnings = relaunch_plan(store, source, dataset=args.dataset, sets=sets, confirmed=args.yes)
    for message in warnings:
        warning(message)
    run = create_run(store, plan, session_name=args.session_name, parent=store.read(source).session_id)
    info(f"relaunching {store.read(source).session_id} as {run.session_id}")
    return run_parent(store, run.path, args)
