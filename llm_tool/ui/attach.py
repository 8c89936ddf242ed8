"""Open a tmux session of the tool in this terminal (switching or nesting when already inside tmux)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from llm_tool.errors import TmuxError
from llm_tool.ui.console import info
from llm_tool.ui.interaction import has_terminal

if TYPE_CHECKING:
    from llm_tool.dispatch.tmux_server import TmuxServer


def attach_here(server: TmuxServer, name: str) -> int:
    """Replace this process with ``tmux attach`` (or ``switch-client`` inside the same server); needs a terminal."""
    from llm_tool.dispatch.tmux_server import attach_argv, attach_hint

    inside = os.environ.get("TMUX")
    if inside:
        ours = server.run("display-message", "-p", "#{socket_path}", check=False)
        if ours and inside.split(",")[0] == ours[0]:
            os.execvp("tmux", attach_argv(name, server.socket, switch=True))
        info(f"inside another tmux: opening {name} nested (detach the inner one with Ctrl-b Ctrl-b d)")
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        os.execvpe("tmux", attach_argv(name, server.socket), env)
    if not has_terminal():
        raise TmuxError(f"attaching needs a terminal: run `{attach_hint(name, server.socket)}` in one")
    os.execvp("tmux", attach_argv(name, server.socket))
    return 0  # not reached: exec replaces this process
