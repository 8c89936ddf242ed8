"""tmux test helpers: private servers (reaped afterwards), tmux queries, job lookups and test sessions."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import read_json, sample_rows, wait_until, write_config, write_csv

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def socket_file(socket: str) -> Path:
    return Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}" / socket


def private_socket() -> str:
    """A tmux socket name of its own (never the default server, never another test's)."""
    return f"llmtool-test-{uuid.uuid4().hex[:10]}"


def reap_tmux_server(socket: str) -> None:
    """SIGKILL every process tree started in the server's panes, stop the server, remove its socket file."""
    if shutil.which("tmux") is None or not socket_file(socket).exists():
        return  # never started
    proc = subprocess.run(["tmux", "-L", socket, "list-panes", "-a", "-F", "#{pane_pid}"], capture_output=True,
                          text=True, check=False)
    import psutil

    for line in proc.stdout.split():
        with contextlib.suppress(Exception):
            root = psutil.Process(int(line))
            for child in [*root.children(recursive=True), root]:
                with contextlib.suppress(Exception):
                    child.send_signal(signal.SIGKILL)
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
    socket_file(socket).unlink(missing_ok=True)  # tmux leaves the socket file behind


def tmux(socket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False)


def session_names(socket: str) -> list[str]:
    return tmux(socket, "list-sessions", "-F", "#{session_name}").stdout.split()


def jobs_by_name() -> dict[str, Any]:
    """`tmux list` data, in process (same code as `llm-tool tmux list --json`)."""
    from llm_tool.dispatch.jobs import collect_jobs

    return {job.name: job for job in collect_jobs()}


def job_when(name: str, predicate: Callable[[Any], bool], *, timeout: float = 120.0) -> Any:
    def check() -> Any:
        job = jobs_by_name().get(name)
        return job if job is not None and predicate(job) else None
    return wait_until(check, timeout=timeout, what=f"job {name}", interval=0.25)


def finished(job: Any) -> bool:
    """The supervisor has ended (its pane is dead) and the session shows a final status."""
    return not job.supervisor_alive and job.status in ("completed", "failed", "interrupted")


def metadata(job: Any) -> dict[str, Any]:
    return read_json(Path(job.session_file))


def make_config(folder: Path, name: str, tiny_model: Path, sample_csv: Path, *, rows: int = 40,
                relative_data: bool = True, **model_config: Any) -> Path:
    """A config in ``folder`` (created) training ``tiny_model`` on ``rows`` sample rows stored next to it."""
    folder.mkdir(parents=True, exist_ok=True)
    data = write_csv(folder / "data.csv", sample_rows(sample_csv, rows))
    model_config.setdefault("num_threads", 1)
    return write_config(folder / name, Path("data.csv") if relative_data else data, tiny_model, **model_config)


def new_session(home: Path, tiny_model: Path, sample_csv: Path) -> tuple[Any, Path]:
    """A pending training session (for jobs that supervise another command)."""
    from llm_tool.config import load_config_file
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session

    config = make_config(home / "cfg", "job.json", tiny_model, sample_csv, rows=20)
    store = SessionStore(home)
    path, _ = create_session(store, load_config_file(config), base_dir=config.parent)
    return store, path


def env_without_tmux() -> dict[str, str]:
    """An environment whose PATH has python but no tmux."""
    bare = Path(os.environ.get("TMPDIR", "/tmp")) / f"no-tmux-{uuid.uuid4().hex[:8]}"
    bare.mkdir()
    return {"PATH": str(bare)}
