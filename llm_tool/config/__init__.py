"""Training settings: the typed dataset_config and model_config sections, their defaults and validation."""

from llm_tool.config.overrides import apply_overrides, load_raw_config, parse_set_option
from llm_tool.config.schema import (
    DATASET_RECORDED_KEYS,
    MODEL_RECORDED_KEYS,
    DatasetConfig,
    ModelConfig,
    TrainingConfig,
    load_config_file,
    parse_config,
)

__all__ = [
    "DATASET_RECORDED_KEYS",
    "MODEL_RECORDED_KEYS",
    "DatasetConfig",
    "ModelConfig",
    "TrainingConfig",
    "apply_overrides",
    "load_config_file",
    "load_raw_config",
    "parse_config",
    "parse_set_option",
]
