"""Start a sweep (or add jobs to one), stop jobs gracefully, stop a whole sweep. Never prompts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.dispatch.environment import pane_environment, write_env_file
from llm_tool.dispatch.tmux_server import TmuxServer, attach_hint
from llm_tool.errors import SessionError, TmuxError
from llm_tool.sessions.create import create_session
from llm_tool.sessions.lifecycle import effective_status, now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps import benchmark, curve, tmux_ops
from llm_tool.sweeps.layout import WindowPlan, assign_windows, plan_windows
from llm_tool.sweeps.naming import get_dotted, group_label, job_titles, sweep_name, tmux_session_name
from llm_tool.sweeps.queue import default_max_parallel, detect_gpus
from llm_tool.sweeps.spec import FUNCTION_KEY, JobPlan, SweepSpec
from llm_tool.sweeps.state import SweepError, SweepStore, new_job, new_state
from llm_tool.sweeps.state_schema import (
    PaneRef,
    ParentSession,
    SchedulerInfo,
    SweepJob,
    SweepKind,
    SweepSource,
    SweepState,
)
from llm_tool.sweeps.summaries import finished_status

SWEEP_JOB_KEY = "sweep_job"  # training_session.sweep_job: {key, title} of the session in its sweep


@dataclass
class SweepPlan:
    """What `sweep start` does: the new jobs (titled, grouped, placed) and the layout after adding them."""

    name: str
    tmux_session: str
    kind: SweepKind
    appending: bool
    jobs: list[JobPlan]
    existing: list[SweepJob]
    max_parallel: int
    max_panes_per_window: int
    group_by: str | None
    gpus: list[str]
    windows: list[WindowPlan] = field(default_factory=list)
    first_number: int = 1

    def job_key(self, job: JobPlan) -> str:
        return f"j{self.first_number + job.number - 1:03d}"


def plan_sweep(spec: SweepSpec, *, name: str | None = None, max_parallel: int | None = None,
               sweeps: SweepStore | None = None, gpus: list[str] | None = None) -> SweepPlan:
    """Name, titles, windows and queue of ``spec``, appended after the jobs of an existing sweep of that name."""
    sweeps = sweeps or SweepStore()
    chosen = sweep_name(name or spec.name or Path(spec.source).stem)
    state = sweeps.read(chosen) if sweeps.exists(chosen) else None
    if max_parallel is not None and max_parallel < 1:
        raise SweepError("--max-parallel must be at least 1")
    if state is not None and state.kind != spec.kind:
        raise SweepError(f"{chosen} is a {state.kind}, not a {spec.kind}: choose another --name")
    gpus = detect_gpus() if gpus is None else list(gpus)
    existing = list(state.jobs) if state else []
    group_by = state.group_by if state else spec.group_by
    max_panes = (state.max_panes_per_window or spec.max_panes_per_window) if state else spec.max_panes_per_window
    parallel = max_parallel or spec.max_parallel or (state.max_parallel if state else None) \
        or default_max_parallel(gpus)
    configs = [job.raw for job in spec.jobs]
    keys: list[str] = []
    for job in spec.jobs:
        keys += [k for k in job.overrides if k not in keys]
    titles = job_titles(configs, keys, skip=[group_by] if group_by else [],
                        taken=[j.title for j in existing] + [j.title for j in spec.jobs if j.title])
    # a title or group (window) set on the job itself (the Python API's Job) wins over the derived one
    titles = [job.title or title for job, title in zip(spec.jobs, titles, strict=True)]
    groups = [job.group or group_label(group_by, c) for job, c in zip(spec.jobs, configs, strict=True)]
    windows = assign_windows(groups, existing, max_panes)
    jobs = [dataclasses.replace(job, title=t, group=g, window=w)
            for job, t, g, w in zip(spec.jobs, titles, groups, windows, strict=False)]
    first = max((j.number for j in existing), default=0) + 1
    plan = SweepPlan(name=chosen, tmux_session=tmux_session_name(chosen), kind=spec.kind, appending=state is not None,
                     jobs=jobs, existing=existing, max_parallel=int(parallel), max_panes_per_window=max_panes,
                     group_by=group_by, gpus=gpus, first_number=first)
    preview = existing + [SweepJob(key=plan.job_key(j), number=first + j.number - 1, window=j.window,
                                   group=j.group, title=j.title) for j in jobs]
    plan.windows = plan_windows(preview)
    return plan


def _record_job(store: SessionStore, path: Path, key: str, title: str) -> None:
    def apply(meta: SessionMetadata) -> None:
        meta.training_session.extra[SWEEP_JOB_KEY] = {"key": key, "title": title}
    store.update(path, apply)


CHILD_WORKFLOWS = {"benchmark": "benchmark candidate", "curve": "curve point"}  # a child session's workflow


def create_job_sessions(plan: SweepPlan, spec: SweepSpec, store: SessionStore) -> list[SweepJob]:
    """One pending session per new job (sweep id recorded), or the job's existing session; all or nothing."""
    created: list[Path] = []
    jobs = []
    try:
        for job in plan.jobs:
            key = plan.job_key(job)
            if job.session is not None:
                path = job.session
            else:
                workflow = f"sweep: user function {job.function}" if job.function else \
                    CHILD_WORKFLOWS.get(spec.kind, "sweep")
                path, _ = create_session(store, job.raw, base_dir=spec.base_dir, sweep_id=plan.name,
                                         session_name=f"{plan.name}-{job.title}"[:100], workflow=workflow)
                created.append(path)
            _record_job(store, path, key, job.title)
            model = get_dotted(job.raw, "model_config.selected_model")
            jobs.append(new_job(plan.first_number + job.number - 1, title=job.title, group=job.group,
                                window=job.window, overrides=job.overrides, session_id=store.read(path).session_id,
                                session_file=path, start_dir=spec.base_dir, model=model))
            jobs[-1].resume = job.resume
            if job.function:  # run `pkg.mod:fn` with the overrides as its config instead of a training
                jobs[-1].extra[FUNCTION_KEY] = job.function
    except BaseException:
        for path in created:
            store.delete(path)
        raise
    return jobs


