"""Asking Slurm about jobs (`squeue`) and calling its commands without a shell; imports nothing of llm_tool's."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable

from llm_tool.errors import SlurmError

INSTALL_HINT = "sbatch is not on PATH: run on a Slurm login node (or install slurm-wlm), or choose --backend tmux"
ACTIVE = ("PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT")
JOB_ID_RE = re.compile(r"^\d{1,12}(_\d{1,9})?$")


def call(argv: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a Slurm command (an argument list, never a shell line); SlurmError when it is missing or hangs."""
    if shutil.which(argv[0]) is None:
        raise SlurmError(INSTALL_HINT if argv[0] == "sbatch" else f"{argv[0]} is not on PATH: is Slurm installed?")
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{argv[0]} did not answer within {timeout:g} s: is the Slurm controller up?") from None


def queue_states(job_ids: Iterable[str]) -> dict[str, str]:
    """{job id: PENDING/RUNNING/...} for the jobs still in the queue (array tasks one by one)."""
    ids = sorted({j for j in job_ids if j and JOB_ID_RE.match(j)})
    if not ids or shutil.which("squeue") is None:
        return {}
    done = call(["squeue", "-h", "-r", "-o", "%i %T", "-j", ",".join(ids)], timeout=30)
    if done.returncode != 0 and "invalid job id" not in done.stderr.lower():
        raise SlurmError(f"squeue failed: {done.stderr.strip()[:200]} (is the Slurm controller up?)")
    states: dict[str, str] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            states[parts[0]] = parts[1]
    return states
