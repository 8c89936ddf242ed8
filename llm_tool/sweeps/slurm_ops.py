"""Sweeps on Slurm: the queue goes to one job array (``%max_parallel`` at once) instead of tmux panes.

The sweep state file stays the same (leaderboard, `sweep status`, `report` read it as usual); job statuses are
brought up to date from the session files and `squeue` whenever someone looks (:func:`sync`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.config.slurm import SlurmOptions
from llm_tool.dispatch import slurm
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.schema import FINAL_STATUSES
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.spec import SweepSpec
from llm_tool.sweeps.start_stop import SweepPlan, _benchmark_parent, _delete_created, create_job_sessions
from llm_tool.sweeps.state import SweepError, SweepJob, SweepState, SweepStore, new_state
from llm_tool.sweeps.state_schema import SweepSource
from llm_tool.sweeps.summaries import session_outcome

BACKEND_KEY = "backend"  # state.extra["backend"] == "slurm"; absent for tmux sweeps
JOB_KEY = "slurm_job_id"  # job.extra: the array task id (123_4)


def is_slurm(state: SweepState) -> bool:
    return state.extra.get(BACKEND_KEY) == "slurm"


def start_on_slurm(spec: SweepSpec, plan: SweepPlan, options: SlurmOptions | None, *,
                   sweeps: SweepStore | None = None, store: SessionStore | None = None) -> SweepState:
    """Create the sessions and the sweep state, then submit them as one job array (at most max_parallel at once)."""
    sweeps = sweeps or SweepStore()
    store = store or SessionStore(sweeps.home)
    if plan.appending and not is_slurm(sweeps.read(plan.name)):
        raise SweepError(f"sweep {plan.name} runs in tmux: add to it without --backend slurm, or choose another "
                         "--name")
    jobs = create_job_sessions(plan, spec, store)
    fresh = new_state(plan.name, kind=plan.kind, tmux_session=plan.tmux_session, socket="", home=sweeps.home,
                      max_parallel=plan.max_parallel, max_panes_per_window=plan.max_panes_per_window,
                      group_by=plan.group_by, max_retries=spec.max_retries, gpus=[])
    fresh.extra[BACKEND_KEY] = "slurm"
    try:
        parent = _benchmark_parent(spec, plan, sweeps, store, jobs) \
            if spec.kind in ("benchmark", "curve") and spec.parent is None \
            else spec.parent
        submitted = slurm.submit_array(store, [Path(j.session_file) for j in jobs], options, name=plan.name,
                                       max_parallel=plan.max_parallel, start_dir=spec.base_dir,
                                       resume=[j.resume for j in jobs])
    except BaseException:
        _delete_created(store, plan, jobs)
        raise
    for job, sub in zip(jobs, submitted, strict=True):
        job.extra[JOB_KEY] = sub.job_id
    with sweeps.locked(plan.name, create=fresh) as state:
        state.jobs.extend(jobs)
        state.max_parallel = plan.max_parallel
        state.state = "running"
        state.sources.append(SweepSource(file=spec.source, added_at=now_iso(), jobs=len(jobs)))
        if parent:
            state.parent_session = parent
    return sweeps.read(plan.name)


def _job_status(store: SessionStore, job: SweepJob, queued: dict[str, str]) -> tuple[str, str | None]:
    """(status, reason) of one job from its session file and the queue."""
    in_queue = queued.get(str(job.extra.get(JOB_KEY) or ""))
    status, meta = session_outcome(store, job.session_file)
    if meta is None:
        return ("failed", "its session file cannot be read") if not in_queue else (job.status, job.reason)
    es = meta.execution_status
    if in_queue == "PENDING":
        return ("cancelled" if job.status == "cancelled" else "queued"), None  # also after a requeue
    if in_queue or status == "running":
        return "running", None
    if status in FINAL_STATUSES:
        return status, es.error_message if status == "failed" else es.interrupt_reason
    return ("cancelled" if job.status in ("queued", "cancelled") else "failed"), "its Slurm job ended before training"


def sync(name: str, *, sweeps: SweepStore | None = None) -> SweepState:
    """Bring the job statuses of a Slurm sweep up to date (sessions whose job vanished are reconciled too)."""
    sweeps = sweeps or SweepStore()
    store = SessionStore(sweeps.home)
    state = sweeps.read(name)
    if not is_slurm(state):
        return state
    queued = slurm.queue_states(str(j.extra.get(JOB_KEY) or "") for j in state.jobs)
    for job in state.jobs:
        path = Path(job.session_file)
        if path.is_file() and str(job.extra.get(JOB_KEY) or "") not in queued:
            slurm.reconcile(store, path, store.read(path), queued)
    with sweeps.locked(name) as state:
        for job in state.jobs:
            status, reason = _job_status(store, job, queued)
            if status == job.status:
                continue
            if status == "running" and not job.started_at:
                job.started_at = now_iso()
            if status in FINAL_STATUSES or status == "cancelled":
                job.finished_at, job.reason = now_iso(), reason
            job.status = status  # type: ignore[assignment]
        if state.state in ("running", "stopping") and all(j.status not in ("queued", "running") for j in state.jobs):
            state.state = "finished" if state.state == "running" else "stopped"
    return sweeps.read(name)


def kill_on_slurm(name: str, *, grace: float | None = None, sweeps: SweepStore | None = None) -> SweepState:
    """Stop every job of a Slurm sweep: running ones checkpoint (USR1) and end interrupted; pending ones are
    cancelled."""
    sweeps = sweeps or SweepStore()
    store = SessionStore(sweeps.home)
    with sweeps.locked(name) as state:
        state.state = "stopping"
        ids = [str(j.extra.get(JOB_KEY) or "") for j in state.jobs]
    queued = slurm.queue_states(ids)
    for job_id in ids:
        if job_id in queued:
            slurm.kill(store, job_id, grace=slurm.KILL_GRACE if grace is None else grace)
    with sweeps.locked(name) as state:
        for job in state.jobs:
            if job.status == "queued":
                job.status, job.reason, job.finished_at = "cancelled", "the sweep was stopped", now_iso()
    return sync(name, sweeps=sweeps)


def describe(state: SweepState) -> dict[str, Any]:
    """The array's job ids, for the start message."""
    ids = [str(j.extra.get(JOB_KEY) or "") for j in state.jobs]
    arrays = sorted({i.split("_")[0] for i in ids if i})
    return {"arrays": arrays, "jobs": ids}


