"""The models registry file of a home (``pretrained/registry.json``): read, written, looked up by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.errors import ModelError
from llm_tool.untrusted import quoted, read_json_file, shown

REGISTRY_FILE = "registry.json"
MAX_REGISTRY_BYTES = 1 << 20


def pretrained_dir(home: Path | None = None) -> Path:
    """Where downloaded models and the registry live: ``<home>/pretrained``."""
    return (home or paths.home()) / "pretrained"


def read_registry(home: Path | None) -> dict[str, dict[str, Any]]:
    """The registered models by name: read bounded (a regular file), every value checked (one line naming the
    entry and the fix when one is not a path, a source and a list of languages)."""
    path = pretrained_dir(home) / REGISTRY_FILE
    if not path.exists() and not path.is_symlink():
        return {}
    data = read_json_file(path, ModelError, what="models registry", max_bytes=MAX_REGISTRY_BYTES)
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ModelError(f"the models registry {shown(str(path))} has no \"models\" object: fix or delete it")
    for name, entry in models.items():
        problem = _entry_problem(entry)
        if problem:
            raise ModelError(f"the models registry {shown(str(path))}: {quoted(name, 60)} {problem}; fix the entry "
                             "or delete the file (then `llm-tool models add FOLDER` again)")
    return models


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "is not an object"
    path, source, languages = entry.get("path"), entry.get("source", "folder"), entry.get("languages", [])
    if not isinstance(path, str) or not path or len(path) > 4096 or "\0" in path:
        return "has no usable \"path\" (a folder name)"
    if not isinstance(source, str) or len(source) > 40:
        return "has a \"source\" that is not a short text"
    if not isinstance(languages, list) or len(languages) > 500 or \
            not all(isinstance(x, str) and len(x) <= 40 for x in languages):
        return "has \"languages\" that are not a list of short codes"
    return None


def write_registry(home: Path | None, models: dict[str, dict[str, Any]]) -> None:
    from llm_tool.atomic import file_lock, write_json_atomic

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
