"""Where llm-tool keeps its files: the home (LLM_TOOL_HOME or the current directory), logs and models."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from llm_tool.errors import UnsafePathError

HOME_ENV = "LLM_TOOL_HOME"


def home() -> Path:
    """The folder under which ``logs/`` and ``models/`` live."""
    return Path(os.environ.get(HOME_ENV) or os.getcwd()).resolve()


def sessions_dir(root: Path | None = None) -> Path:
    return (root or home()) / "logs" / "training_sessions"


def models_dir(root: Path | None = None) -> Path:
    return (root or home()) / "models"


def sweeps_dir(root: Path | None = None) -> Path:
    return (root or home()) / "logs" / "sweeps"


def is_within(path: Path, parent: Path) -> bool:
    """True when ``path`` (resolved) lies inside ``parent`` (resolved)."""
    try:
        path.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def relative_to_home(path: Path, root: Path | None = None) -> str | None:
    """``path`` relative to the home, or None when it lies outside it."""
    base = (root or home()).resolve()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return None


# ----- a session's own folders: derived from its id alone, never from what its file says -----------------
_SESSION_ID = re.compile(r"^train_\d{8}_\d{6}(?:_\d+)?$")


def session_model_dir(session_id: str, root: Path | None = None) -> Path:
    """``models/<session_id>``: the only folder a session's training writes to or deletes in."""
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise UnsafePathError(f"{session_id!r} is not a session id (train_YYYYMMDD_HHMMSS): no folder for it")
    return models_dir(root).resolve() / session_id


def session_checkpoints_dir(session_id: str, root: Path | None = None) -> Path:
    return session_model_dir(session_id, root) / "checkpoints"


def _check_owned(target: Path, session_id: str, root: Path | None, whole: bool) -> Path:
    """``target`` as an absolute path, when it lies strictly inside models/<session_id>/ (or is it, if ``whole``)."""
    own = session_model_dir(session_id, root)
    lexical = Path(os.path.abspath(target))
    if own.is_symlink():  # only the link itself may go (delete --with-model), never anything through it
        if whole and lexical == own:
            return lexical
        raise UnsafePathError(f"{own} is a symbolic link: llm-tool deletes nothing through it")
    resolved = lexical.resolve()
    for candidate in (lexical, resolved):
        inside = candidate.is_relative_to(own) and (whole or candidate != own)
        if not inside:
            raise UnsafePathError(f"refusing to delete {target}: it is not inside {own} (the session's own folder)")
    return lexical


def remove_session_tree(target: Path, session_id: str, root: Path | None = None, *, whole: bool = False) -> bool:
    """Delete the folder ``target`` only when it lies strictly inside models/<session_id>/ (``whole``: or is that
    folder). Every deletion of the tool goes through here; True when something was deleted."""
    folder = _check_owned(target, session_id, root, whole)
    if folder.is_symlink():
        folder.unlink()  # the link itself, never what it points to
        return True
    if not folder.exists():
        return False
    shutil.rmtree(folder)  # rmtree never follows symbolic links inside the tree
    return True


def remove_if_empty(target: Path, session_id: str, root: Path | None = None) -> bool:
    """Remove an empty folder inside models/<session_id>/ (or that folder itself); True when removed."""
    folder = _check_owned(target, session_id, root, whole=True)
    try:
        folder.rmdir()
    except OSError:  # not empty, not there, or not a folder
        return False
    return True
