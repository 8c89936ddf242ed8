"""A stand-in for your own training function, for the xmux demo (`examples/xmux_demo.py`): any importable
`module:function` that takes a dict (the job's JSON config) can be a sweep job."""

from __future__ import annotations

import time
from typing import Any


def train(config: dict[str, Any]) -> dict[str, Any]:
    """Print the config, wait ``seconds`` (default 1), return a made-up score (what a real function would compute)."""
    print(f"training {config}", flush=True)
    time.sleep(float(config.get("seconds", 1)))
    score = 0.5 + 0.1 * (config.get("lr", 1e-4) < 1e-3) + 0.01 * config.get("batch_size", 8) / 8
    return {"macro_f1": round(score, 4)}
