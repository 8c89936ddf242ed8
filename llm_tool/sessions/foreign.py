"""Settings out of a session file of another tool or version: what maps onto ours is used, the rest is kept aside."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from llm_tool.config import DatasetConfig, ModelConfig
from llm_tool.config.auto import AUTO, AUTO_KEYS
from llm_tool.config.fields import coerce
from llm_tool.config.schema import DATASET_RECORDED_KEYS, FORMATS, METADATA_SECTIONS, MODEL_RECORDED_KEYS
from llm_tool.errors import ConfigError
from llm_tool.sessions.reference_tasks import is_llm_json, map_llm_json
from llm_tool.untrusted import shown

DATASET_FIELDS = {f.name for f in dataclasses.fields(DatasetConfig)}
MODEL_FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}
_TRAINING_KEYS = {"epochs": "epochs", "num_epochs": "epochs", "n_epochs": "epochs", "batch_size": "batch_size",
                  "train_batch_size": "batch_size", "learning_rate": "learning_rate", "lr": "learning_rate",
                  "warmup_ratio": "warmup_ratio", "weight_decay": "weight_decay", "seed": "seed",
                  "early_stopping": "early_stopping", "early_stopping_patience": "early_stopping_patience",
                  "patience": "early_stopping_patience", "max_length": "max_length", "max_seq_length": "max_length",
                  "gradient_accumulation_steps": "gradient_accumulation_steps", "eval_batch_size": "eval_batch_size",
                  "save_steps": "save_steps", "save_total_limit": "save_total_limit", "num_threads": "num_threads",
                  "class_weights": "class_weights", "precision": "precision", "optimizer": "optimizer"}
# The Trainer's `optim` names a reference session records (LLM_Tool: "adamw_torch") -> model_config.optimizer.
_TRAINER_OPTIMIZERS = {"adamw_torch": "adamw", "adamw_torch_fused": "adamw", "adamw_hf": "adamw"}
_SPLIT_KEYS = {"validation_split": "validation_split", "validation_ratio": "validation_split",
               "val_ratio": "validation_split", "val_split": "validation_split", "test_split": "test_split",
               "test_ratio": "test_split", "split_column": "split_column"}
_LABEL_KEYS = {"label_column": "label_column", "label_key": "label_column", "label_columns": "label_columns",
               "strategy": "strategy", "label_separator": "label_separator",
               "label_value_separator": "label_separator"}
# (section of the foreign file, its key) -> (our section, our key); the first source of a setting wins.
SOURCES: tuple[tuple[str, dict[str, tuple[str, str]]], ...] = (
    ("dataset_config", {k: ("dataset_config", k) for k in DATASET_FIELDS}
     | {"format_type": ("dataset_config", "format")}),
    ("model_config", {k: ("model_config", k) for k in MODEL_FIELDS}),
    ("training_params", {k: ("model_config", v) for k, v in _TRAINING_KEYS.items()}),
    ("advanced_settings", {k: ("model_config", v) for k, v in _TRAINING_KEYS.items()}),
    ("split_config", {k: ("dataset_config", v) for k, v in _SPLIT_KEYS.items()}
     | {"random_state": ("model_config", "seed"), "seed": ("model_config", "seed")}),
    ("label_config", {k: ("dataset_config", v) for k, v in _LABEL_KEYS.items()}
     | {"multi_label": ("dataset_config", "strategy")}),
    ("preprocessing", {"max_length": ("model_config", "max_length")}),
)
RECORDED = {"dataset_config": DATASET_RECORDED_KEYS | {"format_type"}, "model_config": MODEL_RECORDED_KEYS}
OURS = {"dataset_config": DatasetConfig, "model_config": ModelConfig}


@dataclasses.dataclass
class ForeignSettings:
    """The settings taken (a config), the sections kept aside unused, and the keys that were not used."""

    raw: dict[str, dict[str, Any]]
    kept: dict[str, Any]
    unused: list[str]
    notes: list[str] = dataclasses.field(default_factory=list)  # how the file's choices were mapped, to show


def _convert(section: str, key: str, value: Any) -> Any:
    if key == "multi_label":
        if not isinstance(value, bool):
            raise ConfigError("multi_label must be true or false")
        return "multi-label" if value else "single-label"
    if key == "optimizer" and isinstance(value, str):
        return _TRAINER_OPTIMIZERS.get(value.lower(), value.lower())
    if key == "format_type" and value not in FORMATS:
        raise ConfigError(f"format {shown(value, 40)} is not one of ours")
    return value


def _valid(target: str, name: str, value: Any) -> Any:
    """``value`` checked as our setting ``target.name`` on its own (type and range)."""
    cls = OURS[target]
    if target == "model_config" and name in AUTO_KEYS and value == AUTO:  # left to the tool, as in our own files
        return value
    value = coerce(value, typing.get_type_hints(cls)[name], f"{target}.{name}")
    base = {"primary_file": "x"} if target == "dataset_config" else {}
    if name == "strategy" and value == "multi-label":
        base["label_column"] = "label"
    cls(**{**base, name: value})  # raises ConfigError when out of range
    return value


def settings_of(data: dict[str, Any]) -> ForeignSettings:
    """What of ``data`` maps onto dataset_config/model_config; a value of the wrong type or range is not used."""
    raw: dict[str, dict[str, Any]] = {"dataset_config": {}, "model_config": {}}
    unused: list[str] = []
    leftovers: dict[str, dict[str, Any]] = {}
    for section, mapping in SOURCES:
        values = data.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            target = mapping.get(key)
            if target is None:
                if key not in RECORDED.get(section, ()):
                    unused.append(f"{section}.{shown(key, 40)}")
                    if section in OURS:
                        leftovers.setdefault(section, {})[key] = value
                continue
            our_section, name = target
            if name in raw[our_section] or value is None:
                continue
            try:
                raw[our_section][name] = _valid(our_section, name, _convert(section, key, value))
            except ConfigError as exc:
                unused.append(f"{section}.{shown(key, 40)} ({shown(str(exc), 80)})")
    notes = _reference_tasks(data, raw, unused)
    kept = {k: v for k, v in data.items() if k not in METADATA_SECTIONS}  # other sections: kept, never used
    sources = dict(SOURCES)
    unused += [shown(k, 40) for k in kept if k not in sources and k != "metadata_version"]
    if leftovers:
        kept["unused_settings"] = leftovers
    return ForeignSettings(raw, kept, unused, notes)


def _reference_tasks(data: dict[str, Any], raw: dict[str, dict[str, Any]], unused: list[str]) -> list[str]:
    """An LLM_Tool llm-json session becomes a tasks config; each mapped value is checked like any other."""
    if not is_llm_json(data.get("dataset_config")):
        return []
    notes = map_llm_json(data, raw, unused)
    for section, name in (("dataset_config", "annotation_column"), ("dataset_config", "tasks"),
                          ("model_config", "selected_model"), ("model_config", "language_strategy")):
        if name in raw[section]:
            try:
                raw[section][name] = _valid(section, name, raw[section][name])
            except ConfigError as exc:
                unused.append(f"{section}.{name} ({shown(str(exc), 80)})")
                del raw[section][name]
    return notes


def unused_note(unused: list[str], limit: int = 8) -> str:
    """One line naming what of the file was not used (the first few, then a count)."""
    head = ", ".join(unused[:limit])
    more = f" and {len(unused) - limit} more" if len(unused) > limit else ""
    return f"not used from the file (kept in the session as imported_fields): {head}{more}"
