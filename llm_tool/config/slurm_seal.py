"""A seal on a session's ``slurm_config``: proof that llm-tool wrote it on this machine for this user.

When llm-tool writes a session from a config the user gave it (the command line, the studio, a sweep file), it
adds ``"seal"``: an HMAC-SHA256 of the section with a per-user secret key kept outside the session folders
(``$LLM_TOOL_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/llm-tool``, else ``~/.config/llm-tool``; mode 0600). A section
edited by hand, copied from a collaborator or made on another machine has no valid seal: its extra sbatch lines
are used only with ``--yes`` (and are still allow-listed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from llm_tool.errors import ConfigError

CONFIG_DIR_ENV = "LLM_TOOL_CONFIG_DIR"
SEAL_KEY = "seal"  # slurm_config["seal"]: "v1:<hex>"
KEY_FILE = "session-seal.key"


def key_path() -> Path:
    explicit = os.environ.get(CONFIG_DIR_ENV)
    if explicit:
        return Path(explicit) / KEY_FILE
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llm-tool" / KEY_FILE


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the seal key {path}: {exc.strerror}; remove it (a new one is made)") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigError(f"the seal key {path} is readable or writable by others: remove it (a new one is made)")
        key = handle.read(129).strip()
    if not 32 <= len(key) <= 128:
        raise ConfigError(f"the seal key {path} is damaged: remove it (a new one is made)")
    return key


def _key(create: bool) -> bytes | None:
    path = key_path()
    key = _read_key(path)
    if key is not None or not create:
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_key(path)  # made by another llm-tool at the same moment
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _digest(key: bytes, section: dict[str, Any]) -> str:
    body = {k: v for k, v in section.items() if k != SEAL_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "v1:" + hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def seal(section: dict[str, Any]) -> dict[str, Any]:
    """``section`` with this user's seal (only for what llm-tool itself writes from the user's own input)."""
    key = _key(create=True)
    assert key is not None
    return {**section, SEAL_KEY: _digest(key, section)}


def is_sealed(section: Any) -> bool:
    """The section carries a seal this user's key made, and nothing in it changed since."""
    if not isinstance(section, dict) or not isinstance(section.get(SEAL_KEY), str):
        return False
    key = _key(create=False)
    return key is not None and hmac.compare_digest(section[SEAL_KEY], _digest(key, section))
