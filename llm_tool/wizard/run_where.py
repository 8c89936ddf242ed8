"""Where a session runs, asked in the studio and carried out by the launch seam: here, in tmux, on Slurm, saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llm_tool.dispatch.seam import LaunchOptions, Place, TmuxMissing
from llm_tool.dispatch.slurm import sbatch_available
from llm_tool.dispatch.tmux_server import tmux_available
from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.ui.console import error, info, warning
from llm_tool.ui.launch_view import start
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import Question

__all__ = ["forget", "run_where", "sbatch_available", "tmux_available"]


def _start(ctx: Context, path: Path, place: Place, resume: bool) -> bool:
    """Launch through the seam (a tasks run: its children); False (with the reason shown) when it could not be
    done."""
    from llm_tool.sessions.task_parent import is_tasks_parent
    from llm_tool.ui.tasks_launch import launch_parent

    try:
        if is_tasks_parent(ctx.store.read(path)):
            launch_parent(ctx.store, path, place)
        else:
            start(ctx.store, path, place, LaunchOptions(resume=resume, start_dir=ctx.store.home))
    except InteractiveSessionError:
        raise
    except TmuxMissing as exc:
        error(f"{exc}; or run it here in the foreground")
        return False
    except LlmToolError as exc:
        error(str(exc))
        if place == "foreground":
            sid = ctx.store.read(path).session_id if path.exists() else path.name
            info(f"the session {sid} records the failure: see it in Sessions (history)")
        return place == "foreground"  # a failed run is done; a tmux or Slurm start that failed is asked again
    return True


def forget(ctx: Context, path: Path) -> None:
    """Remove the session file and log of a run whose parameters were not to be saved (the model stays)."""
    from llm_tool.sessions.operations import delete_session

    if not path.exists():
        return
    meta = ctx.store.read(path)
    from llm_tool.sessions.task_parent import is_tasks_parent

    if is_tasks_parent(meta):  # its children hold the models: a tasks run is kept whole
        info(f"tasks run {meta.session_id} kept: each task's model is listed under it (sessions show)")
        return
    model_dir = meta.execution_status.best_model or meta.output_paths.model_dir
    delete_session(ctx.store, path)
    warning("parameters not saved: this run cannot be resumed or relaunched"
            + (f"; the model is in {model_dir}" if model_dir and Path(model_dir).exists() else ""))


def run_where(ctx: Context, question: Question, session_path: Callable[[], Path], *, resume: bool = False) -> str:
    """Ask where to run until it is done: foreground, tmux (asked again if it cannot start) or save only.
    ``session_path`` creates the session the first time it is called. Returns the place chosen."""
    while True:
        where: Place = ctx.ask(question)
        if _start(ctx, session_path(), where, resume):
            return where
