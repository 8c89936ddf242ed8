"""The job queue: at most N running at once, first in first out, one GPU (CUDA_VISIBLE_DEVICES) per job."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from llm_tool.sweeps.state import FINAL_JOB_STATUSES, SweepJob


def detect_gpus(env: Mapping[str, str] | None = None,
                run: Callable[..., Any] = subprocess.run) -> list[str]:
    """GPU ids jobs may use: those of CUDA_VISIBLE_DEVICES when it is set, else `nvidia-smi -L`; [] on CPU."""
    env = os.environ if env is None else env
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [part.strip() for part in visible.split(",") if part.strip()]
        return [] if ids in ([], ["-1"]) else ids
    try:
        proc = run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if getattr(proc, "returncode", 1) != 0:
        return []
    ids = []
    for line in (proc.stdout or "").splitlines():
        head = line.strip().split(":", 1)[0]  # "GPU 0: NVIDIA H100 (UUID: ...)"
        if head.startswith("GPU ") and head[4:].strip().isdigit():
            ids.append(head[4:].strip())
    return ids


def default_max_parallel(gpus: Sequence[str]) -> int:
    """One job per GPU; one at a time on CPU."""
    return max(1, len(gpus))


def running(jobs: Sequence[SweepJob]) -> list[SweepJob]:
    return [job for job in jobs if job.status == "running"]


def queued(jobs: Sequence[SweepJob]) -> list[SweepJob]:
    return sorted((job for job in jobs if job.status == "queued"), key=lambda j: j.number)


def all_final(jobs: Sequence[SweepJob]) -> bool:
    return all(job.status in FINAL_JOB_STATUSES for job in jobs)


def pick_gpu(gpus: Sequence[str], busy: Sequence[str | None]) -> str | None:
    """The GPU with the fewest running jobs (the first such one); None without GPUs."""
    if not gpus:
        return None
    load = {gpu: 0 for gpu in gpus}
    for gpu in busy:
        if gpu in load:
            load[gpu] += 1
    return min(gpus, key=lambda g: (load[g], list(gpus).index(g)))


def plan_starts(jobs: Sequence[SweepJob], max_parallel: int,
                gpus: Sequence[str] = ()) -> list[tuple[SweepJob, str | None]]:
    """The queued jobs to start now (oldest first) so that at most ``max_parallel`` run, each with its GPU."""
    active = running(jobs)
    free = max(0, max_parallel - len(active))
    busy: list[str | None] = [job.gpu for job in active]
    starts = []
    for job in queued(jobs)[:free]:
        gpu = pick_gpu(gpus, busy)
        busy.append(gpu)
        starts.append((job, gpu))
    return starts


def max_concurrency(intervals: Sequence[tuple[float, float | None]]) -> int:
    """The most intervals open at the same moment (an interval ending when another starts does not overlap it);
    an open end counts as still running."""
    events: list[tuple[float, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        events.append((float("inf") if end is None else end, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    current = best = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best
