"""Where llm-tool keeps its files: the home (LLM_TOOL_HOME or the current directory), logs and models."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "LLM_TOOL_HOME"


def home() -> Path:
    """The folder under which ``logs/`` and ``models/`` live."""
    return Path(os.environ.get(HOME_ENV) or os.getcwd()).resolve()


def sessions_dir(root: Path | None = None) -> Path:
    return (root or home()) / "logs" / "training_sessions"


def models_dir(root: Path | None = None) -> Path:
    return (root or home()) / "models"


def sweeps_dir(root: Path | None = None) -> Path:
    return (root or home()) / "logs" / "sweeps"


def is_within(path: Path, parent: Path) -> bool:
    """True when ``path`` (resolved) lies inside ``parent`` (resolved)."""
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def relative_to_home(path: Path, root: Path | None = None) -> str | None:
    """``path`` relative to the home, or None when it lies outside it."""
    base = (root or home()).resolve()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return None
