"""One supervised attempt: the job in its own session, writing to the log file itself; the pane follows the log."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO


class Tee:
    """Everything goes to the log file (appended); the pane shows the log as it grows (``show``).

    The job writes into the log file itself (not through us), so it never depends on this process: a
    supervisor killed with -9 takes no pipe with it and the training goes on. Without a log file our lines go
    straight to the pane."""

    def __init__(self, log_path: Path | None) -> None:
        self.log: BinaryIO | None = None
        self._reader: BinaryIO | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log = log_path.open("ab", buffering=0)
            self._reader = log_path.open("rb", buffering=0)
            self._reader.seek(0, os.SEEK_END)  # the pane shows this supervisor's part of the log
        self.screen = True

    def write(self, data: bytes) -> None:
        if self.log is None:
            self._print(data)
            return
        with contextlib.suppress(OSError):
            self.log.write(data)
        self.show()

    def show(self) -> None:
        """Copy what the log gained since the last call to the pane."""
        if self._reader is None:
            return
        while True:
            try:
                data = self._reader.read(65536)
            except OSError:
                return
            if not data:
                return
            self._print(data)

    def _print(self, data: bytes) -> None:
        if not self.screen:
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(1, view):]
        except OSError:  # the pane was closed (tmux kill-session): keep logging, stop printing
            self.screen = False

    def note(self, text: str) -> None:
        """A line of our own, marked so it stands apart from the job's output."""
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self.write(f"[llm-tool supervisor {stamp}] {text}\n".encode())

    def close(self) -> None:
        self.show()
        for handle in (self.log, self._reader):
            if handle is not None:
                handle.close()
        self.log = self._reader = None


class ChildRun:
    """Start ``argv`` in its own session (process group) with stdin closed; its output goes to the log file
    directly (or, without one, to our own stdout). Signals go to its whole process group."""

    def __init__(self, argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str]) -> None:
        self.argv, self.cwd, self.env = list(argv), cwd, dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, output: BinaryIO | None = None) -> int:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=output,
                                     stderr=subprocess.STDOUT if output is not None else None, cwd=self.cwd,
                                     env=self.env, start_new_session=True)
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        """Signal the job's process group (only while it has not been reaped, so never a reused pid)."""
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    def pump(self, tee: Tee, tick: Callable[[], None], poll: float = 0.2) -> int:
        """Show the log as it grows until the job exits, calling ``tick`` every ``poll`` seconds; its returncode."""
        assert self.proc is not None
        while True:
            tick()
            tee.show()
            if self.proc.poll() is not None:
                tee.show()
                return int(self.proc.returncode)
            time.sleep(poll)
