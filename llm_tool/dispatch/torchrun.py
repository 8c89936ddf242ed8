"""Data-parallel training on this machine: one session, N torchrun processes (gloo on CPU, NCCL on GPUs).

The launcher starts `torchrun --standalone` (a free port: two runs never collide) in a process group of its own and
owns it: a stop signal is forwarded once as SIGTERM (torchrun passes it to every rank; the ranks agree on the step,
checkpoint and stop), a second one kills the group, and torchrun and its ranks die with their parent (Linux
parent-death signal) so no rank is ever orphaned. Rank 0 alone writes the session file, checkpoints' markers, the
model and the results.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from pathlib import Path
from types import FrameType

from llm_tool.errors import SessionError
from llm_tool.python_argv import SAFE_PATH_ENV, module_argv
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore

WORKER = "llm_tool.dispatch.torchrun_rank"  # what each rank runs
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)
PR_SET_PDEATHSIG = 1


def group_command(session_file: Path, nproc: int, resume: bool, python: str | None = None) -> list[str]:
    return module_argv("torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc), "--max-restarts", "0",
                       "-m", WORKER, str(session_file), *(["--resume"] if resume else []), python=python)


def check_world_size(meta: SessionMetadata, nproc: int, resume: bool) -> None:
    """A resume must use the number of processes the run started with: another one changes the batches."""
    recorded = meta.environment.world_size
    if resume and meta.execution_status.status != "pending" and recorded and recorded != nproc:
        sid = meta.session_id
        raise SessionError(f"{sid} was trained with {recorded} process(es): resume it with --nproc {recorded} "
                           f"(another number changes the batches, so the result would differ; "
                           f"`llm-tool sessions relaunch {sid} --nproc {nproc}` starts it again)")


def default_nproc(meta: SessionMetadata, resume: bool) -> int:
    """A resume: the recorded number of processes. A new run: one per GPU when there are several, else 1."""
    if resume and meta.execution_status.status != "pending" and meta.environment.world_size:
        return meta.environment.world_size
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 1


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def run_group(store: SessionStore, path: Path, nproc: int, resume: bool) -> int:
    """Run the session with ``nproc`` processes and wait; returns torchrun's exit code."""
    meta = store.read(path)
    check_world_size(meta, nproc, resume)
    log = store.log_path(meta.session_id)  # torchrun's own reports (tracebacks of failed ranks) go to the log
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as errors:
        # preexec_fn (not thread-safe in general) only calls prctl: the ranks die with this launcher
        proc = subprocess.Popen(group_command(path, nproc, resume), start_new_session=True,
                                preexec_fn=die_with_parent, stderr=errors,
                                env={**os.environ, "LLM_TOOL_HOME": str(store.home), **SAFE_PATH_ENV})
        code = _wait_forwarding_stops(proc)
    _settle(store, path, code)
    return code


def _wait_forwarding_stops(proc: subprocess.Popen[bytes]) -> int:
    """Wait for torchrun; the first stop signal is passed on as SIGTERM, a second one kills the group."""
    forwarded = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal forwarded
        if forwarded:  # a second stop: no more waiting
            os.killpg(proc.pid, signal.SIGKILL)
            return
        forwarded = True
        if signum == signal.SIGUSR1:  # Slurm's warning: to the ranks themselves (torchrun would die of it), so
            _signal_ranks(proc.pid, signal.SIGUSR1)  # the session says "preempted" and the job requeues
        else:
            proc.send_signal(signal.SIGTERM)
    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _signal_ranks(torchrun_pid: int, sig: signal.Signals) -> None:
    import psutil

    try:
        ranks = psutil.Process(torchrun_pid).children()
    except psutil.Error:
        return
    for rank in ranks:
        with contextlib.suppress(psutil.Error):
            rank.send_signal(sig)


def _settle(store: SessionStore, path: Path, code: int) -> None:
    """A group that ended while its session still reads running (rank 0 killed) is interrupted, never running."""
    from llm_tool.sessions.transitions import mark_interrupted

    def apply(meta: SessionMetadata) -> None:
        if meta.execution_status.status == "running":
            mark_interrupted(meta, f"the training processes ended without recording why (torchrun exit {code})")
    store.update(path, apply)
