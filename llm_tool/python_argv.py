"""The command line that starts one of the tool's own modules in a new Python process, without the folder it runs in
on ``sys.path``."""

from __future__ import annotations

import sys

# Python puts the working folder first on sys.path for `-m`: a collaborator's data folder holding `llm_tool/`,
# `torch.py` or `transformers.py` would then be imported instead of the installed code. -P (3.11+) leaves it out;
# PYTHONSAFEPATH does the same for the processes those start (torchrun's ranks).
SAFE_PATH_ENV = {"PYTHONSAFEPATH": "1"}


def module_argv(module: str, *args: str, python: str | None = None) -> list[str]:
    """``python -P -m module args...`` (-P only for this interpreter when it knows the flag: another one may not)."""
    safe_path = ["-P"] if python is None and sys.version_info >= (3, 11) else []
    return [python or sys.executable, *safe_path, "-m", module, *args]