def start_sweep(spec: SweepSpec, plan: SweepPlan, *, server: TmuxServer | None = None,
                sweeps: SweepStore | None = None, store: SessionStore | None = None) -> SweepState:
    """Create the sessions, add them to the sweep state, and make sure its tmux session and scheduler run."""
    sweeps = sweeps or SweepStore()
    store = store or SessionStore(sweeps.home)
    server = server or TmuxServer()
    if not plan.appending and server.has_session(plan.tmux_session):
        raise TmuxError(f"a tmux session {plan.tmux_session} exists but this home has no sweep {plan.name}: "
                        "choose another --name")
    jobs = create_job_sessions(plan, spec, store)
    fresh = new_state(plan.name, kind=plan.kind, tmux_session=plan.tmux_session, socket=server.socket,
                      home=sweeps.home, max_parallel=plan.max_parallel, max_panes_per_window=plan.max_panes_per_window,
                      group_by=plan.group_by, max_retries=spec.max_retries, gpus=plan.gpus)
    try:
        parent = _benchmark_parent(spec, plan, sweeps, store, jobs) \
            if spec.kind in ("benchmark", "curve") and spec.parent is None \
            else spec.parent
        with sweeps.locked(plan.name, create=fresh) as state:
            state.jobs.extend(jobs)
            state.max_parallel = plan.max_parallel
            state.gpus = plan.gpus
            state.socket = server.socket
            state.state = "running"
            state.sources.append(SweepSource(file=spec.source, added_at=now_iso(), jobs=len(jobs)))
            if parent:
                state.parent_session = parent
    except BaseException:
        _delete_created(store, plan, jobs)
        raise
    ensure_scheduler(plan.name, sweeps=sweeps, server=server)
    return sweeps.read(plan.name)


def _delete_created(store: SessionStore, plan: SweepPlan, jobs: list[SweepJob]) -> None:
    """Undo :func:`create_job_sessions`: delete the sessions it created (never a job's existing session)."""
    existing = {str(job.session) for job in plan.jobs if job.session is not None}
    for job in jobs:
        if job.session_file not in existing:
            store.delete(Path(job.session_file))


