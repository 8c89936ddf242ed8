"""Device, precision, attention kernels and library versions of a run (recorded; a resume re-applies them)."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

# Measured by benchmarks/bench_training.py (fp32 vs bf16 autocast, same data, steps and seed): bf16 is the CPU
# default only where it was at least 1.3x faster and test macro-F1 stayed within 0.005 of fp32.
CPU_BF16_BY_DEFAULT = True


def cpu_supports_bf16() -> bool:
    """The CPU does bfloat16 matrix maths natively (avx512_bf16 or AMX), read from /proc/cpuinfo (Linux)."""
    try:
        with Path("/proc/cpuinfo").open(encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[-1].split()
                    return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        pass
    return False


@dataclass(frozen=True)
class Device:
    """The hardware a run or a prediction uses. ``name`` is what the session records as ``environment.device``."""

    name: str  # "cpu" or "cuda (<GPU name>, ...)"
    cuda: bool
    bf16: bool  # bfloat16 maths done natively
    gpus: int = 0


@dataclass(frozen=True)
class RunDevice(Device):
    """A device with the numerics a run chose on it (recorded; a resume keeps them)."""

    precision: str = "fp32"  # fp32, bf16 or fp16
    attention: str | None = None  # attention kernels asked of the library (None: its choice)


def detect_device() -> Device:
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return Device(f"cuda ({', '.join(names)})", cuda=True, bf16=torch.cuda.is_bf16_supported(), gpus=len(names))
    return Device("cpu", cuda=False, bf16=cpu_supports_bf16())


def resolve_precision(requested: str, device: Device) -> str:
    """The precision a run uses: fp32, bf16 or fp16 (fp16 only on a GPU; a CPU asked for fp16 runs fp32)."""
    if requested == "fp32":
        return "fp32"
    if device.cuda:
        return "bf16" if requested == "bf16" or (requested == "auto" and device.bf16) else "fp16"
    if requested == "bf16" or (requested == "auto" and device.bf16 and CPU_BF16_BY_DEFAULT):
        return "bf16"
    return "fp32"


class PrecisionFlags(TypedDict):
    """The TrainingArguments switches for a run's precision."""

    bf16: bool
    fp16: bool
    tf32: bool


def precision_flags(precision: str, requested: str, device: Device) -> PrecisionFlags:
    """TrainingArguments flags for a resolved precision: bf16/fp16 autocast, and TF32 on a GPU unless fp32 was
    asked for."""
    tf32 = device.cuda and requested != "fp32"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16", "tf32": tf32}


def attention_kernels(requested: str, precision: str, device: Device) -> str | None:
    """eager under bf16 on a CPU (faster there: see benchmarks/bench_training.py), else the library's choice
    (None: sdpa where the model has it)."""
    if requested != "auto":
        return requested
    return "eager" if precision == "bf16" and not device.cuda else None


def with_numerics(device: Device, precision: str, attention: str | None) -> RunDevice:
    return RunDevice(device.name, device.cuda, device.bf16, device.gpus, precision=precision, attention=attention)


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {  # read from the installed packages' metadata: importing them here would cost ~1 s before step one
        "python": sys.version.split()[0],
        "torch": version("torch"),
        "transformers": version("transformers"),
        "datasets": version("datasets"),
        "platform": platform.platform(),
    }


def quiet_libraries() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module="pyarrow")
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:
        pass
