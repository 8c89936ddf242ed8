"""Where a session runs: here in the foreground, in tmux (the dispatch package), or later (save only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llm_tool.dispatch.tmux_server import tmux_available
from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.ui.console import error, info, success, warning
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import TMUX_INSTALL, Question


def run_foreground(ctx: Context, path: Path, *, resume: bool = False) -> int | None:
    """Train in this terminal; the exit code, or None when the run stopped on an error (already shown)."""
    from llm_tool.cli.train_cmd import run_session_file

    try:
        return run_session_file(ctx.store, path, resume=resume)
    except InteractiveSessionError:
        raise
    except LlmToolError as exc:
        error(str(exc))
        sid = ctx.store.read(path).session_id if path.exists() else path.name
        info(f"the session {sid} records the failure: see it in Sessions (history)")
        return None


def run_in_tmux(ctx: Context, path: Path, *, resume: bool = False) -> bool:
    """Start the session in a tmux session of its own; False (with the reason shown) when that cannot be done."""
    if not tmux_available():
        error(f"tmux is not installed: {TMUX_INSTALL}; or run it here in the foreground")
        return False
    try:
        from llm_tool.dispatch.launcher import launch_in_tmux
    except ImportError:
        error("tmux dispatch is not available in this installation: run it here in the foreground")
        return False
    try:
        result = launch_in_tmux(ctx.store, path, resume=resume, start_dir=ctx.store.home)
    except InteractiveSessionError:
        raise
    except LlmToolError as exc:
        error(str(exc))
        return False

    sid = ctx.store.read(path).session_id
    command = result.attach_command
    hint = getattr(result, "attach_hint", None) or (" ".join(command) if isinstance(command, list) else str(command))
    success(f"{sid} is running in tmux session '{result.name}'; it keeps running if you close this terminal")
    info(f"  watch it       {hint}   (detach again: Ctrl-b d)")
    info("  all trainings  main menu → Monitor running trainings (or `llm-tool tmux monitor`)")
    info(f"  stop it        llm-tool tmux kill {result.name}   (it can be resumed afterwards)")
    return True


def explain_saved(ctx: Context, path: Path) -> None:
    sid = ctx.store.read(path).session_id
    success(f"saved {sid}: {path}")
    info(f"  run it later:  llm-tool sessions resume {sid}   (add --tmux to run it in tmux)")
    info("  or here:       Training Studio → Resume/Relaunch Training → pick it → Start it now")


def forget(ctx: Context, path: Path) -> None:
    """Remove the session file and log of a run whose parameters were not to be saved (the model stays)."""
    from llm_tool.sessions.operations import delete_session

    if not path.exists():
        return
    meta = ctx.store.read(path)
    model_dir = meta.execution_status.best_model or meta.output_paths.model_dir
    delete_session(ctx.store, path)
    warning("parameters not saved: this run cannot be resumed or relaunched"
            + (f"; the model is in {model_dir}" if model_dir and Path(model_dir).exists() else ""))


def run_where(ctx: Context, question: Question, session_path: Callable[[], Path], *, resume: bool = False) -> str:
    """Ask where to run until it is done: foreground, tmux (asked again if it cannot start) or save only.
    ``session_path`` creates the session the first time it is called. Returns the place chosen."""
    while True:
        where = ctx.ask(question)
        path = session_path()
        if where == "foreground":
            run_foreground(ctx, path, resume=resume)
            return where
        if where == "tmux":
            if run_in_tmux(ctx, path, resume=resume):
                return where
            continue
        explain_saved(ctx, path)
        return where
