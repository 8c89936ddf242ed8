"""Crash-safe file writes (temp file in the same folder, fsync, os.replace) and inter-process locks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: new files get the usual 0o666 & ~umask, not mkstemp's private 0o600


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` so readers see either the old or the new file, never a mix."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    write_text_atomic(path, text)


def _write_temp(path: Path, text: str | bytes) -> str:
    """A fsynced temp file beside ``path`` holding ``text`` (or bytes); returns its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            try:
                mode = path.stat().st_mode & 0o777  # a replaced file keeps its permissions
            except FileNotFoundError:
                mode = 0o666 & ~_UMASK
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def create_json_exclusive(path: Path, data: Any) -> bool:
    """Create ``path`` with its full content in one step; False (nothing written) when it already exists."""
    tmp = _write_temp(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    try:
        os.link(tmp, path)  # atomic, and fails if the name is taken: never an empty or partial file
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    _fsync_dir(path.parent)
    return True


def write_text_atomic(path: Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text`` (str as UTF-8, or bytes such as a PNG): readers never see a partial file."""
    tmp = _write_temp(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable."""
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def file_lock(lock_path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``lock_path``; yields False if non-blocking and already held."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class HeldLock:
    """A lock held for a process's lifetime (the kernel frees it on any death, SIGKILL included)."""

    def __init__(self, lock_path: Path) -> None:
        self.path = lock_path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.set_inheritable(fd, False)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def is_locked(lock_path: Path) -> bool:
    """True when another process holds ``lock_path``."""
    if not lock_path.exists():
        return False
    with file_lock(lock_path, blocking=False) as got:
        return not got
