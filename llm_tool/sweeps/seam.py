"""The sweep seam: start, refresh, wait for, kill, resume and look at a sweep in tmux or on Slurm; data back.

The CLI (`llm-tool sweep`, `llm-tool benchmark`), the Training Studio's benchmark mode and the Python API call these
functions and render what they return; none of them picks a backend itself. The backends stay behind it:
:mod:`llm_tool.sweeps.start_stop` and :mod:`llm_tool.sweeps.tmux_ops` (tmux), :mod:`llm_tool.sweeps.slurm_ops` (one
Slurm job array). It never prompts: questions such as "add to the existing sweep?" are the caller's, asked with
:func:`plan` before :func:`start`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.state import SweepJob, SweepState, SweepStore
from llm_tool.sweeps.summaries import counts, job_views

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.dispatch.tmux_server import PaneInfo, TmuxServer
    from llm_tool.sweeps.spec import SweepSpec
    from llm_tool.sweeps.start_stop import SweepPlan

__all__ = ["PLACES", "AttachTarget", "JobLiveness", "KillOutcome", "Liveness", "Place", "ResumeOutcome",
           "StartOutcome", "SweepEntry", "SweepSnapshot", "WaitOutcome", "attach_target", "available_places", "kill",
           "liveness", "overview", "place_of", "plan", "refresh", "resume", "start", "status_document", "wait"]

Place = Literal["tmux", "slurm"]
PLACES: tuple[Place, ...] = ("tmux", "slurm")
LOST_AFTER_POLLS = 3  # a scheduler missing this many polls in a row is gone (not between two ticks or a respawn)


@dataclass(frozen=True)
class StartOutcome:
    """A started sweep (or jobs added to one): where it runs and how to reach it."""

    name: str
    place: Place
    added: int  # jobs added by this start
    appended: bool  # added to an existing sweep of that name
    state: SweepState
    attach: str | None = None  # tmux: the `tmux attach` line
    arrays: tuple[str, ...] = ()  # Slurm: the job array ids


@dataclass(frozen=True)
class SweepSnapshot:
    """A sweep now: its state file (Slurm jobs brought up to date), one row per job, and per-status counts.

    ``counts`` counts the rows' live statuses when ``rows`` were read, else the recorded job statuses.
    ``scheduler_alive``: the tmux scheduler pane is alive (False on Slurm, where the array is the scheduler; None
    when not looked at)."""

    name: str
    place: Place
    state: SweepState
    counts: dict[str, int]
    rows: list[dict[str, Any]] = field(default_factory=list)
    tmux_alive: bool = False
    scheduler_alive: bool | None = None
    attach: str | None = None

    @property
    def finished(self) -> bool:
        """Nothing is left to run (finished, or stopped)."""
        return self.state.state in ("finished", "stopped")

    def summary(self) -> dict[str, Any]:
        """The `sweep` object of `sweep status --json`."""
        state = self.state
        return {"name": state.name, "kind": state.kind, "state": state.state,
                "tmux_session": state.tmux_session, "socket": state.socket, "tmux_alive": self.tmux_alive,
                "scheduler_alive": bool(self.scheduler_alive), "max_parallel": state.max_parallel,
                "gpus": state.gpus, "jobs": len(self.rows) if self.rows else len(state.jobs),
                "counts": self.counts, "place": self.place,
                "created_at": state.created_at, "updated_at": state.updated_at,
                "parent_session": state.parent_session.session_id if state.parent_session else None}


@dataclass(frozen=True)
class SweepEntry:
    """One sweep of the home for a listing: its snapshot, or why its state file cannot be read."""

    name: str
    snapshot: SweepSnapshot | None
    error: str | None = None


@dataclass(frozen=True)
class JobLiveness:
    """Whether a job's process is there now: its tmux pane alive, or its Slurm task in the queue."""

    key: str
    title: str
    status: str  # recorded status
    alive: bool
    where: str | None  # the pane id (tmux) or the Slurm job id
    queue_state: str | None = None  # Slurm: PENDING, RUNNING, ... (None when not in the queue)


@dataclass(frozen=True)
class Liveness:
    """Which of a sweep's processes are there now."""

    name: str
    place: Place
    session_alive: bool  # tmux: the sweep's session exists; Slurm: some task is still in the queue
    scheduler_alive: bool  # tmux: the scheduler pane; Slurm: some task is still in the queue
    jobs: tuple[JobLiveness, ...]


