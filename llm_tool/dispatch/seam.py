"""The launch seam: run a saved session here (foreground), in tmux, on Slurm, or keep it saved; one outcome for all.

The CLI and the Training Studio both call :func:`launch` and render the :class:`LaunchOutcome` it returns; neither
decides on its own how a place to run is carried out. It never prompts: a caller that can ask (for instance
"tmux is missing, train here instead?") catches :class:`TmuxMissing` and calls again with another place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from llm_tool.dispatch.environment import SUPERVISED_ENV
from llm_tool.dispatch.tmux_server import INSTALL_HINT, tmux_available
from llm_tool.errors import ConfigError, ExitCode, SessionError, TmuxError
from llm_tool.training.events import EventHandler, TrainingEvent, ignore

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.dispatch.slurm import SlurmJob
    from llm_tool.dispatch.tmux_launch import LaunchResult
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore
    from llm_tool.training.engine import TrainingOutcome

Place = Literal["foreground", "tmux", "slurm", "save"]
PLACES: tuple[Place, ...] = ("foreground", "tmux", "slurm", "save")
OutcomeState = Literal["completed", "interrupted", "started", "saved"]
LOG_INTERVAL_SECONDS = 30.0  # at most one step line this often in the session log


class TmuxMissing(TmuxError):
    """tmux was asked for but is not installed (the caller may offer the foreground instead)."""

    def __init__(self) -> None:
        super().__init__(f"tmux is not installed: {INSTALL_HINT}")


@dataclass(frozen=True)
class LaunchOptions:
    """How to run: resume from the last checkpoint or start, and the tmux settings (retries, timeout, name)."""

    resume: bool = False
    max_retries: int = 0
    timeout_hours: float | None = None
    tmux_name: str | None = None
    start_dir: Path | None = None
    config_stem: str | None = None
    slurm: SlurmOptions | None = None  # --partition/--time/...: on top of the session's slurm_config section
    nproc: int | None = None  # torchrun processes; None: as recorded (resume), else one per GPU when several

    def __post_init__(self) -> None:
        """Refuse impossible limits when the options are made, before anything is created or started."""
        from llm_tool.dispatch.tmux_launch import check_limits

        check_limits(self.max_retries, self.timeout_hours)
        check_nproc(self.nproc)


def check_nproc(nproc: int | None) -> None:
    """Refuse a number of training processes that cannot be (None: the default, one per GPU when several)."""
    if nproc is not None and not 1 <= nproc <= 1024:
        raise ConfigError(f"--nproc must be between 1 and 1024, got {nproc}")


@dataclass(frozen=True)
class LaunchOutcome:
    """What happened: a finished or interrupted foreground run, a started tmux job, or a saved session."""

    place: Place
    state: OutcomeState
    session_id: str
    session_path: Path
    exit_code: int
    training: TrainingOutcome | None = None
    tmux: LaunchResult | None = None
    slurm: SlurmJob | None = None


def launch(store: SessionStore, path: Path, place: Place, options: LaunchOptions | None = None, *,
           on_event: EventHandler = ignore, meta: SessionMetadata | None = None) -> LaunchOutcome:
    """Run the session in ``path`` at ``place``; ``on_event`` shows foreground progress (the caller's display).
    ``meta``: the session as the caller read (or created) it in this process; it is passed down to the trainer,
    so the file is parsed once per process.

    Raises TmuxMissing when ``place`` is tmux and tmux is not installed, and the usual user errors (bad config,
    data or model; a session already running) as exceptions the caller shows as one line.
    """
    options = options or LaunchOptions()
    meta = meta if meta is not None else store.read(path)
    if place == "foreground":
        if "LOCAL_RANK" in os.environ:  # one rank of a torchrun group: its launcher owns the Slurm job
            return _run_here(store, path, meta, options.resume, on_event)
        from llm_tool.dispatch.slurm_job import in_slurm_job, run_in_job
        from llm_tool.dispatch.torchrun import check_world_size, default_nproc, run_group

        nproc = options.nproc or default_nproc(meta, options.resume)
        if nproc > 1:
            def group(resume: bool) -> LaunchOutcome:
                return _group_outcome(store, path, run_group(store, path, nproc, resume))
            # in a Slurm job the group is preempted, requeued and resumed like a single process
            return run_in_job(store, path, options.resume, group) if in_slurm_job() else group(options.resume)
        check_world_size(meta, 1, options.resume)
        if in_slurm_job():  # the batch script's `llm-tool train --session`: requeue on preemption, resume after
            # (each part reads the session again: the job records its Slurm state in it in between)
            return run_in_job(store, path, options.resume,
                              lambda resume: _run_here(store, path, None, resume, on_event))
        return _run_here(store, path, meta, options.resume, on_event)
    sid = meta.session_id
    if place == "save":
        return LaunchOutcome("save", "saved", sid, path, 0)
    if place == "slurm":
        from llm_tool.dispatch.slurm import submit

        ranks_wanted = options.nproc
        job = submit(store, path, options.slurm, resume=options.resume, start_dir=options.start_dir,
                     wrap=(lambda argv: [*argv, "--nproc", str(ranks_wanted)]) if ranks_wanted else None)
        return LaunchOutcome("slurm", "started", sid, path, 0, slurm=job)
    if not tmux_available():
        raise TmuxMissing()
    from llm_tool.dispatch.tmux_launch import launch_in_tmux

    result = launch_in_tmux(store, path, resume=options.resume, name=options.tmux_name,
                            max_retries=options.max_retries, timeout_hours=options.timeout_hours,
                            start_dir=options.start_dir or store.home, config_stem=options.config_stem,
                            nproc=options.nproc)
    return LaunchOutcome("tmux", "started", sid, path, 0, tmux=result)


def resume_mode(store: SessionStore, path: Path, meta: SessionMetadata | None = None) -> bool:
    """Whether `resume` continues from a checkpoint (True) or simply starts a saved, never started session.

    Refuses a completed or running session (and one a tmux supervisor is about to retry); ``meta`` is the
    session as the caller already checked it with ``check_resumable``.
    """
    from llm_tool.dispatch.tmux_launch import ensure_not_running
    from llm_tool.sessions.operations import check_resumable

    meta = meta or check_resumable(store, path)
    ensure_not_running(store, meta)
    return meta.execution_status.status != "pending"


def _group_outcome(store: SessionStore, path: Path, code: int) -> LaunchOutcome:
    """The outcome of a torchrun group, read from the session file and the metrics rank 0 wrote."""
    from llm_tool.model_folder import metrics_path, read_metrics
    from llm_tool.training.engine import TrainingOutcome

    meta = store.read(path)
    status, sid = meta.execution_status, meta.session_id
    if status.status == "completed":
        model_dir = store.output_dirs(meta)[0]
        saved = metrics_path(model_dir)
        # what rank 0 wrote, bounded: a damaged file is one line (exit 2), none is no metrics
        metrics = read_metrics(model_dir, SessionError) if saved.exists() or saved.is_symlink() else {}
        reason = status.extra.get("completion_reason")
        training = TrainingOutcome(sid, "completed", model_dir, metrics, reason if isinstance(reason, str) else None)
        return LaunchOutcome("foreground", "completed", sid, path, 0, training=training)
    if status.status == "failed":
        raise SessionError(f"{sid} failed: {status.error_message or f'torchrun exit {code}'}")
    training = TrainingOutcome(sid, "interrupted", None, None, status.interrupt_reason)
    return LaunchOutcome("foreground", "interrupted", sid, path, ExitCode.INTERRUPTED, training=training)


def _run_here(store: SessionStore, path: Path, meta: SessionMetadata | None, resume: bool,
              on_event: EventHandler) -> LaunchOutcome:
    """Train in this process (``meta``: the session as read in this process; None: the file changed since, read it
    again). The session log gets plain progress lines unless a tmux supervisor tees them."""
    from llm_tool.training.engine import EXIT_INTERRUPTED, run_session
    from llm_tool.training.event_log import PlainProgress

    supervised = os.environ.get(SUPERVISED_ENV) == "1"
    if meta is None:
        meta = store.read(path)
    sid = meta.session_id
    handler, log_handle = on_event, None
    if not supervised:
        log_path = store.log_path(sid)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_handle = log_path.open("a", encoding="utf-8")
        log_lines = PlainProgress(log_handle, interval=LOG_INTERVAL_SECONDS)

        def handler(event: TrainingEvent) -> None:  # the caller's display and the session log
            on_event(event)
            log_lines(event)
    try:
        outcome = run_session(store, path, resume=resume, on_event=handler, log_to_file=not supervised, meta=meta)
    finally:
        if log_handle is not None:
            log_handle.close()
    if outcome.status == "interrupted":
        return LaunchOutcome("foreground", "interrupted", sid, path, EXIT_INTERRUPTED, training=outcome)
    return LaunchOutcome("foreground", "completed", sid, path, 0, training=outcome)