def resume_on_slurm(name: str, options: SlurmOptions | None = None, *, max_parallel: int | None = None,
                    sweeps: SweepStore | None = None) -> list[SweepJob]:
    """Submit the interrupted (from their checkpoints) and cancelled jobs again, as a new job array."""
    sweeps = sweeps or SweepStore()
    store = SessionStore(sweeps.home)
    state = sync(name, sweeps=sweeps)
    again = [j for j in state.jobs if j.status in ("interrupted", "cancelled") and Path(j.session_file).is_file()]
    if not again:
        return []
    resume = []
    for job in again:
        last = store.read(Path(job.session_file)).execution_status.last_checkpoint
        resume.append(job.status == "interrupted" and bool(last and Path(last).is_dir()))
    parallel = max_parallel or state.max_parallel
    submitted = slurm.submit_array(store, [Path(j.session_file) for j in again], options,
                                   name=f"{name}-resumed-{now_iso()[:19].replace(':', '')}", max_parallel=parallel,
                                   start_dir=Path(again[0].start_dir or sweeps.home), resume=resume)
    ids = {j.key: s.job_id for j, s in zip(again, submitted, strict=True)}
    flags = {j.key: r for j, r in zip(again, resume, strict=True)}
    with sweeps.locked(name) as fresh:
        for job in fresh.jobs:
            if job.key in ids:
                job.extra[JOB_KEY] = ids[job.key]
                job.status, job.reason, job.finished_at, job.resume = "queued", None, None, flags[job.key]
        fresh.max_parallel, fresh.state = parallel, "running"
    return [j for j in sweeps.read(name).jobs if j.key in ids]