def _benchmark_parent(spec: SweepSpec, plan: SweepPlan, sweeps: SweepStore, store: SessionStore,
                      jobs: list[SweepJob]) -> ParentSession:
    """The parent benchmark (or curve) session (created on the first start), with the new candidates added to it."""
    ids = [j.session_id for j in jobs]
    if spec.kind == "curve":
        return _curve_parent(spec, plan, sweeps, store, ids)
    models = [str(j.model) for j in jobs]
    parent = sweeps.read(plan.name).parent_session if plan.appending else None
    if parent is not None and parent.session_file and Path(parent.session_file).is_file():
        benchmark.add_children(store, Path(parent.session_file), ids, models)
        return parent
    path, sid = benchmark.create_parent(store, spec.base, base_dir=spec.base_dir, name=plan.name, models=models)
    benchmark.add_children(store, path, ids, models)
    return ParentSession(session_id=sid, session_file=str(path))


def _curve_parent(spec: SweepSpec, plan: SweepPlan, sweeps: SweepStore, store: SessionStore,
                  ids: list[str]) -> ParentSession:
    """The parent curve session (created on the first start), with the new runs added to it."""
    parent = sweeps.read(plan.name).parent_session if plan.appending else None
    if parent is not None and parent.session_file and Path(parent.session_file).is_file():
        curve.add_children(store, Path(parent.session_file), ids)
        return parent
    path, sid = curve.create_parent(store, spec.base, base_dir=spec.base_dir, name=plan.name,
                                    per_class=bool(spec.options.get("per_class")))
    curve.add_children(store, path, ids)
    return ParentSession(session_id=sid, session_file=str(path))


def ensure_scheduler(name: str, *, sweeps: SweepStore, server: TmuxServer) -> None:
    """The sweep's tmux session with its control window and a live scheduler (created, respawned or left as is)."""
    state = sweeps.read(name)
    tmux_name = state.tmux_session
    home = sweeps.home
    environment = pane_environment()
    if not server.has_session(tmux_name):
        write_env_file(sweeps.env_path(name))
        try:
            made = tmux_ops.create_sweep_session(server, tmux_name, name=name, home=home, environment=environment)
        except BaseException:
            sweeps.env_path(name).unlink(missing_ok=True)
            raise
        with sweeps.locked(name) as fresh:
            fresh.control = PaneRef(window_id=made.control.window_id, pane_id=made.control.pane_id)
            fresh.scheduler = SchedulerInfo(pane_id=made.scheduler.pane_id)
            fresh.windows = {}  # the old windows went with the old tmux session
        return
    panes = tmux_ops.sweep_panes(server, tmux_name)
    scheduler = panes.get(state.scheduler.pane_id or "")
    if scheduler is not None and not scheduler.dead and not state.scheduler.ended:
        return  # it reads the state file on every tick: the new jobs are already in its queue
    if scheduler is not None:  # dead, or decided to exit (under the lock) before these jobs came
        write_env_file(sweeps.env_path(name))
        tmux_ops.respawn_scheduler(server, scheduler.pane_id, name=name, home=home, environment=environment)
        return
    control = state.control.window_id
    if not control or control not in {p.window_id for p in panes.values()}:
        raise TmuxError(f"the control window of {tmux_name} was closed: stop the sweep with "
                        f"`llm-tool sweep kill {name}` and start it again")
    write_env_file(sweeps.env_path(name))
    pane = tmux_ops.add_scheduler_pane(server, control, name=name, home=home, environment=environment)
    with sweeps.locked(name) as fresh:
        fresh.scheduler = SchedulerInfo(pane_id=pane.pane_id)


