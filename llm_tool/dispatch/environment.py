"""The job's environment: the starter's own (not the tmux server's), handed over in a private file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

SUPERVISED_ENV = "LLM_TOOL_SUPERVISED"  # read by `llm-tool train`: output is teed, so it writes no log itself
# Passed on the tmux command line (`-e`) so the supervisor itself starts with the right Python and paths.
PANE_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV", "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUTF8", "LD_LIBRARY_PATH", "OMP_NUM_THREADS",
    "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM",
})
PANE_PREFIXES = ("LC_", "HF_", "TRANSFORMERS_", "CUDA_", "LLM_TOOL_", "TORCH_", "PYTORCH_", "NVIDIA_", "WANDB_")
SECRET_RE = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|_KEY$", re.IGNORECASE)
# Describe the terminal the job runs in: taken from the pane, never from the starter.
PANE_OWN = ("TMUX", "TMUX_PANE", "TERM", "COLUMNS", "LINES")


def is_secret(name: str) -> bool:
    return bool(SECRET_RE.search(name))


def pane_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables given to tmux with `-e`: the interpreter and library settings, never secrets."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items()
            if (k in PANE_NAMES or k.startswith(PANE_PREFIXES)) and not is_secret(k) and "\n" not in v}


def starter_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Everything the job should see, as the starting command sees it (tokens included, terminal excluded)."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if k not in PANE_OWN and k != SUPERVISED_ENV}


def write_env_file(path: Path, env: Mapping[str, str] | None = None) -> Path:
    """A private (0600) file the supervisor reads once and deletes: secrets never appear in `ps` or tmux."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(starter_environment(env), handle)
    tmp.replace(path)
    return path


def read_env_file(path: Path) -> dict[str, str] | None:
    """The saved environment (the file is removed), or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items()}


def child_environment(saved: Mapping[str, str] | None, *, home: Path | None = None) -> dict[str, str]:
    """The job's environment: the saved one (else ours), our pane's terminal, and supervision markers."""
    env = dict(saved) if saved is not None else starter_environment()
    for key in PANE_OWN:
        if key in os.environ:
            env[key] = os.environ[key]
    env[SUPERVISED_ENV] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # output reaches the log as it happens
    if home is not None:
        env["LLM_TOOL_HOME"] = str(home)  # the job runs in the config's folder; its store must stay the same
    return env