@dataclass(frozen=True)
class WaitOutcome:
    """How waiting ended: the sweep is over, or its tmux scheduler is gone (``scheduler_lost``)."""

    snapshot: SweepSnapshot
    scheduler_lost: bool = False
    timed_out: bool = False  # ``timeout`` passed first: the sweep goes on


@dataclass(frozen=True)
class KillOutcome:
    """A stopped sweep: every job as it ended, and their per-status counts."""

    name: str
    place: Place
    tmux_session: str
    removed: bool | None  # tmux: its session was there to remove; None on Slurm
    jobs: list[SweepJob]
    counts: dict[str, int]

    @property
    def interrupted(self) -> list[SweepJob]:
        """The jobs that stopped with a checkpoint (resumable)."""
        return [j for j in self.jobs if j.status == "interrupted"]


@dataclass(frozen=True)
class ResumeOutcome:
    """The jobs queued again (``from_checkpoint`` of them resume from their last checkpoint)."""

    name: str
    place: Place
    jobs: list[SweepJob]  # queued again; empty: nothing to resume
    attach: str | None = None

    @property
    def from_checkpoint(self) -> int:
        return sum(1 for j in self.jobs if j.resume)


@dataclass(frozen=True)
class AttachTarget:
    """The tmux session to open (the caller's terminal attaches to it)."""

    session: str
    server: TmuxServer


# ----- places ----------------------------------------------------------------------------------------
def place_of(sweep: SweepState | str, *, sweeps: SweepStore | None = None) -> Place:
    """Where a sweep (its state, or its name) runs, as recorded in its state file when it started."""
    from llm_tool.sweeps.slurm_ops import is_slurm

    state = _sweeps(sweeps).read(sweep) if isinstance(sweep, str) else sweep
    return "slurm" if is_slurm(state) else "tmux"


def available_places() -> dict[Place, str | None]:
    """Each place with None when it can be used here, else why not (with the install hint)."""
    from llm_tool.dispatch.slurm import sbatch_available
    from llm_tool.dispatch.tmux_server import INSTALL_HINT, tmux_available

    return {"tmux": None if tmux_available() else f"tmux is not installed: {INSTALL_HINT}",
            "slurm": None if sbatch_available() else "Slurm is not installed here (no sbatch)"}


def _server() -> TmuxServer:
    """The tmux server (TmuxError with the install hint when tmux is missing)."""
    from llm_tool.dispatch.tmux_server import TmuxServer

    return TmuxServer()


def _server_if_any() -> TmuxServer | None:
    """The tmux server, or None when tmux is not installed (then nothing runs in it)."""
    from llm_tool.dispatch.tmux_server import tmux_available

    return _server() if tmux_available() else None


def _sweeps(sweeps: SweepStore | None) -> SweepStore:
    return sweeps or SweepStore()


# ----- start -----------------------------------------------------------------------------------------
def plan(spec: SweepSpec, *, name: str | None = None, max_parallel: int | None = None,
         sweeps: SweepStore | None = None) -> SweepPlan:
    """Name, windows and queue of ``spec`` (appended to an existing sweep of that name); starts nothing."""
    from llm_tool.sweeps.start_stop import plan_sweep

    return plan_sweep(spec, name=name, max_parallel=max_parallel, sweeps=_sweeps(sweeps))


def start(spec: SweepSpec, place: Place, *, planned: SweepPlan | None = None, name: str | None = None,
          max_parallel: int | None = None, slurm: SlurmOptions | None = None, sweeps: SweepStore | None = None,
          store: SessionStore | None = None) -> StartOutcome:
    """Create the jobs' sessions and run them at ``place``: a tmux session with its scheduler, or a job array."""
    sweeps = _sweeps(sweeps)
    planned = planned or plan(spec, name=name, max_parallel=max_parallel, sweeps=sweeps)
    if place == "slurm":
        from llm_tool.sweeps.slurm_ops import describe, start_on_slurm

        state = start_on_slurm(spec, planned, slurm, sweeps=sweeps, store=store)
        return StartOutcome(planned.name, "slurm", len(planned.jobs), planned.appending, state,
                            arrays=tuple(describe(state)["arrays"]))
    if slurm is not None:
        from llm_tool.errors import ConfigError

        raise ConfigError("Slurm settings were given for a sweep in tmux: run it on Slurm, or leave them out")
    from llm_tool.sweeps.start_stop import attach_command, start_sweep

    state = start_sweep(spec, planned, server=_server(), sweeps=sweeps, store=store)
    return StartOutcome(planned.name, "tmux", len(planned.jobs), planned.appending, state,
                        attach=attach_command(state))


