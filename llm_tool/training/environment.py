"""Device, precision and library versions for a run (recorded in the session, re-applied on resume)."""

from __future__ import annotations

import platform
import sys
from typing import Any


def detect_device() -> dict[str, Any]:
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return {"device": f"cuda ({', '.join(names)})", "cuda": True,
                "bf16": torch.cuda.is_bf16_supported(), "gpus": len(names)}
    return {"device": "cpu", "cuda": False, "bf16": False, "gpus": 0}


def precision_flags(requested: str, device: dict[str, Any]) -> dict[str, bool]:
    """TrainingArguments flags: bf16 (or fp16 on older GPUs) and TF32 on a GPU, fp32 on the CPU."""
    if not device["cuda"] or requested == "fp32":
        return {"bf16": False, "fp16": False, "tf32": False}
    if requested == "bf16" or (requested == "auto" and device["bf16"]):
        return {"bf16": True, "fp16": False, "tf32": True}
    return {"bf16": False, "fp16": True, "tf32": True}


def versions() -> dict[str, Any]:
    import datasets
    import torch
    import transformers

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
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
