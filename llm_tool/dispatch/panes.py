"""Create job panes: a command run as the pane's own process (argv, no shell), tagged with its session file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_tool.dispatch.tmux_server import HEIGHT, OWNER_OPTION, SESSION_OPTION, WIDTH, TmuxServer, escape_format
from llm_tool.errors import TmuxError

_CREATED_FORMAT = "#{session_name}\t#{session_id}\t#{window_id}\t#{pane_id}\t#{pane_pid}"


@dataclass(frozen=True)
class JobPane:
    """Where a job runs: ids are stable for the pane's life (never target panes by name or position)."""

    session_name: str
    session_id: str
    window_id: str
    pane_id: str
    pane_pid: int | None


def _env_args(environment: Mapping[str, str]) -> list[str]:
    return [f"-e{key}={value}" for key, value in environment.items()]


def _parse_created(lines: list[str], what: str) -> JobPane:
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 5 and parts[3].startswith("%"):
            return JobPane(parts[0], parts[1], parts[2], parts[3], int(parts[4]) if parts[4].isdigit() else None)
    raise TmuxError(f"tmux created the {what} but did not report its pane: {' '.join(lines)[:200]}")


def new_job_session(server: TmuxServer, name: str, argv: Sequence[str], *, start_dir: Path,
                    environment: Mapping[str, str], session_file: Path | None = None) -> JobPane:
    """A detached tmux session ``name`` whose only pane runs ``argv``; server options are applied first."""
    if server.has_session(name):
        raise TmuxError(f"a tmux session named {name} already exists: choose another --name")
    create = ["new-session", "-d", "-P", "-F", _CREATED_FORMAT, "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
              "-c", escape_format(str(start_dir)), *_env_args(environment), "--", *argv]
    # marked in the same client call: list, monitor and kill only ever consider sessions carrying the mark
    mark = ["set-option", "-t", f"={name}:", OWNER_OPTION, "1"]
    commands: list[list[str]] = [*server.option_commands(), create, mark]
    if session_file is not None:  # same client call: the pane is never listed without its session file
        commands.append(["set-option", "-p", "-t", f"={name}:", SESSION_OPTION, str(session_file)])
    return _parse_created(server.run_sequence(commands), f"session {name}")


def new_job_window(server: TmuxServer, session_name: str, argv: Sequence[str], *, start_dir: Path,
                   environment: Mapping[str, str], session_file: Path | None = None,
                   window_name: str | None = None) -> JobPane:
    """A new window in an existing tool session, running ``argv`` (for sweeps: one window per group)."""
    create = ["new-window", "-d", "-P", "-F", _CREATED_FORMAT, "-t", f"={session_name}:",
              *(["-n", window_name] if window_name else []), "-c", escape_format(str(start_dir)),
              *_env_args(environment), "--", *argv]
    pane = _parse_created(server.run_sequence([*server.option_commands(), create]), "window")
    _tag(server, pane, session_file)
    return pane


def split_job_pane(server: TmuxServer, window_id: str, argv: Sequence[str], *, start_dir: Path,
                   environment: Mapping[str, str], session_file: Path | None = None) -> JobPane:
    """One more pane in ``window_id`` running ``argv``, then a tiled layout (sweeps: several jobs per window)."""
    create = ["split-window", "-d", "-P", "-F", _CREATED_FORMAT, "-t", window_id, "-c", escape_format(str(start_dir)),
              *_env_args(environment), "--", *argv]
    pane = _parse_created(server.run_sequence([*server.option_commands(), create]), "pane")
    server.run("select-layout", "-t", window_id, "tiled", check=False)
    _tag(server, pane, session_file)
    return pane


def _tag(server: TmuxServer, pane: JobPane, session_file: Path | None) -> None:
    if session_file is not None:
        server.run("set-option", "-p", "-t", pane.pane_id, SESSION_OPTION, str(session_file))