# ----- look ------------------------------------------------------------------------------------------
def _sync(name: str, sweeps: SweepStore) -> SweepState:
    from llm_tool.sweeps.slurm_ops import sync

    return sync(name, sweeps=sweeps)  # a tmux sweep's state is read as it is


def _tmux_live(state: SweepState, server: TmuxServer | None, *,
               indexes: bool = True) -> tuple[dict[str, PaneInfo], dict[str, int]]:
    from llm_tool.sweeps import tmux_ops

    if server is None:
        return {}, {}
    name = state.tmux_session
    return tmux_ops.sweep_panes(server, name), tmux_ops.window_indexes(server, name) if indexes else {}


def refresh(name: str, *, rows: bool = True, sweeps: SweepStore | None = None) -> SweepSnapshot:
    """The sweep now; ``rows``: read every job's session too (progress, loss, F1), else only the state file."""
    sweeps = _sweeps(sweeps)
    state = _sync(name, sweeps)
    place = place_of(state)
    if place == "slurm":
        found = job_views(state, SessionStore(sweeps.home), None) if rows else []  # synced with the queue
        return SweepSnapshot(name, place, state, counts(found or state.jobs), found, scheduler_alive=False)
    from llm_tool.sweeps.start_stop import attach_command

    server = _server_if_any()
    panes, indexes = _tmux_live(state, server, indexes=rows)
    found = job_views(state, SessionStore(sweeps.home), panes, indexes) if rows else []
    scheduler = panes.get(state.scheduler.pane_id or "")
    tmux_alive = bool(server and server.has_session(state.tmux_session))
    return SweepSnapshot(name, place, state, counts(found or state.jobs), found, tmux_alive=tmux_alive,
                         scheduler_alive=scheduler is not None and not scheduler.dead,
                         attach=attach_command(state) if tmux_alive else None)


def status_document(name: str, *, sweeps: SweepStore | None = None) -> dict[str, Any]:
    """What `sweep status --json` prints: the sweep, one row per job, the leaderboard (configurations ranked) and
    every run (the Python API's `Sweep.status()`/`leaderboard()` read the same)."""
    from llm_tool.sweeps.leaderboard import leaderboard
    from llm_tool.sweeps.ranking import group_configs, rank_configs

    sweeps = _sweeps(sweeps)
    now = refresh(name, sweeps=sweeps)
    runs = leaderboard(now.state, SessionStore(sweeps.home))
    board = [c.to_dict() for c in rank_configs(group_configs(now.state, runs))]
    document = {"sweep": now.summary(), "jobs": now.rows, "leaderboard": board, "runs": [r.to_dict() for r in runs]}
    from llm_tool.sweeps.strategy_record import recorded_comparison

    compared = recorded_comparison(now.state, SessionStore(sweeps.home))
    if compared is not None:  # a benchmark of language strategies: its comparison, as recorded on its parent
        document["language_comparison"] = compared
    return document


def overview(sweeps: SweepStore | None = None) -> list[SweepEntry]:
    """Every sweep of the home (Slurm ones brought up to date), with recorded job counts; unreadable ones too."""
    sweeps = _sweeps(sweeps)
    server = _server_if_any()
    alive = set(server.session_names()) if server is not None else set()
    entries = []
    for name, state, error in sweeps.all():
        if state is None:
            entries.append(SweepEntry(name, None, error))
            continue
        place = place_of(state)
        state = _sync(name, sweeps) if place == "slurm" else state
        tmux_alive = place == "tmux" and state.tmux_session in alive
        entries.append(SweepEntry(name, SweepSnapshot(name, place, state, counts(state.jobs), tmux_alive=tmux_alive)))
    return entries


def liveness(name: str, *, sweeps: SweepStore | None = None) -> Liveness:
    """Which jobs have a live process now (a tmux pane, or a Slurm task in the queue), and the scheduler."""
    state = _sync(name, _sweeps(sweeps))
    if place_of(state) == "slurm":
        from llm_tool.dispatch.slurm import queue_states
        from llm_tool.sweeps.slurm_ops import JOB_KEY

        ids = {j.key: str(j.extra.get(JOB_KEY) or "") for j in state.jobs}
        queued = queue_states(ids.values())
        jobs = tuple(JobLiveness(j.key, j.title, j.status, ids[j.key] in queued, ids[j.key] or None,
                                 queued.get(ids[j.key])) for j in state.jobs)
        return Liveness(name, "slurm", bool(queued), bool(queued), jobs)
    server = _server_if_any()
    panes, _ = _tmux_live(state, server, indexes=False)
    scheduler = panes.get(state.scheduler.pane_id or "")
    jobs = tuple(JobLiveness(j.key, j.title, j.status, _pane_alive(panes, j), j.pane_id) for j in state.jobs)
    return Liveness(name, "tmux", bool(server and server.has_session(state.tmux_session)),
                    scheduler is not None and not scheduler.dead, jobs)


