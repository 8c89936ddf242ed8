"""``--set section.key=value`` overrides applied to a raw config mapping before validation."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from llm_tool.errors import ConfigError
from llm_tool.untrusted import quoted, shown


def parse_set_option(option: str) -> tuple[list[str], Any]:
    """Split ``model_config.epochs=5`` into (['model_config', 'epochs'], 5); values are JSON or text."""
    key, sep, raw = option.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set needs key=value, got {quoted(option)} (e.g. --set model_config.epochs=5)")
    path = [part for part in key.strip().split(".")]
    if len(path) < 2 or any(not p for p in path):
        raise ConfigError(f"--set key must be section.key, got {quoted(key)} (e.g. model_config.epochs)")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON (or absurdly nested/long): taken as text, validated later
        value = raw
    return path, value


def set_dotted(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"cannot set {shown('.'.join(path))}: '{shown(part)}' is not a section")
        node = child
    node[path[-1]] = value


def apply_overrides(data: dict[str, Any], options: Iterable[str]) -> dict[str, Any]:
    """A deep copy of ``data`` with each ``--set`` option applied (validation happens afterwards)."""
    result = copy.deepcopy(data)
    for option in options:
        path, value = parse_set_option(option)
        set_dotted(result, path, value)
    return result


def load_raw_config(path: Path, sets: Iterable[str]) -> dict[str, Any]:
    """A config file as a mapping with ``--set`` overrides applied (validated later by ``parse_config``)."""
    from llm_tool.config.schema import load_config_file

    return apply_overrides(load_config_file(path), sets)
