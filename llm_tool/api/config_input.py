"""A config given from Python (a file path or a mapping) plus keyword overrides, as the raw mapping `train` takes."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llm_tool.errors import ConfigError
from llm_tool.untrusted import quoted

ConfigInput = str | Path | Mapping[str, Any]


def _section_of(key: str) -> str:
    """The section a bare override key belongs to (``epochs`` -> model_config), or a ConfigError naming the fix."""
    from llm_tool.config.schema import DatasetConfig, ModelConfig

    in_model = key in {f.name for f in dataclasses.fields(ModelConfig)}
    in_dataset = key in {f.name for f in dataclasses.fields(DatasetConfig)}
    if in_model and not in_dataset:
        return "model_config"
    if in_dataset and not in_model:
        return "dataset_config"
    raise ConfigError(f"unknown setting {quoted(key)}: give a model_config or dataset_config field (see README's "
                      "config tables), or a whole section: model_config={...}")


def apply_keyword_overrides(raw: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with each override set: ``epochs=3`` (a field name), ``model_config={...}`` (merged into the section)
    or ``sets=["model_config.epochs=3"]`` (the CLI's --set syntax)."""
    from llm_tool.config.overrides import apply_overrides

    result = copy.deepcopy(raw)
    for key, value in overrides.items():
        if key == "sets":
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ConfigError("sets= takes a list of 'section.key=value' strings, as --set does")
            result = apply_overrides(result, [str(v) for v in value])
        elif key in ("dataset_config", "model_config", "slurm_config"):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key}= takes a mapping of settings, got {type(value).__name__}")
            section = result.setdefault(key, {})
            if not isinstance(section, dict):
                raise ConfigError(f"the config's {key} is not a section")
            section.update(copy.deepcopy(dict(value)))
        else:
            result.setdefault(_section_of(key), {})[key] = copy.deepcopy(value)
    return result


def read_config_input(config: ConfigInput, overrides: Mapping[str, Any]) -> tuple[dict[str, Any], Path]:
    """The raw config with overrides applied, and the folder relative data paths are read from (the file's folder;
    the working folder for a mapping)."""
    if isinstance(config, (str, Path)):
        from llm_tool.config.schema import load_config_file

        path = Path(config).expanduser()
        raw, base_dir = load_config_file(path), path.resolve().parent
    elif isinstance(config, Mapping):
        raw, base_dir = copy.deepcopy(dict(config)), Path.cwd()
    else:
        raise ConfigError(f"config must be a path to a JSON file or a mapping, got {type(config).__name__}")
    return apply_keyword_overrides(raw, overrides), base_dir
