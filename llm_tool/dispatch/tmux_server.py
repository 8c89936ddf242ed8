"""The tool's own tmux server (socket `llm-tool`): fixed options, safe arguments, exact names, one-call listing."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_tool.errors import TmuxError

SOCKET_ENV = "LLM_TOOL_TMUX_SOCKET"
DEFAULT_SOCKET = "llm-tool"
SESSION_OPTION = "@llm_tool_session"  # set on each job pane (and its session): the session metadata file
OWNER_OPTION = "@llm_tool"  # set to 1 on every tmux session the tool creates: only those are listed or killed
ROLE_OPTION = "@llm_tool_role"  # set on a sweep's panes: control | scheduler | job (llm_tool.sweeps.tmux_ops)
WIDTH, HEIGHT = 240, 60
# Set on every start, before any window is created (tmux reads no config of ours: -f /dev/null).
SERVER_OPTIONS = (
    ("remain-on-exit", "on"),  # a finished pane stays, with its exit status and last output
    ("history-limit", "50000"),
    ("base-index", "0"),
    ("pane-base-index", "0"),
    ("default-size", f"{WIDTH}x{HEIGHT}"),
)
INSTALL_HINT = ("install it with `sudo apt-get install tmux` (Debian/Ubuntu) or `brew install tmux` (macOS), "
                "or train in the foreground with `llm-tool train CONFIG`")
_PANE_FIELDS = ("session_name", "session_id", "session_attached", "session_created", "window_id", "pane_id",
                "pane_pid", "pane_dead", "pane_dead_status", "pane_dead_signal")


def socket_name() -> str:
    return os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


def require_tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        raise TmuxError(f"tmux is not installed: {INSTALL_HINT}")
    return found


def escape_arg(arg: object) -> str:
    """tmux splits commands at an argument ending in `;`; a `\\;` ending is taken literally."""
    text = str(arg)
    return text[:-1] + "\\;" if text.endswith(";") else text


def escape_format(text: str) -> str:
    """For arguments tmux expands as formats (start directories): `#` is written `##`."""
    return text.replace("#", "##")


def attach_argv(name: str, socket: str | None = None, *, switch: bool = False) -> list[str]:
    """``tmux -L SOCKET attach -t =NAME`` (exact match), or ``switch-client`` from inside tmux."""
    action = "switch-client" if switch else "attach-session"
    return ["tmux", "-L", socket or socket_name(), action, "-t", f"={name}"]


def attach_hint(name: str, socket: str | None = None) -> str:
    """The attach command to print: `=NAME` quoted, since zsh expands a leading `=`."""
    return f"tmux -L {shlex.quote(socket or socket_name())} attach -t '={name}'"


@dataclass(frozen=True)
class PaneInfo:
    """One pane of the server, from a single ``list-panes -a`` call."""

    session_name: str
    session_id: str
    attached: bool
    created: int | None
    window_id: str
    pane_id: str
    pane_pid: int | None
    dead: bool
    dead_status: int | None
    dead_signal: int | None
    session_file: str | None
    role: str | None = None  # a sweep pane's role (control, scheduler, job); None elsewhere
    owned: bool = False  # its tmux session carries the tool's mark (OWNER_OPTION)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


class TmuxServer:
    """A libtmux ``Server`` on the tool's socket, started with no user config (``-f /dev/null``)."""

    def __init__(self, socket: str | None = None) -> None:
        require_tmux()
        import libtmux

        self.socket = socket or socket_name()
        self.server = libtmux.Server(socket_name=self.socket, config_file="/dev/null")

    def run(self, *args: object, check: bool = True) -> list[str]:
        """One tmux command; arguments are passed as a list (no shell) and escaped for tmux's `;` rule."""
        return self.run_sequence([list(args)], check=check)

    def run_sequence(self, commands: Sequence[Sequence[object]], *, check: bool = True) -> list[str]:
        """Several tmux commands in one client call (`a ; b`), so they apply together."""
        argv: list[str] = []
        for command in commands:
            if argv:
                argv.append(";")
            argv.extend(escape_arg(a) for a in command)
        try:
            proc = self.server.cmd(*argv)
        except Exception as exc:  # noqa: BLE001 - libtmux.exc.TmuxCommandNotFound and OS errors
            raise TmuxError(f"cannot run tmux ({type(exc).__name__}): {INSTALL_HINT}") from None
        if check and (proc.returncode or 0) != 0:
            message = " ".join(proc.stderr) or f"exit code {proc.returncode}"
            raise TmuxError(f"tmux {argv[0]} failed on socket {self.socket}: {message}")
        return list(proc.stdout)

    def option_commands(self) -> list[list[str]]:
        return [["set-option", "-g", name, value] for name, value in SERVER_OPTIONS]

    def is_alive(self) -> bool:
        return bool(self.server.is_alive())

    def has_session(self, name: str) -> bool:
        """Exact match (`=name`): `llmtool-a` never matches `llmtool-a-0101_1200`."""
        proc = self.server.cmd("has-session", "-t", f"={escape_arg(name)}")
        return proc.returncode == 0

    def session_names(self) -> list[str]:
        proc = self.server.cmd("list-sessions", "-F", "#{session_name}")
        return list(proc.stdout) if proc.returncode == 0 else []

    def owned_session_names(self) -> list[str]:
        """The sessions the tool created (marked with OWNER_OPTION at creation), whatever their names."""
        proc = self.server.cmd("list-sessions", "-F", f"#{{session_name}}\t#{{{OWNER_OPTION}}}")
        if proc.returncode != 0:
            return []
        return [name for name, _, mark in (line.partition("\t") for line in proc.stdout) if mark == "1"]

    def kill_session(self, name: str) -> bool:
        """Remove the session named exactly ``name``; False when it was already gone."""
        proc = self.server.cmd("kill-session", "-t", f"={escape_arg(name)}")
        return proc.returncode == 0

    def list_panes(self) -> list[PaneInfo]:
        """Every pane of every session in one call; [] when the server is not running."""
        fmt = "\t".join(f"#{{{f}}}" for f in (*_PANE_FIELDS, OWNER_OPTION, ROLE_OPTION, SESSION_OPTION))
        proc = self.server.cmd("list-panes", "-a", "-F", fmt)
        if proc.returncode != 0:
            return []
        panes = []
        for line in proc.stdout:
            parts = line.split("\t", len(_PANE_FIELDS) + 2)  # the session file (last) may hold any character
            if len(parts) != len(_PANE_FIELDS) + 3:
                continue
            v: dict[str, Any] = dict(zip(_PANE_FIELDS, parts, strict=False))
            panes.append(PaneInfo(
                session_name=v["session_name"], session_id=v["session_id"],
                attached=(_int(v["session_attached"]) or 0) > 0, created=_int(v["session_created"]),
                window_id=v["window_id"], pane_id=v["pane_id"], pane_pid=_int(v["pane_pid"]),
                dead=v["pane_dead"] == "1", dead_status=_int(v["pane_dead_status"]),
                dead_signal=_int(v["pane_dead_signal"]), session_file=parts[-1] or None, role=parts[-2] or None,
                owned=parts[-3] == "1",
            ))
        return panes

    def pane_dead(self, pane_id: str) -> bool:
        """True when the pane's command has exited (or the pane is gone)."""
        proc = self.server.cmd("display-message", "-p", "-t", pane_id, "#{pane_dead}")
        return proc.returncode != 0 or (proc.stdout[:1] == ["1"])

    def kill_server(self) -> None:
        self.server.cmd("kill-server")
