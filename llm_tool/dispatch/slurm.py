"""The Slurm backend: submit a session (or a job array of sessions), read the queue, stop jobs, reconcile."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool.config.slurm import SECTION, SlurmOptions, options_from_section
from llm_tool.config.slurm_seal import is_sealed
from llm_tool.dispatch.slurm_script import ScriptJob, Wrapper, render_script, sbatch_argv
from llm_tool.errors import ConfigError, SessionError, SlurmError
from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import effective_status, now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.slurm_queue import ACTIVE, JOB_ID_RE, call, queue_states
from llm_tool.sessions.store import SessionStore

SLURM_KEY = "slurm"  # execution_status.extra["slurm"]: {job_id, state, submitted_at, restarts, ...}
KILL_GRACE = 120.0  # seconds between the graceful USR1 and a plain scancel
GONE_REASON = "its Slurm job {job} left the queue without finishing (cancelled, node failure or time limit)"


@dataclass(frozen=True)
class SlurmJob:
    """A submitted job: its id (``123`` or ``123_4`` for an array task), script, log and session."""

    job_id: str
    script: Path
    log_file: Path
    session_id: str
    session_path: Path


def sbatch_available() -> bool:
    return shutil.which("sbatch") is not None


def check_job_id(job_id: str) -> str:
    if not JOB_ID_RE.match(job_id):
        raise SlurmError(f"{job_id[:40]!r} is not a Slurm job id: use the number `llm-tool slurm list` shows")
    return job_id


def slurm_info(meta: SessionMetadata) -> dict[str, Any]:
    info = meta.execution_status.extra.get(SLURM_KEY)
    return dict(info) if isinstance(info, dict) else {}


def update_slurm(store: SessionStore, path: Path, **fields: Any) -> SessionMetadata:
    def apply(meta: SessionMetadata) -> None:
        info = meta.execution_status.extra.get(SLURM_KEY)
        meta.execution_status.extra[SLURM_KEY] = {**(info if isinstance(info, dict) else {}), **fields}
    return store.update(path, apply)


def session_options(meta: SessionMetadata, override: SlurmOptions | None) -> SlurmOptions:
    """The session's own ``slurm_config`` section, with the command line's values on top.

    The section's extra lines are used only when llm-tool wrote them for this user on this machine (its seal), or
    with ``--yes`` (``override.accept_unsealed``): a hand-edited or copied session cannot add sbatch options."""
    section = meta.extra.get(SECTION)
    base = options_from_section(section, f"{SECTION} of {meta.session_id}")
    accepted = override is not None and override.accept_unsealed
    if base.extra_sbatch and not accepted and not is_sealed(section):
        raise ConfigError(f"the {SECTION}.extra_sbatch lines of {meta.session_id} were not written by llm-tool for "
                          "you on this machine (edited or copied): check them, then add --yes to use them")
    return base.merged(override) if override is not None else base


def scripts_dir(store: SessionStore) -> Path:
    folder = store.dir.parent / "slurm"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sbatch(script: Path, name: str, output: Path, array: str | None = None) -> str:
    if any(ch in str(output.parent) for ch in "%\\"):  # Slurm would rewrite %j, %u... in the log's folder name
        raise SlurmError(f"the folder {str(output.parent)[:200]!r} has a % or \\ in its path, which Slurm rewrites "
                         "in log file names: use an llm-tool home (LLM_TOOL_HOME) without them")
    done = call(sbatch_argv(script, name=name, output=output, array=array))
    if done.returncode != 0:
        raise SlurmError(f"sbatch refused the job: {done.stderr.strip()[:300] or done.stdout.strip()[:300]}")
    job_id = done.stdout.strip().split(";")[0]
    return check_job_id(job_id)


def submit(store: SessionStore, path: Path, options: SlurmOptions | None = None, *, resume: bool = False,
           start_dir: Path | None = None, wrap: Wrapper | None = None) -> SlurmJob:
    """Queue one session as a batch job; its session file records the job. Never prompts."""
    from llm_tool.dispatch.tmux_launch import ensure_not_running

    path = path.resolve()
    meta = store.read(path)
    ensure_not_running(store, meta)
    ensure_not_queued(meta)
    sid = meta.session_id
    chosen = session_options(meta, options)
    log = store.log_path(sid)
    log.parent.mkdir(parents=True, exist_ok=True)
    script = scripts_dir(store) / f"{sid}.sbatch"
    script.write_text(render_script([ScriptJob(path, log, resume)], chosen, home=store.home,
                                    start_dir=(start_dir or store.home).resolve(), wrap=wrap), encoding="utf-8")
    job_id = _sbatch(script, f"llm-tool-{sid}", log)
    update_slurm(store, path, job_id=job_id, state="PENDING", submitted_at=now_iso(), restarts=0,
                 script=str(script), options=chosen.to_dict(), cancel_requested=False)
    return SlurmJob(job_id, script, log, sid, path)


def submit_array(store: SessionStore, paths: Sequence[Path], options: SlurmOptions | None, *, name: str,
                 max_parallel: int, start_dir: Path, resume: Sequence[bool] | None = None) -> list[SlurmJob]:
    """Queue sessions as one job array, at most ``max_parallel`` running at once (``--array=0-N%max``)."""
    metas = [store.read(p) for p in paths]
    for meta in metas:
        ensure_not_queued(meta)
    chosen = session_options(metas[0], options) if metas else SlurmOptions()
    flags = list(resume or [False] * len(paths))
    jobs = [ScriptJob(p.resolve(), store.log_path(m.session_id), r)
            for p, m, r in zip(paths, metas, flags, strict=True)]
    script = scripts_dir(store) / f"sweep-{name}.sbatch"
    script.write_text(render_script(jobs, chosen, home=store.home, start_dir=start_dir.resolve()), encoding="utf-8")
    array_id = _sbatch(script, f"llm-tool-{name}", scripts_dir(store) / f"sweep-{name}-%A_%a.out",
                       array=f"0-{len(jobs) - 1}%{max_parallel}")
    out = []
    for index, (job, meta) in enumerate(zip(jobs, metas, strict=True)):
        job_id = f"{array_id}_{index}"
        update_slurm(store, job.session_file, job_id=job_id, state="PENDING", submitted_at=now_iso(), restarts=0,
                     script=str(script), options=chosen.to_dict(), cancel_requested=False)
        out.append(SlurmJob(job_id, script, job.log_file, meta.session_id, job.session_file))
    return out


def ensure_not_queued(meta: SessionMetadata) -> None:
    info = slurm_info(meta)
    job = str(info.get("job_id") or "")
    if job and info.get("state") in ACTIVE and queue_states([job]).get(job) in ACTIVE:
        raise SessionError(f"{meta.session_id} is already queued as Slurm job {job}: see `llm-tool slurm list`")


def reconcile(store: SessionStore, path: Path, meta: SessionMetadata, queued: dict[str, str]) -> SessionMetadata:
    """A session whose job left the queue without saying how it ended is written `interrupted`, never `running`."""
    info = slurm_info(meta)
    job = str(info.get("job_id") or "")
    if not job or job in queued or info.get("state") not in ACTIVE:
        return meta
    status = meta.execution_status.status
    ended = effective_status(store, meta) != "running" or status != "running"
    if not ended:
        return meta

    def apply(m: SessionMetadata) -> None:
        es = m.execution_status
        if es.status == "running":
            transitions.mark_interrupted(m, GONE_REASON.format(job=job))
        current = es.extra.get(SLURM_KEY)
        if isinstance(current, dict):
            current["state"] = "CANCELLED" if current.get("cancel_requested") else "GONE"
    return store.update(path, apply)


def find_job(store: SessionStore, ref: str) -> tuple[Path, SessionMetadata]:
    """The session of a Slurm job id (``123``, ``123_4``) or a session reference."""
    if JOB_ID_RE.match(ref):
        for path in store.files_newest_first():
            try:
                meta = store.read(path)
            except SessionError:
                continue
            if str(slurm_info(meta).get("job_id")) == ref:
                return path, meta
    path = store.resolve(ref)
    meta = store.read(path)
    if not slurm_info(meta).get("job_id"):
        raise SlurmError(f"{meta.session_id} was never submitted to Slurm: see `llm-tool slurm list`")
    return path, meta


def kill(store: SessionStore, ref: str, *, grace: float = KILL_GRACE, poll: float = 1.0) -> tuple[str, str]:
    """Stop a job gracefully (USR1: checkpoint, no requeue), then `scancel` after ``grace`` s. Returns (id, how)."""
    path, meta = find_job(store, ref)
    job = check_job_id(str(slurm_info(meta)["job_id"]))
    update_slurm(store, path, cancel_requested=True)
    state = queue_states([job]).get(job)
    how = "not in the queue"
    if state == "RUNNING":
        call(["scancel", "--signal=USR1", "--batch", job])
        how = "stopped gracefully (checkpoint saved)"
        _wait_gone(job, grace, poll)
    if queue_states([job]).get(job):
        call(["scancel", job])
        how = "cancelled" if state != "RUNNING" else "cancelled after the grace period"
        _wait_gone(job, 60.0, poll)
    reconcile(store, path, store.read(path), {})
    return job, how


def _wait_gone(job: str, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and queue_states([job]).get(job):
        time.sleep(poll)
