"""The sweep's tmux session: control window 0 with the scheduler beside it, job panes, titles, jumps and stops.

Built on llm_tool.dispatch (server, pane creation, supervisor); this adds only what sweeps need on top of it:
pane titles and roles, respawning the scheduler pane, and stopping one job pane by its id."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from llm_tool.dispatch.panes import JobPane, new_job_session, new_job_window, split_job_pane
from llm_tool.dispatch.tmux_server import (  # role: control|scheduler|job
    ROLE_OPTION,
    PaneInfo,
    TmuxServer,
    escape_format,
)
from llm_tool.errors import TmuxError
from llm_tool.python_argv import module_argv
from llm_tool.sweeps.layout import CONTROL_WINDOW

JOB_OPTION = "@llm_tool_job"  # the job key of a job pane
SCHEDULER_LINES = 10
BORDER_FORMAT = " #{pane_title} "


@dataclass(frozen=True)
class SweepPanes:
    control: JobPane
    scheduler: JobPane


def control_argv(name: str, home: Path, socket: str) -> list[str]:
    return module_argv("llm_tool.sweeps_ui.control", "--home", str(home), "--socket", socket, name)


def scheduler_argv(name: str, home: Path, socket: str) -> list[str]:
    return module_argv("llm_tool.sweeps.scheduler", "--home", str(home), "--socket", socket, name)


def decorate_pane(server: TmuxServer, pane_id: str, *, title: str, role: str, job_key: str | None = None) -> None:
    """Title (shown in the pane border) and role tags, in one tmux call."""
    commands: list[list[str]] = [["select-pane", "-t", pane_id, "-T", title],
                                 ["set-option", "-p", "-t", pane_id, ROLE_OPTION, role]]
    if job_key:
        commands.append(["set-option", "-p", "-t", pane_id, JOB_OPTION, job_key])
    server.run_sequence(commands)


def decorate_window(server: TmuxServer, window_id: str, name: str) -> None:
    """Show pane titles in the borders; keep the name we gave (programs may not rename it)."""
    server.run_sequence([
        ["rename-window", "-t", window_id, name],
        ["set-option", "-w", "-t", window_id, "automatic-rename", "off"],
        ["set-option", "-w", "-t", window_id, "allow-rename", "off"],
        ["set-option", "-w", "-t", window_id, "pane-border-status", "top"],
        ["set-option", "-w", "-t", window_id, "pane-border-format", BORDER_FORMAT],
    ])


def create_sweep_session(server: TmuxServer, tmux_name: str, *, name: str, home: Path,
                         environment: Mapping[str, str]) -> SweepPanes:
    """The sweep's tmux session: window 0 `control` running the control view, the scheduler in a pane below."""
    if server.has_session(tmux_name):
        raise TmuxError(f"a tmux session named {tmux_name} already exists on socket {server.socket}")
    control = new_job_session(server, tmux_name, control_argv(name, home, server.socket), start_dir=home,
                              environment=environment)
    try:
        scheduler = split_job_pane(server, control.window_id, scheduler_argv(name, home, server.socket),
                                   start_dir=home, environment=environment)
        server.run("resize-pane", "-t", scheduler.pane_id, "-y", str(SCHEDULER_LINES), check=False)
        decorate_window(server, control.window_id, CONTROL_WINDOW)
        decorate_pane(server, control.pane_id, title="control", role="control")
        decorate_pane(server, scheduler.pane_id, title="scheduler", role="scheduler")
        server.run("select-pane", "-t", control.pane_id, check=False)
    except BaseException:
        server.kill_session(tmux_name)
        raise
    return SweepPanes(control, scheduler)


def respawn_scheduler(server: TmuxServer, pane_id: str, *, name: str, home: Path,
                      environment: Mapping[str, str]) -> None:
    """Run the scheduler again in its (dead) pane."""
    env = [f"-e{k}={v}" for k, v in environment.items()]
    server.run("respawn-pane", "-k", "-t", pane_id, "-c", escape_format(str(home)), *env, "--",
               *scheduler_argv(name, home, server.socket))


