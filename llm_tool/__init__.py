"""llm-tool: fine-tune transformer text classifiers without writing code, and never lose a run."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
# The Python API (llm_tool.api), loaded on first use: `import llm_tool` stays light (no torch, no pandas).
# `llm_tool.sessions` is the session store package: the API's `sessions()` is `llm_tool.list_sessions` here.
# (typed code imports them from llm_tool.api)
API_NAMES = ("Job", "Session", "Sweep", "launch_sweep", "list_sessions", "train")
__all__ = ["__version__", *API_NAMES]


def __getattr__(name: str) -> Any:
    """``llm_tool.train`` & co: the API loaded when first asked for (by name: the package itself never depends on
    it, every module of the API imports this package's __version__ first)."""
    if name in API_NAMES:
        return getattr(importlib.import_module("llm_tool.api"), name)
    raise AttributeError(f"module 'llm_tool' has no attribute {name!r}")