def _pane_alive(panes: Mapping[str, PaneInfo], job: SweepJob) -> bool:
    from llm_tool.sweeps import tmux_ops

    pane = panes.get(job.pane_id or "")
    return tmux_ops.pane_is_job(pane, job.session_file) and pane is not None and not pane.dead


def wait(name: str, *, poll: float = 2.0, on_change: Callable[[SweepSnapshot], None] | None = None,
         sweeps: SweepStore | None = None, timeout: float | None = None) -> WaitOutcome:
    """Follow the sweep until it ends (or its tmux scheduler is gone, or ``timeout`` seconds passed); ``on_change``
    sees each new tally."""
    sweeps = _sweeps(sweeps)
    deadline = None if timeout is None else time.monotonic() + timeout
    last: dict[str, int] | None = None
    missing = 0
    while True:
        snapshot = refresh(name, rows=False, sweeps=sweeps)
        if snapshot.counts != last:
            if on_change is not None:
                on_change(snapshot)
            last = snapshot.counts
        if snapshot.finished:
            return WaitOutcome(snapshot)
        missing = 0 if snapshot.place == "slurm" or snapshot.scheduler_alive else missing + 1
        if missing >= LOST_AFTER_POLLS:
            return WaitOutcome(snapshot, scheduler_lost=True)
        if deadline is not None and time.monotonic() >= deadline:
            return WaitOutcome(snapshot, timed_out=True)
        time.sleep(poll)


# ----- act -------------------------------------------------------------------------------------------
def kill(name: str, *, grace: float | None = None, sweeps: SweepStore | None = None) -> KillOutcome:
    """Stop every job gracefully (running ones checkpoint and end interrupted; queued ones are cancelled)."""
    sweeps = _sweeps(sweeps)
    state = sweeps.read(name)  # a clear error for an unknown name, before tmux is needed
    if place_of(state) == "slurm":
        from llm_tool.sweeps.slurm_ops import kill_on_slurm

        stopped = kill_on_slurm(name, grace=grace, sweeps=sweeps)
        return KillOutcome(name, "slurm", stopped.tmux_session, None, stopped.jobs, counts(stopped.jobs))
    from llm_tool.sweeps.start_stop import kill_sweep

    result = kill_sweep(name, grace=grace, sweeps=sweeps, server=_server())
    return KillOutcome(name, "tmux", result.tmux_session, result.removed, result.jobs, counts(result.jobs))


def resume(name: str, *, max_parallel: int | None = None, slurm: SlurmOptions | None = None,
           sweeps: SweepStore | None = None) -> ResumeOutcome:
    """Queue the interrupted jobs again (from their checkpoints) and the cancelled ones, where the sweep runs."""
    sweeps = _sweeps(sweeps)
    if place_of(sweeps.read(name)) == "slurm":
        from llm_tool.sweeps.slurm_ops import resume_on_slurm

        again = resume_on_slurm(name, slurm, max_parallel=max_parallel, sweeps=sweeps)
        return ResumeOutcome(name, "slurm", again)
    from llm_tool.sweeps.start_stop import attach_command, requeue

    again = requeue(name, max_parallel=max_parallel, sweeps=sweeps, server=_server())
    return ResumeOutcome(name, "tmux", again, attach=attach_command(sweeps.read(name)) if again else None)


def attach_target(name: str, *, sweeps: SweepStore | None = None) -> AttachTarget:
    """The sweep's tmux session to open; TmuxError when it has none now (a Slurm sweep never has one)."""
    from llm_tool.errors import TmuxError

    state = _sweeps(sweeps).read(name)
    if place_of(state) == "slurm":
        raise TmuxError(f"sweep {name} runs on Slurm and has no tmux session: see `llm-tool sweep status {name}` "
                        "(or `llm-tool slurm list`)")
    server = _server()
    if not server.has_session(state.tmux_session):
        raise TmuxError(f"sweep {name} has no tmux session now (state {state.state}): "
                        f"see `llm-tool sweep status {name}`")
    return AttachTarget(state.tmux_session, server)