def add_scheduler_pane(server: TmuxServer, window_id: str, *, name: str, home: Path,
                       environment: Mapping[str, str]) -> JobPane:
    """A new scheduler pane in the control window (when the old one was closed)."""
    pane = split_job_pane(server, window_id, scheduler_argv(name, home, server.socket), start_dir=home,
                          environment=environment)
    server.run("resize-pane", "-t", pane.pane_id, "-y", str(SCHEDULER_LINES), check=False)
    decorate_pane(server, pane.pane_id, title="scheduler", role="scheduler")
    return pane


def start_job_pane(server: TmuxServer, tmux_name: str, window_id: str | None, window_name: str, argv: list[str], *,
                   start_dir: Path, environment: Mapping[str, str], session_file: Path, title: str,
                   job_key: str) -> tuple[JobPane, bool]:
    """A pane running ``argv`` in the job's window (created when ``window_id`` is None); returns (pane, new window)."""
    if window_id is None:
        pane = new_job_window(server, tmux_name, argv, start_dir=start_dir, environment=environment,
                              session_file=session_file, window_name=window_name)
        decorate_window(server, pane.window_id, window_name)
        created = True
    else:
        pane = split_job_pane(server, window_id, argv, start_dir=start_dir, environment=environment,
                              session_file=session_file)
        created = False
    decorate_pane(server, pane.pane_id, title=title, role="job", job_key=job_key)
    return pane, created


def respawn_job_pane(server: TmuxServer, pane_id: str, argv: list[str], *, start_dir: Path,
                     environment: Mapping[str, str], title: str, job_key: str) -> None:
    """Run a job again in its own (dead) pane, keeping the window's layout (a resumed job)."""
    env = [f"-e{k}={v}" for k, v in environment.items()]
    server.run("respawn-pane", "-k", "-t", pane_id, "-c", escape_format(str(start_dir)), *env, "--", *argv)
    decorate_pane(server, pane_id, title=title, role="job", job_key=job_key)


def sweep_panes(server: TmuxServer, tmux_name: str) -> dict[str, PaneInfo]:
    """The panes of the sweep's session by pane id (one `list-panes -a` call)."""
    return {p.pane_id: p for p in server.list_panes() if p.session_name == tmux_name}


def pane_is_job(pane: PaneInfo | None, session_file: str | None) -> bool:
    """The pane still belongs to the job (ids are recycled after a server restart: check its session file too)."""
    return pane is not None and bool(session_file) and pane.session_file == session_file


def signal_pane(pane: PaneInfo, sig: int = signal.SIGTERM) -> bool:
    """Ask a live job pane to stop: its own process is the supervisor, which checkpoints the training and
    escalates to SIGKILL after its grace period (llm_tool.dispatch.supervisor)."""
    if pane.dead or not pane.pane_pid:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pane.pane_pid, sig)
        return True
    return False


def select_pane(server: TmuxServer, window_id: str, pane_id: str) -> None:
    server.run_sequence([["select-window", "-t", window_id], ["select-pane", "-t", pane_id]])


def select_window_index(server: TmuxServer, tmux_name: str, index: int) -> bool:
    """Show window ``index`` of the sweep; False when there is no such window."""
    if index not in window_indexes(server, tmux_name).values():
        return False
    server.run("select-window", "-t", f"={tmux_name}:{index}", check=False)
    return True


def window_indexes(server: TmuxServer, tmux_name: str) -> dict[str, int]:
    """window_id -> index for the sweep session."""
    lines = server.run("list-windows", "-t", f"={tmux_name}", "-F", "#{window_id}\t#{window_index}", check=False)
    out = {}
    for line in lines:
        wid, _, index = line.partition("\t")
        if index.isdigit():
            out[wid] = int(index)
    return out


def detach_clients(server: TmuxServer, tmux_name: str) -> None:
    server.run("detach-client", "-s", f"={tmux_name}", check=False)
