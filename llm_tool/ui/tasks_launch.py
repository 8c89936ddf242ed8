"""Launch a tasks run (CLI and studio alike): `train` on a config naming several tasks, `sessions resume/relaunch` of
a parent; here one task after another, or side by side as a sweep (tmux, Slurm)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.errors import ExitCode

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.sessions.store import SessionStore


def train_tasks(args: argparse.Namespace, raw: dict[str, Any], base_dir: Path) -> int:
    """Find the tasks, create the parent and one child per task, and run them."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sweeps.tasks_run import create_run, plan_tasks

    plan = plan_tasks(raw, base_dir)
    store = SessionStore()
    run = create_run(store, plan, session_name=args.session_name)
    return run_parent(store, run.path, args)


def run_parent(store: SessionStore, path: Path, args: argparse.Namespace) -> int:
    """A parent's unfinished children where the command line says (``--backend``, ``--tmux``)."""
    from llm_tool.ui.slurm_args import slurm_options

    place = "tmux" if getattr(args, "tmux", False) else (args.backend or "foreground")
    return launch_parent(store, path, place, max_parallel=getattr(args, "max_parallel", None),
                         slurm=slurm_options(args), nproc=getattr(args, "nproc", None))


def launch_parent(store: SessionStore, path: Path, place: str, *, max_parallel: int | None = None,
                  slurm: SlurmOptions | None = None, nproc: int | None = None) -> int:
    """Run a parent's unfinished children: here one after another (``foreground``), side by side (``tmux``,
    ``slurm``), or not yet (``save``). Returns the exit code."""
    from llm_tool.sessions.task_parent import task_entries
    from llm_tool.ui.console import info, success

    parent = store.read(path)
    sid = parent.session_id
    if place == "save":
        success(f"saved tasks run {sid} ({len(task_entries(parent))} tasks)")
        info(f"  run it later:  llm-tool sessions resume {sid}   (add --tmux to train the tasks side by side)")
        return 0
    info(f"tasks run {sid}: {len(task_entries(parent))} tasks"
         + (", one after another" if place == "foreground" else f", side by side ({place})"))
    if place == "foreground":
        return _run_here(store, path, nproc)
    return _run_parallel(store, path, "slurm" if place == "slurm" else "tmux", max_parallel, slurm)


def _run_here(store: SessionStore, path: Path, nproc: int | None) -> int:
    from llm_tool.dispatch.seam import LaunchOptions, LaunchOutcome
    from llm_tool.sessions.task_status import ChildNow
    from llm_tool.sweeps.tasks_run import run_here
    from llm_tool.ui.console import info
    from llm_tool.ui.launch_view import start
    from llm_tool.ui.tasks_view import show_foreground_end

    def run_child(child: ChildNow, resume: bool) -> LaunchOutcome:
        info(f"[primary]task {child.entry.task}[/primary]: " + ("resuming" if resume else "training"),
             markup=True)
        assert child.path is not None  # run_here runs only children it could read
        return start(store, child.path, "foreground", LaunchOptions(resume=resume, nproc=nproc), meta=child.meta)

    outcome = run_here(store, path, run_child)
    show_foreground_end(outcome, store)
    if outcome.interrupted:
        return ExitCode.INTERRUPTED
    return 0 if outcome.parent.execution_status.status == "completed" else ExitCode.FAILED


def _run_parallel(store: SessionStore, path: Path, place: str, max_parallel: int | None,
                  slurm: SlurmOptions | None) -> int:
    from llm_tool.sweeps.tasks_run import start_parallel
    from llm_tool.ui.console import info, success

    sid = store.read(path).session_id
    started = start_parallel(store, path, "slurm" if place == "slurm" else "tmux", max_parallel=max_parallel,
                             slurm=slurm)
    where = f"Slurm job array {', '.join(started.arrays)}" if started.place == "slurm" \
        else f"tmux session {started.state.tmux_session}"
    success(f"started {started.added} tasks of {sid} as sweep {started.name}, at most "
            f"{started.state.max_parallel} at once ({where})")
    if started.attach:
        info(f"  attach   {started.attach}   (window 0 is the control view; detach: Ctrl-b d)")
    info(f"  tasks    llm-tool sessions show {sid}")
    info(f"  stop     llm-tool sweep kill {started.name}   (then: llm-tool sessions resume {sid})")
    return 0


def resume_parent(store: SessionStore, path: Path, args: argparse.Namespace) -> int:
    """`sessions resume PARENT`: the interrupted children resume, the pending ones start, completed ones stay."""
    return run_parent(store, path, args)


def relaunch_parent(store: SessionStore, source: Path, args: argparse.Namespace, sets: list[str]) -> int:
    """`sessions relaunch PARENT`: a new parent and children with the same settings (another file: --dataset)."""
    path = new_run_like(store, source, dataset=args.dataset, sets=sets, session_name=args.session_name,
                        confirmed=args.yes)
    return run_parent(store, path, args)


def new_run_like(store: SessionStore, source: Path, *, dataset: Path | None = None, sets: list[str] | None = None,
                 session_name: str | None = None, confirmed: bool = False) -> Path:
    """A new tasks run (parent and children, pending) with the settings of the parent in ``source``."""
    from llm_tool.sweeps.tasks_run import create_run, relaunch_plan
    from llm_tool.ui.console import info, warning

    plan, warnings = relaunch_plan(store, source, dataset=dataset, sets=sets, confirmed=confirmed)
    for message in warnings:
        warning(message)
    old = store.read(source).session_id
    run = create_run(store, plan, session_name=session_name, parent=old)
    info(f"relaunching {old} as {run.session_id}")
    return run.path
