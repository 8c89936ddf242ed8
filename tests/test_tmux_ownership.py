"""Only tmux sessions the tool created (marked `@llm_tool 1` at creation) are listed, resolved, attached or killed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.helpers import run_main
from tests.tmux_helpers import job_when, needs_tmux, new_session, session_names, tmux

pytestmark = needs_tmux
HANDMADE = ("llmtool-foo", "llmtool-bert-1122_2019", "llmtool")


def _handmade(socket: str, session_file: Path) -> None:
    """Sessions a person made on the tool's socket with tool-like names, one even tagged with a session file."""
    for name in HANDMADE:
        assert tmux(socket, "new-session", "-d", "-s", name, "sleep", "300").returncode == 0
    tagged = tmux(socket, "set-option", "-p", "-t", "=llmtool-foo:", "@llm_tool_session", str(session_file))
    assert tagged.returncode == 0, tagged.stderr


def test_handmade_llmtool_sessions_are_never_listed_nor_killed(tmux_socket: str, isolated_home: Path,
                                                               sample_csv: Path) -> None:
    from llm_tool.dispatch.tmux_launch import launch_in_tmux

    store, session = new_session(isolated_home, Path("unused"), sample_csv)
    ours = launch_in_tmux(store, session, job_command=[sys.executable, "-c", "import time; time.sleep(300)"])
    _handmade(tmux_socket, session)
    assert tmux(tmux_socket, "show-options", "-v", "-t", f"={ours.name}:", "@llm_tool").stdout.strip() == "1"
    job_when(ours.name, lambda j: j.status == "running", timeout=60)

    listed = json.loads(run_main("tmux", "list", "--json").stdout)
    assert [row["name"] for row in listed] == [ours.name]
    monitor = run_main("tmux", "monitor", "--once")
    assert monitor.returncode == 0 and "llmtool-foo" not in monitor.stdout, monitor.stderr
    for name in HANDMADE:
        refused = run_main("tmux", "kill", name, "--grace", "5")
        assert refused.returncode == 2 and "not created by llm-tool" in refused.stderr, (name, refused.stderr)
        attach = run_main("tmux", "attach", name)
        assert attach.returncode == 2, attach.stderr

    killed = run_main("tmux", "kill", "--all", "--grace", "20")
    assert killed.returncode == 0, killed.stderr
    assert ours.name in killed.stdout and "llmtool-foo" not in killed.stdout
    assert sorted(session_names(tmux_socket)) == sorted(HANDMADE)
    assert run_main("tmux", "kill", "--all").stdout.count("nothing to stop") == 1
    assert sorted(session_names(tmux_socket)) == sorted(HANDMADE)
