"""The models registry file of a home (``pretrained/registry.json``): read, written, looked up by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.errors import ModelError

REGISTRY_FILE = "registry.json"
MAX_REGISTRY_BYTES = 1 << 20


def pretrained_dir(home: Path | None = None) -> Path:
    """Where downloaded models and the registry live: ``<home>/pretrained``."""
    return (home or paths.home()) / "pretrained"


def read_registry(home: Path | None) -> dict[str, dict[str, Any]]:
    path = pretrained_dir(home) / REGISTRY_FILE
    try:
        if path.stat().st_size > MAX_REGISTRY_BYTES:
            raise ModelError(f"{path} is over {MAX_REGISTRY_BYTES >> 20} MiB: not a models registry")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"cannot read the models registry {path}: {type(exc).__name__}; fix or delete it") from None
    models = data.get("models") if isinstance(data, dict) else None
    return {k: v for k, v in models.items() if isinstance(v, dict)} if isinstance(models, dict) else {}


def write_registry(home: Path | None, models: dict[str, dict[str, Any]]) -> None:
    from llm_tool.sessions.atomic import file_lock, write_json_atomic

    folder = pretrained_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".registry.lock"):
        write_json_atomic(folder / REGISTRY_FILE, {"schema_version": 1, "models": models})


def registered_path(name: str, home: Path | None = None) -> Path | None:
    """The folder registered under ``name`` in this home, when it still exists."""
    try:
        entry = read_registry(home).get(name)
    except ModelError:
        return None
    if entry and isinstance(entry.get("path"), str) and Path(entry["path"]).is_dir():
        return Path(entry["path"])
    return None
