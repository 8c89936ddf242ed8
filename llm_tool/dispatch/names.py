"""tmux session names: `llmtool-<config stem>-MMDD_HHMM`, cleaned to [A-Za-z0-9_-] and made unique."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from llm_tool.errors import TmuxError

NAME_PREFIX = "llmtool-"  # every tmux session the tool creates starts with this; nothing else is ever touched
MAX_STEM = 40
MAX_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def sanitize(text: str, *, limit: int = MAX_STEM) -> str:
    """Keep [A-Za-z0-9_-] (tmux forbids `.` and `:` in names; the rest keeps shells and targets simple)."""
    cleaned = _UNSAFE.sub("_", text.strip()).strip("_-")
    return cleaned[:limit].strip("_-") or "run"


def is_tool_name(name: str) -> bool:
    return name.startswith(NAME_PREFIX) and len(name) > len(NAME_PREFIX)


def auto_name(stem: str, now: datetime | None = None) -> str:
    """``llmtool-<stem>-MMDD_HHMM`` for a config (or session) stem."""
    now = now or datetime.now()
    return f"{NAME_PREFIX}{sanitize(stem)}-{now.strftime('%m%d_%H%M')}"


def user_name(name: str) -> str:
    """A name given with --name: cleaned and prefixed with ``llmtool-`` so list/kill recognise it."""
    if not name.strip():
        raise TmuxError("--name is empty: give a name such as `bert-run`, or leave it out for an automatic one")
    cleaned = sanitize(name, limit=MAX_NAME)
    return cleaned if is_tool_name(cleaned) else f"{NAME_PREFIX}{cleaned}"


def unique_name(base: str, taken: Callable[[str], bool], *, limit: int = 1000) -> str:
    """``base``, else ``base-2``, ``base-3``... the first one ``taken`` (an exact-name lookup) says is free."""
    for n in range(1, limit):
        candidate = base if n == 1 else f"{base}-{n}"
        if not taken(candidate):
            return candidate
    raise TmuxError(f"{limit} tmux sessions are named {base}-N: remove old ones with `llm-tool tmux kill --all`")
