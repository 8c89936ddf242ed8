"""The two setting sections of a config/metadata file, with every default documented on its field."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llm_tool.config.fields import build
from llm_tool.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
FORMATS = ("auto", "csv", "tsv", "jsonl", "json", "parquet", "excel")
# Keys the tool records into a section after analysis (or that the reference tool wrote):
# accepted when a session file is used as a config, never used as settings.
DATASET_RECORDED_KEYS = frozenset({
    "primary_file_relative", "total_samples", "num_categories", "category_distribution",
    "fingerprint_sha256", "training_files", "label_names", "split_sizes", "encoding_used",
    "delimiter_used", "format_detected", "split_method", "quoting_used",
})
MODEL_RECORDED_KEYS = frozenset({"recommended_model", "resolved_model_path", "num_labels", "max_length_used"})
SETTING_SECTIONS = ("dataset_config", "model_config")
METADATA_SECTIONS = (
    "training_session", "dataset_config", "language_config", "text_analysis", "model_config",
    "execution_status", "output_paths", "environment", "slurm_config",
)


def _f(default: Any, help: str, **extra: Any) -> Any:  # noqa: A002 - mirrors dataclasses.field
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **extra})
    return field(default=default, metadata={"help": help, **extra})


@dataclass(frozen=True)
class DatasetConfig:
    primary_file: str = field(metadata={"help": "data file (CSV, TSV, JSONL, JSON, Parquet, Excel)"})
    text_column: str = _f("text", "column holding the text")
    label_column: str | None = _f("label", "column holding the label (a list or joined string for multi-label)")
    strategy: Literal["single-label", "multi-label"] = _f("single-label", "one label per text, or several")
    format: str = _f("auto", "file format; auto detects it from the extension")
    label_columns: list[str] | None = _f(None, "multi-label as several 0/1 columns")
    label_separator: str | None = _f(None, "separator of joined multi-labels; auto tries | ; ,")
    split_column: str | None = _f(None, "column with train/validation/test per row")
    validation_file: str | None = _f(None, "separate validation file")
    test_file: str | None = _f(None, "separate test file")
    validation_split: float = _f(0.1, "share of rows for validation when no split is given")
    test_split: float = _f(0.1, "share of rows for test when no split is given")
    sheet: str | int | None = _f(None, "Excel sheet name or index (default: the first)")
    encoding: str | None = _f(None, "text encoding (default: detected)")
    delimiter: str | None = _f(None, "CSV delimiter (default: detected)")
    has_header: bool = _f(True, "false for CSV/TSV files without a header row (columns become column_1, ...)")

    def __post_init__(self) -> None:
        if self.format not in FORMATS and self.format != "llm-json":
            raise ConfigError(f"dataset_config.format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        for name in ("validation_split", "test_split"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.5:
                raise ConfigError(f"dataset_config.{name} must be between 0 and 0.5, got {value}")
        if self.strategy == "single-label" and not self.label_column:
            raise ConfigError("dataset_config.label_column is required for single-label")
        if self.strategy == "multi-label" and not (self.label_column or self.label_columns):
            raise ConfigError("multi-label needs dataset_config.label_column or dataset_config.label_columns")
        if self.label_separator == "":
            raise ConfigError("dataset_config.label_separator must not be empty")


@dataclass(frozen=True)
class ModelConfig:
    selected_model: str = _f(DEFAULT_MODEL, "Hugging Face model id or local folder")
    training_mode: Literal["quick", "custom", "benchmark"] = _f("quick", "how the run was configured")
    epochs: int = _f(3, "passes over the training data", min=1)
    batch_size: int = _f(16, "texts per step", min=1)
    learning_rate: float = _f(5e-5, "AdamW learning rate", min=0.0)
    early_stopping: bool = _f(True, "stop when validation macro-F1 stops improving")
    early_stopping_patience: int = _f(2, "epochs without improvement before stopping", min=1)
    max_length: int | None = _f(None, "max tokens per text (default: the data's p95, capped by the model)")
    seed: int = _f(42, "random seed for the split, the head initialisation and the batch order")
    warmup_ratio: float = _f(0.1, "share of steps with a linearly rising learning rate", min=0.0)
    weight_decay: float = _f(0.01, "AdamW weight decay", min=0.0)
    gradient_accumulation_steps: int = _f(1, "steps whose gradients are summed before an update", min=1)
    class_weights: str | dict[str, float] | None = _f(None, "none, 'balanced', or {label: weight}")
    save_steps: int | None = _f(None, "also checkpoint every N steps (default: at each epoch end)")
    save_total_limit: int = _f(2, "checkpoints kept (the best one is always kept)", min=1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = _f("auto", "auto uses bf16/fp16 and TF32 on a GPU")
    num_threads: int | None = _f(None, "CPU threads for torch (default: torch's choice, recorded)")
    keep_checkpoints: bool = _f(False, "keep checkpoints after a completed run")
    eval_batch_size: int | None = _f(None, "texts per evaluation step (default: 2 x batch_size)")
    group_by_length: bool = _f(True, "batch texts of similar length together (less padding)")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            minimum = f.metadata.get("min")
            value = getattr(self, f.name)
            if minimum is not None and value is not None and value < minimum:
                raise ConfigError(f"model_config.{f.name} must be at least {minimum}, got {value}")
        if self.warmup_ratio >= 1:
            raise ConfigError(f"model_config.warmup_ratio must be below 1, got {self.warmup_ratio}")
        if isinstance(self.class_weights, str) and self.class_weights not in ("none", "balanced"):
            raise ConfigError("model_config.class_weights must be 'none', 'balanced' or {label: weight}")
        if self.max_length is not None and self.max_length < 8:
            raise ConfigError("model_config.max_length must be at least 8")


@dataclass(frozen=True)
class TrainingConfig:
    dataset: DatasetConfig
    model: ModelConfig

    def to_sections(self) -> dict[str, dict[str, Any]]:
        return {"dataset_config": dataclasses.asdict(self.dataset), "model_config": dataclasses.asdict(self.model)}


def parse_config(data: Any, *, source: str = "config") -> TrainingConfig:
    """Validate a config mapping (or a full session metadata file) into a TrainingConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object with dataset_config and model_config")
    is_metadata = "training_session" in data
    for key in data:
        if key not in METADATA_SECTIONS and not is_metadata:
            raise ConfigError(f"unknown section '{key}' in {source}: expected {', '.join(SETTING_SECTIONS)}")
    if "dataset_config" not in data:
        raise ConfigError(f"{source} has no dataset_config section")
    dataset = build(DatasetConfig, data["dataset_config"], "dataset_config", ignored=DATASET_RECORDED_KEYS)
    model = build(ModelConfig, data.get("model_config") or {}, "model_config", ignored=MODEL_RECORDED_KEYS)
    return TrainingConfig(dataset=dataset, model=model)


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a config JSON file; errors name the file and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data
