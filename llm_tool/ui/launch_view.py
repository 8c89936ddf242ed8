"""Show a launch: progress while a session trains here, then one rendering of each outcome (CLI and studio alike)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.dispatch.seam import LaunchOptions, LaunchOutcome, Place, TmuxMissing, launch
from llm_tool.errors import ExitCode
from llm_tool.ui.console import console, info, safe, success, warning
from llm_tool.ui.interaction import confirm, is_interactive

if TYPE_CHECKING:
    from llm_tool.dispatch.slurm import SlurmJob
    from llm_tool.dispatch.tmux_launch import LaunchPlan, LaunchResult
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore

FOREGROUND_INSTEAD = "Train in the foreground now instead (it stops if this terminal closes)?"


def start(store: SessionStore, path: Path, place: Place, options: LaunchOptions | None = None, *,
          meta: SessionMetadata | None = None) -> LaunchOutcome:
    """Launch through the seam with a progress display for a foreground run, then show the outcome. ``meta``: the
    session as the caller has it (created or read in this process), passed down so that nobody reads it again."""
    if place != "foreground":
        outcome = launch(store, path, place, options, meta=meta)
    else:
        from llm_tool.ui.progress import screen_progress

        meta = meta if meta is not None else store.read(path)
        console.print(f"[primary]session[/primary] {safe(meta.session_id)}  ({safe(str(path), 1000)})")
        display = screen_progress()
        try:
            outcome = launch(store, path, place, options, on_event=display, meta=meta)
        finally:
            display.close()
    show_outcome(outcome)
    return outcome


def start_with_fallback(store: SessionStore, path: Path, options: LaunchOptions | None = None, *,
                        meta: SessionMetadata | None = None) -> int:
    """Start in tmux; when tmux is missing and someone can answer, offer the foreground. Returns the exit code."""
    try:
        return start(store, path, "tmux", options, meta=meta).exit_code
    except TmuxMissing as exc:
        if not is_interactive():
            raise
        warning(str(exc))
        if confirm(FOREGROUND_INSTEAD, default=False):
            return start(store, path, "foreground", options, meta=meta).exit_code
        return ExitCode.USER_ERROR


def show_outcome(outcome: LaunchOutcome) -> None:
    sid = outcome.session_id
    if outcome.state == "started" and outcome.tmux is not None:
        show_started(outcome.tmux)
    elif outcome.state == "started" and outcome.slurm is not None:
        show_submitted(outcome.slurm)
    elif outcome.state == "saved":
        success(f"saved {sid}: {outcome.session_path}")
        info(f"  run it later:  llm-tool sessions resume {sid}   (add --tmux to run it in tmux)")
        info("  or here:       Training Studio → Resume/Relaunch Training → pick it → Start it now")
    elif outcome.state == "interrupted":
        reason = outcome.training.reason if outcome.training else None
        warning(f"{sid} interrupted ({reason}); its last checkpoint is kept. "
                f"Continue with: llm-tool sessions resume {sid}")
    elif outcome.training is not None:
        from llm_tool.ui.tables import metrics_tables

        for table in metrics_tables(outcome.training.metrics or {}):
            console.print(table)
        for found in (outcome.training.metrics or {}).get("warnings", []):
            warning(found["message"])
        reason = f" ({outcome.training.reason})" if outcome.training.reason else ""
        success(f"{sid} completed{reason}: model saved in {outcome.training.model_dir}")
        if outcome.training.reason:
            info(f"  train on  llm-tool sessions resume {sid} --time-budget 1h   (from its last checkpoint)")
        info(f"  report    llm-tool report {sid}   (figures + HTML; studio: Test a trained model → Write its report)")


def show_started(result: LaunchResult) -> None:
    """The one message for a training started in tmux: what runs where, how to watch, stop and read it."""
    success(f"started tmux session {result.name}: training session {result.session_id} "
            "(it keeps running if you close this terminal)")
    info(f"  attach   {result.attach_hint}   (or `llm-tool tmux attach {result.name}`; detach: Ctrl-b d)")
    info("  watch    llm-tool tmux monitor   (studio: main menu → Monitor running trainings)")
    info(f"  stop     llm-tool tmux kill {result.name}   (it can be resumed afterwards)")
    info(f"  log      {result.log_file}")


def show_submitted(job: SlurmJob) -> None:
    """The one message for a session queued on Slurm: job id, how to follow, stop and read it."""
    success(f"submitted Slurm job {job.job_id}: training session {job.session_id} "
            "(it checkpoints and requeues itself when preempted or near its time limit)")
    info("  status   llm-tool slurm list   (or squeue)")
    info(f"  stop     llm-tool slurm kill {job.job_id}   (checkpoints first; resumable)")
    info(f"  log      {job.log_file}")
    info(f"  script   {job.script}")


def show_plan(raw: dict[str, Any], base_dir: Path) -> None:
    """Validate config, data and model and print the training plan (a dry run: nothing is trained)."""
    from llm_tool.config import parse_config
    from llm_tool.data.tasks import is_multi_task
    from llm_tool.training.plan import make_plan
    from llm_tool.ui.tables import plan_table

    config = parse_config(raw)
    if is_multi_task(config.dataset):
        show_task_plans(config, base_dir)
        return
    plan = make_plan(config, base_dir)
    console.print(plan_table(plan.as_dict()))
    success("config, data and model are valid (dry run: nothing was trained)")


def show_task_plans(config: Any, base_dir: Path) -> None:
    """The dry run of a config with several tasks: each task's classes and coverage, then its model's plan."""
    from llm_tool.data.analysis import task_rows
    from llm_tool.training.plan import make_task_plans
    from llm_tool.ui.task_tables import task_plans_table, tasks_table

    infos, plans = make_task_plans(config, base_dir)
    console.print(tasks_table(task_rows(infos)))
    console.print(task_plans_table([(info.name, plan.as_dict()) for info, plan in zip(infos, plans, strict=True)]))
    if plans and plans[0].split_method:
        info(f"split: {plans[0].split_method}")
    count = f"{len(infos)} task{'s' if len(infos) != 1 else ''}"
    success(f"config, data and model are valid for {count} (dry run: nothing was trained)")


def show_tmux_plan(plan: LaunchPlan, max_retries: int, timeout_hours: float | None) -> None:
    info("[primary]would start[/primary] (dry run: nothing was created)", markup=True)
    info(f"  tmux session  {plan.name}  (socket {plan.socket})")
    info(f"  folder        {plan.start_dir}")
    info(f"  command       {shlex.join(plan.command)}")
    retries = f"up to {max_retries} after a crash" if max_retries else "none"
    info(f"  retries       {retries}; timeout {f'{timeout_hours:g} h' if timeout_hours else 'none'}")
    info(f"  attach with   {plan.attach_hint}")
