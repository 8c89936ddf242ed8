"""Machine load for the dashboard: CPU and RAM (psutil), GPUs (nvidia-smi when on PATH), per-job process use."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GpuStat:
    index: int
    name: str
    utilization: float | None
    memory_used_mb: float | None
    memory_total_mb: float | None


@dataclass(frozen=True)
class SystemStats:
    cpu_percent: float | None
    ram_used: int | None
    ram_total: int | None
    gpus: list[GpuStat] = field(default_factory=list)


def _float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def gpu_stats(timeout: float = 3.0) -> list[GpuStat]:
    """One line per GPU from nvidia-smi; [] without it (torch is never imported here: it is slow to load)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    query = "index,name,utilization.gpu,memory.used,memory.total"
    try:
        out = subprocess.run([exe, f"--query-gpu={query}", "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=timeout, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 5 and parts[0].isdigit():
            gpus.append(GpuStat(int(parts[0]), parts[1], _float(parts[2]), _float(parts[3]), _float(parts[4])))
    return gpus


class Sampler:
    """CPU percentages need two readings: keep the psutil objects between refreshes."""

    def __init__(self) -> None:
        self._procs: dict[int, Any] = {}
        self._primed = False

    def system(self, *, gpus: bool = True) -> SystemStats:
        try:
            import psutil
        except ImportError:
            return SystemStats(None, None, None, gpu_stats() if gpus else [])
        cpu = psutil.cpu_percent(interval=None if self._primed else 0.2)
        self._primed = True
        memory = psutil.virtual_memory()
        return SystemStats(cpu, int(memory.used), int(memory.total), gpu_stats() if gpus else [])

    def process(self, pid: int | None) -> tuple[float | None, int | None]:
        """(CPU %, resident memory in bytes) of a job process, or (None, None) when it is not running."""
        if not pid:
            return None, None
        try:
            import psutil

            proc = self._procs.get(pid)
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
                proc.cpu_percent(None)
            return float(proc.cpu_percent(None)), int(proc.memory_info().rss)
        except Exception:  # noqa: BLE001 - gone, zombie, no permission
            with contextlib.suppress(KeyError):
                del self._procs[pid]
            return None, None
