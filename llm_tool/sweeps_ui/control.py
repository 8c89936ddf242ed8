"""The control window (`python -m llm_tool.sweeps_ui.control NAME`): a live list of the sweep's jobs, driven by keys.

Runs in window 0 of the sweep's tmux session. Keys are decided by llm_tool.sweeps_ui.keys (pure); this module
draws with curses, refreshes every second, and carries out actions on pane and window ids."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from llm_tool import paths
from llm_tool.dispatch.tmux_server import TmuxServer
from llm_tool.errors import LlmToolError
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps import start_stop, tmux_ops
from llm_tool.sweeps.state import SweepState, SweepStore
from llm_tool.sweeps.summaries import SessionCache, counts, job_views, progress_text, tally_text
from llm_tool.sweeps_ui.keys import HELP, Action, ListState, handle_key
from llm_tool.ui.interaction import has_terminal

MODULE = "llm_tool.sweeps_ui.control"
COLUMNS = (("#", 3), ("job", 22), ("window", 14), ("status", 11), ("progress", 16), ("loss", 8), ("best F1", 8),
           ("pane", 6), ("gpu", 4), ("session", 24))


def _num(value: Any, spec: str = ".4f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def row_cells(row: Mapping[str, Any]) -> list[str]:
    window = row.get("window") or "-"
    if row.get("window_index") is not None:
        window = f"{row['window_index']}:{window}"
    return [str(row.get("number") or "-"), str(row.get("title") or "-"), window, str(row.get("status")),
            progress_text(row), _num(row.get("loss")), _num(row.get("best_f1")), str(row.get("pane_id") or "-"),
            str(row.get("gpu") if row.get("gpu") is not None else "-"), str(row.get("session_id") or "-")]


def format_line(cells: Sequence[str]) -> str:
    return " ".join(cell[:width].ljust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=False))


def render_lines(name: str, state: SweepState | None, list_state: ListState) -> list[str]:
    """The whole screen as text lines (the selected job marked with `>`)."""
    if state is None:
        return [f"sweep {name}: {list_state.message or 'loading...'}"]
    tally = tally_text(counts(list_state.rows)) or "no jobs"
    lines = [f"sweep {name} [{state.state}]  {len(list_state.rows)} jobs: {tally}  "
             f"(at most {state.max_parallel} at once)", "",
             "  " + format_line([c for c, _ in COLUMNS])]
    for row in list_state.rows:
        mark = "> " if row.get("key") == list_state.selected else "  "
        lines.append(mark + format_line(row_cells(row)))
    lines += ["", HELP]
    if list_state.message:
        lines.append(list_state.message)
    return lines


class ControlApp:
    def __init__(self, name: str, *, home: Path, socket: str | None = None) -> None:
        self.name = name
        self.sweeps = SweepStore(home)
        self.store = SessionStore(home)
        self.server = TmuxServer(socket)
        self.list = ListState()
        self.state: SweepState | None = None
        self.sessions = SessionCache()  # refreshed every second: parse only the session files that changed

    def refresh(self) -> None:
        try:
            self._refresh()
        except Exception as exc:  # noqa: BLE001 - the view stays up; the next refresh tries again
            self.list.message = f"cannot refresh: {exc}"

    def _refresh(self) -> None:
        state = self.sweeps.read(self.name)
        tmux_name = state.tmux_session
        panes = tmux_ops.sweep_panes(self.server, tmux_name)
        indexes = tmux_ops.window_indexes(self.server, tmux_name)
        self.state = state
        self.list.set_rows(job_views(state, self.store, panes, indexes, self.sessions))

    def perform(self, action: Action) -> bool:
        """Carry out ``action``; False means leave the view (end this process)."""
        try:
            return self._perform(action)
        except LlmToolError as exc:
            self.list.message = f"error: {exc}"
            return True

    def _perform(self, action: Action) -> bool:
        row = self.list.selected_row()
        tmux_name = self.state.tmux_session if self.state else ""
        if action.kind == "jump_pane" and row is not None:
            if row.get("pane_id") and row.get("window_id"):
                tmux_ops.select_pane(self.server, row["window_id"], row["pane_id"])
                self.list.message = f"showing {row['title']} (pane {row['pane_id']}); window 0 brings you back"
            else:
                self.list.message = f"{row['title']} has no pane yet ({row['status']})"
        elif action.kind == "kill_job" and action.job:
            outcome = start_stop.stop_jobs(self.name, [action.job], sweeps=self.sweeps, server=self.server)
            self.list.message = f"{row['title'] if row else action.job}: {outcome.get(action.job)}"
        elif action.kind == "kill_window" and action.window:
            outcome = start_stop.stop_window(self.name, action.window, sweeps=self.sweeps, server=self.server)
            self.list.message = f"window {action.window}: " + ", ".join(f"{k} {v}" for k, v in outcome.items())
        elif action.kind == "jump_window" and action.index is not None:
            if not tmux_ops.select_window_index(self.server, tmux_name, action.index):
                self.list.message = f"no window {action.index}"
        elif action.kind == "refresh":
            self.list.message = ""
        elif action.kind == "leave":
            if os.environ.get("TMUX") and tmux_name:
                tmux_ops.detach_clients(self.server, tmux_name)
                self.list.message = "left the sweep (everything keeps running); attach again to come back"
                return True
            return False
        self.refresh()
        return True


def _draw(screen: Any, lines: list[str]) -> None:
    import curses

    screen.erase()
    height, width = screen.getmaxyx()
    for y, line in enumerate(lines[:height]):
        attr = curses.A_REVERSE if line.startswith("> ") else curses.A_NORMAL
        with contextlib.suppress(curses.error):
            screen.addnstr(y, 0, line, max(0, width - 1), attr)
    screen.refresh()


def run_curses(app: ControlApp, interval: float = 1.0) -> int:
    import curses

    def loop(screen: Any) -> int:
        with contextlib.suppress(curses.error):
            curses.curs_set(0)
        screen.keypad(True)
        screen.timeout(int(interval * 1000))
        app.refresh()
        while True:
            _draw(screen, render_lines(app.name, app.state, app.list))
            key = screen.getch()
            if key == -1:
                app.refresh()
                continue
            if not app.perform(handle_key(app.list, key)):
                return 0

    return int(curses.wrapper(loop))


def _exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="sweep name")
    parser.add_argument("--home", type=Path, help="llm-tool home (default: LLM_TOOL_HOME or the current folder)")
    parser.add_argument("--socket", help="tmux socket (default: LLM_TOOL_TMUX_SOCKET or llm-tool)")
    parser.add_argument("--once", action="store_true", help="print the list once and exit")
    args = parser.parse_args(argv)
    home = args.home.resolve() if args.home else paths.home()
    try:
        app = ControlApp(args.name, home=home, socket=args.socket)
        if args.once or not has_terminal():
            app.refresh()
            print("\n".join(render_lines(app.name, app.state, app.list)))
            return 0
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _exit)
        return run_curses(app)
    except LlmToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
