"""One supervised attempt: the job in its own process group, every byte it prints teed to the log and the pane."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO


class Tee:
    """Append to the log file (flushed per chunk) and copy to our stdout while the pane still exists."""

    def __init__(self, log_path: Path | None) -> None:
        self.log: BinaryIO | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log = log_path.open("ab", buffering=0)
        self.screen = True

    def write(self, data: bytes) -> None:
        if self.log is not None:
            with contextlib.suppress(OSError):
                self.log.write(data)
        if self.screen:
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
        if self.log is not None:
            self.log.close()
            self.log = None


class ChildRun:
    """Start ``argv`` with stdin closed and stdout+stderr piped; signals go to its whole process group."""

    def __init__(self, argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str]) -> None:
        self.argv, self.cwd, self.env = list(argv), cwd, dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> int:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=self.cwd, env=self.env, start_new_session=True)
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
        """Copy output until the job exits, calling ``tick`` at least every ``poll`` seconds; returns its returncode."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        eof = False
        while True:
            tick()
            if not eof:
                ready, _, _ = select.select([fd], [], [], poll)
                if ready:
                    data = os.read(fd, 65536)
                    if data:
                        tee.write(data)
                        continue
                    eof = True
            if self.proc.poll() is not None:
                if not eof:
                    self._drain(fd, tee)
                break
            if eof:  # output closed but the process lives on (it closed stdout itself)
                time.sleep(poll)
        self.proc.stdout.close()
        return int(self.proc.returncode)

    @staticmethod
    def _drain(fd: int, tee: Tee) -> None:
        """What is left in the pipe once the job exited (a grandchild may keep it open: do not wait for EOF)."""
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                return
            data = os.read(fd, 65536)
            if not data:
                return
            tee.write(data)