def requeue(name: str, *, max_parallel: int | None = None, sweeps: SweepStore | None = None,
            server: TmuxServer | None = None) -> list[SweepJob]:
    """Queue the sweep's interrupted jobs again (each resumes from its last checkpoint) and its cancelled ones."""
    sweeps = sweeps or SweepStore()
    store = SessionStore(sweeps.home)
    if max_parallel is not None and max_parallel < 1:
        raise SweepError("--max-parallel must be at least 1")
    again: list[SweepJob] = []
    with sweeps.locked(name) as state:
        if state.state == "stopping":
            raise SweepError(f"sweep {name} is being stopped: try again when `llm-tool sweep status {name}` "
                             "shows it stopped")
        for job in state.jobs:
            if job.status not in ("interrupted", "cancelled"):
                continue
            try:
                meta = store.read(Path(job.session_file))
            except SessionError:
                continue
            now = effective_status(store, meta)
            if now in ("running", "completed"):  # resumed outside the sweep meanwhile
                job.status = "completed" if now == "completed" else job.status
                continue
            last = meta.execution_status.last_checkpoint
            resume = job.status == "interrupted" and bool(last and Path(last).is_dir())
            job.status, job.resume, job.stop_requested, job.reason = "queued", resume, False, None
            job.finished_at = job.finished_ts = job.exit_code = None
            again.append(dataclasses.replace(job))
        if max_parallel:
            state.max_parallel = max_parallel
        if again:
            state.state = "running"
    if again:
        ensure_scheduler(name, sweeps=sweeps, server=server or TmuxServer())
    return again


def attach_command(state: SweepState) -> str:
    return attach_hint(state.tmux_session, state.socket)


def stop_jobs(name: str, keys: list[str], *, sweeps: SweepStore | None = None, server: TmuxServer | None = None,
              reason: str = "stopped from the control window") -> dict[str, str]:
    """Stop jobs gracefully: running ones checkpoint and end `interrupted` (resumable); queued ones are cancelled."""
    sweeps = sweeps or SweepStore()
    server = server or TmuxServer()
    outcome: dict[str, str] = {}
    to_signal: list[SweepJob] = []
    with sweeps.locked(name) as state:
        for key in keys:
            job = state.job(key)
            if job.status == "queued":
                job.status, job.reason, job.finished_at = "cancelled", reason, now_iso()
                outcome[key] = "cancelled"
            elif job.status == "running":
                job.stop_requested = True
                to_signal.append(dataclasses.replace(job))
                outcome[key] = "stopping"
            else:
                outcome[key] = job.status
    panes = tmux_ops.sweep_panes(server, state.tmux_session) if to_signal else {}
    for job in to_signal:
        pane = panes.get(job.pane_id or "")
        if not (tmux_ops.pane_is_job(pane, job.session_file) and pane and tmux_ops.signal_pane(pane)):
            outcome[job.key] = "not running"
    return outcome


def stop_window(name: str, window: str, **kwargs: Any) -> dict[str, str]:
    """Stop every job of one window group (running ones gracefully, queued ones cancelled)."""
    sweeps = kwargs.get("sweeps") or SweepStore()
    keys = [j.key for j in sweeps.read(name).jobs if j.window == window]
    return stop_jobs(name, keys, **{**kwargs, "sweeps": sweeps})


@dataclass
class KillResult:
    """What `sweep kill` did: whether the tmux session was there to remove, and every job as it ended."""

    name: str
    tmux_session: str
    removed: bool
    jobs: list[SweepJob]


def kill_sweep(name: str, *, grace: float | None = None, sweeps: SweepStore | None = None,
               server: TmuxServer | None = None) -> KillResult:
    """Stop the scheduler and every job (each checkpoints: interrupted, resumable), then remove the tmux session."""
    from llm_tool.dispatch.stop import KILL_GRACE, stop_sessions

    sweeps = sweeps or SweepStore()
    server = server or TmuxServer()
    store = SessionStore(sweeps.home)
    with sweeps.locked(name) as state:
        state.state = "stopping"
        for job in state.jobs:
            if job.status == "queued":
                job.status, job.reason, job.finished_at = "cancelled", "the sweep was stopped", now_iso()
    tmux_name = state.tmux_session
    removed = server.has_session(tmux_name)
    if removed:
        stop_sessions([tmux_name], server=server, grace=KILL_GRACE if grace is None else grace)
    with sweeps.locked(name) as state:
        for job in state.jobs:
            if job.status == "running":
                settled = finished_status(store, job, None) or ("interrupted", None, "the sweep was stopped")
                job.status, job.exit_code, job.reason = settled
                job.finished_at = now_iso()
        state.state = "stopped"
    benchmark.finalize(state, store)
    return KillResult(name=name, tmux_session=tmux_name, removed=removed, jobs=state.jobs)
