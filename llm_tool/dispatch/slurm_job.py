"""Inside a Slurm job: resume after a requeue, record the job's state, requeue itself when preempted."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from llm_tool.dispatch.slurm import slurm_info, update_slurm
from llm_tool.dispatch.slurm_script import SLURM_ENV
from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.training import checkpoints as ckpt
from llm_tool.training.signals import PREEMPTED

Outcome = TypeVar("Outcome")  # the seam's LaunchOutcome (not imported: the seam imports this module)
REQUEUED = "preempted / time limit: checkpoint saved, requeued as Slurm job {job}"


def in_slurm_job() -> bool:
    """This process is the training of an llm-tool batch script (not any process that happens to run in Slurm)."""
    return os.environ.get(SLURM_ENV) == "1" and bool(os.environ.get("SLURM_JOB_ID"))


def restart_count() -> int:
    try:
        return max(0, int(os.environ.get("SLURM_RESTART_COUNT") or 0))
    except ValueError:
        return 0


def _job_label() -> str:
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID", "?")


def _has_checkpoint(store: SessionStore, path: Path) -> bool:
    _, checkpoints = store.output_dirs(store.read(path))
    found, _ = ckpt.last_complete(checkpoints)
    return found is not None


def run_in_job(store: SessionStore, path: Path, resume: bool, run_here: Callable[[bool], Outcome]) -> Outcome:
    """Train here as a Slurm job; after a requeue, continue from the last complete checkpoint (or start over)."""
    restarts = restart_count()
    if restarts:
        resume = _has_checkpoint(store, path)
    update_slurm(store, path, job_id=_job_label(), slurm_job_id=os.environ.get("SLURM_JOB_ID"), state="RUNNING",
                 restarts=restarts, node=socket.gethostname(), started_at=now_iso())
    try:
        outcome = run_here(resume)
    except BaseException:
        update_slurm(store, path, state="FAILED", ended_at=now_iso())
        raise
    state: Any = getattr(outcome, "state", None)
    training: Any = getattr(outcome, "training", None)
    if state != "interrupted":
        update_slurm(store, path, state="COMPLETED", ended_at=now_iso())
        return outcome
    if slurm_info(store.read(path)).get("cancel_requested"):
        update_slurm(store, path, state="CANCELLED", ended_at=now_iso())
    elif training is not None and training.reason == PREEMPTED:
        requeue(store, path)  # USR1: Slurm's warning before the time limit (or a preemption notice)
    else:  # SIGTERM is also `scancel`: no requeue against the user's will (Slurm requeues preempted jobs itself)
        update_slurm(store, path, state="INTERRUPTED", ended_at=now_iso())
    return outcome


def requeue(store: SessionStore, path: Path) -> bool:
    """Put this job back in the queue (`scontrol requeue`): the session says why and that it will come back."""
    job, label = os.environ.get("SLURM_JOB_ID", ""), _job_label()
    reason = REQUEUED.format(job=label)

    def mark(why: str, state: str) -> None:
        def apply(meta: SessionMetadata) -> None:
            transitions.note_interruption(meta, why)
        store.update(path, apply)
        update_slurm(store, path, state=state, requeued_at=now_iso())

    mark(reason, "REQUEUED")  # written before the requeue: Slurm ends this process right after it
    scontrol = shutil.which("scontrol")
    done = subprocess.run([scontrol, "requeue", job], capture_output=True, text=True, timeout=60, check=False) \
        if scontrol and job.isdigit() else None
    if done is None or done.returncode != 0:
        detail = done.stderr.strip()[:200] if done is not None else "scontrol not found"
        mark(f"preempted / time limit: checkpoint saved; requeue failed ({detail})", "INTERRUPTED")
        return False
    return True
