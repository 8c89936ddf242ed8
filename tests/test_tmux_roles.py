"""`tmux list` / `tmux monitor` list trainings only: a sweep's control and scheduler panes are left out."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_main, wait_until
from tests.tmux_helpers import needs_tmux, new_session, tmux

pytestmark = needs_tmux
SWEEP = "llmtool-sweep-roles"
PLAIN = "llmtool-plain"


def _pane(socket: str, action: str, *args: str) -> str:
    """Run a tmux ``action`` that makes a pane (options, then the pane's command); the new pane's id."""
    proc = tmux(socket, action, "-P", "-F", "#{pane_id}", *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _tag(socket: str, pane: str, role: str, session_file: Path | None = None) -> None:
    assert tmux(socket, "set-option", "-p", "-t", pane, "@llm_tool_role", role).returncode == 0
    if session_file is not None:
        assert tmux(socket, "set-option", "-p", "-t", pane, "@llm_tool_session", str(session_file)).returncode == 0


def test_sweep_control_and_scheduler_panes_are_not_jobs(tmux_socket: str, isolated_home: Path,
                                                        sample_csv: Path) -> None:
    from llm_tool.dispatch.jobs import collect_jobs
    from llm_tool.dispatch.tmux_server import TmuxServer

    _, session_file = new_session(isolated_home, Path("unused"), sample_csv)
    control = _pane(tmux_socket, "new-session", "-d", "-s", SWEEP, "-x", "200", "-y", "50", "sleep", "300")
    assert tmux(tmux_socket, "set-option", "-g", "remain-on-exit", "on").returncode == 0
    scheduler = _pane(tmux_socket, "split-window", "-t", control, "sh", "-c", "exit 3")  # an ended scheduler
    job = _pane(tmux_socket, "new-window", "-t", f"={SWEEP}", "sleep", "300")
    untagged = _pane(tmux_socket, "split-window", "-t", job, "sleep", "300")  # e.g. a pane a person opened
    plain = _pane(tmux_socket, "new-session", "-d", "-s", PLAIN, "sleep", "300")  # a lone `tmux start` job
    for name in (SWEEP, PLAIN):  # what the tool sets on the sessions it creates
        assert tmux(tmux_socket, "set-option", "-t", f"={name}:", "@llm_tool", "1").returncode == 0
    _tag(tmux_socket, control, "control")
    _tag(tmux_socket, scheduler, "scheduler")
    _tag(tmux_socket, job, "job", session_file)
    _tag(tmux_socket, plain, "", session_file)  # an empty role counts as none
    wait_until(lambda: tmux(tmux_socket, "display-message", "-p", "-t", scheduler, "#{pane_dead}").stdout.strip()
               == "1", timeout=60, what="the scheduler pane's command to end")

    server = TmuxServer()
    roles = {p.pane_id: p.role for p in server.list_panes()}
    assert roles == {control: "control", scheduler: "scheduler", job: "job", untagged: None, plain: None}

    listed = {j.pane_id: j for j in collect_jobs(server)}
    assert set(listed) == {job, untagged, plain}
    assert listed[job].name == SWEEP and listed[job].session_file == str(session_file)
    assert listed[job].status == "starting" and listed[untagged].status == "unknown"  # live pane, pending session
    everything = {j.pane_id: j for j in collect_jobs(server, sweep_control=True)}
    assert set(everything) == {control, scheduler, job, untagged, plain}
    assert (everything[scheduler].status, everything[scheduler].exit_code) == ("exited", 3)

    proc = run_main("tmux", "list", "--json")  # the command itself (the monitor reads the same collect_jobs)
    assert proc.returncode == 0, proc.stderr
    assert sorted(row["pane_id"] for row in json.loads(proc.stdout)) == sorted([job, untagged, plain])
