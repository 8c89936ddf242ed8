"""The two setting sections of a config/metadata file, with every default documented on its field."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llm_tool.config.auto import AUTO, AUTO_KEYS, auto_keys, marked_auto
from llm_tool.config.fields import build
from llm_tool.config.presets import parse_duration
from llm_tool.errors import ConfigError
from llm_tool.untrusted import quoted, read_json_file, shown

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_OPTIMIZER = "adamw"  # what a session without model_config.optimizer (written before it existed) ran with
MAX_BATCH = 4096
TRACKERS = ("tensorboard", "trackio", "mlflow")
FORMATS = ("auto", "csv", "tsv", "jsonl", "json", "parquet", "excel")
# Keys the tool records into a section after analysis (or that the reference tool wrote):
# accepted when a session file is used as a config, never used as settings.
DATASET_RECORDED_KEYS = frozenset({
    "primary_file_relative", "total_samples", "num_categories", "category_distribution",
    "fingerprint_sha256", "training_files", "label_names", "split_sizes", "encoding_used",
    "delimiter_used", "format_detected", "split_method", "quoting_used", "rows_used", "rows_not_annotated",
    "split_groups", "split_time_ranges", "split_warnings",  # group/time splits (data/split_rules.py)
    "train_fraction_rows",  # learning curves (data/fractions.py)
})
MODEL_RECORDED_KEYS = frozenset({"recommended_model", "resolved_model_path", "num_labels", "max_length_used",
                                 "auto_settings", "expected_seconds", "time_budget_seconds",
                                 "long_text_used", "long_text_reason", "chunk_stride_used", "windows"})
SETTING_SECTIONS = ("dataset_config", "model_config")
METADATA_SECTIONS = (
    "training_session", "dataset_config", "language_config", "text_analysis", "model_config",
    "execution_status", "output_paths", "environment", "slurm_config",
)


def check_ranges(section: Any, name: str) -> None:
    """Every numeric field within the bounds declared on it (min/max inclusive, above/below exclusive)."""
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        where, meta = f"{name}.{f.name}", f.metadata
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, got {value}")
        low = (f"at least {meta['min']}" if "min" in meta else f"above {meta['above']}" if "above" in meta else None)
        high = (f"at most {meta['max']}" if "max" in meta else f"below {meta['below']}" if "below" in meta else None)
        bad = ("min" in meta and value < meta["min"]) or ("above" in meta and value <= meta["above"]) or \
            ("max" in meta and value > meta["max"]) or ("below" in meta and value >= meta["below"])
        if bad:
            bounds = " and ".join(b for b in (low, high) if b)
            raise ConfigError(f"{where} must be {bounds}, got {shown(str(value), 60)}")


def _f(default: Any, help: str, **extra: Any) -> Any:  # `help` shadows the builtin: it names the metadata key
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
    label_columns: list[str] | None = _f(None, "multi-label: several 0/1 columns; single-label: several label "
                                                "columns, each one task (see annotation_column)")
    label_separator: str | None = _f(None, "separator of joined multi-labels; auto tries | ; ,")
    split_column: str | None = _f(None, "column with train/validation/test per row")
    validation_file: str | None = _f(None, "separate validation file")
    test_file: str | None = _f(None, "separate test file")
    validation_split: float = _f(0.1, "share of rows for validation when no split is given", min=0.0, below=0.5)
    test_split: float = _f(0.1, "share of rows for test when no split is given", min=0.0, below=0.5)
    split_seed: int | None = _f(None, "random seed of the train/validation/test split (default: model_config.seed); "
                                      "fixed by multi-seed sweeps so only initialisation and batch order vary",
                                min=0, max=2**32 - 1)
    sheet: str | int | None = _f(None, "Excel sheet name or index (default: the first)")
    encoding: str | None = _f(None, "text encoding (default: detected)")
    delimiter: str | None = _f(None, "CSV delimiter (default: detected)")
    has_header: bool = _f(True, "false for CSV/TSV files without a header row (columns become column_1, ...)")
    annotation_column: str | None = _f(None, "column of JSON objects (LLM_Tool's llm-json): each key is a task, "
                                             "one model each")
    tasks: list[str] | None = _f(None, "the tasks to train (default: every key of annotation_column, or every "
                                       "label column)")
    task: str | None = _f(None, "the one task this session trains (set on the child sessions of a tasks run)")
    null_as_class: bool = _f(False, "treat the string \"null\" as an ordinary label value instead of "
                                    "\"not annotated\"")
    language_column: str | None = _f(None, "column with each text's language code (default: detected)")
    language: str | None = _f(None, "the one language this session trains (per-language child sessions)")
    split_group_column: str | None = _f(None, "column of group ids (document, speaker, user): all rows of a "
                                              "group land in one split")
    split_time_column: str | None = _f(None, "column of dates: train on the oldest rows, validate and test on "
                                             "the newest")
    train_fraction: float = _f(1.0, "train on this share of the training rows (a nested, stratified subset: a "
                                    "learning curve's point); validation and test rows stay the same",
                               above=0.0, max=1.0)

    def __post_init__(self) -> None:
        if self.format not in FORMATS and self.format != "llm-json":
            raise ConfigError(f"dataset_config.format must be one of {', '.join(FORMATS)}, got {quoted(self.format)}")
        check_ranges(self, "dataset_config")
        if isinstance(self.sheet, int) and not 0 <= self.sheet < 10_000:
            raise ConfigError(f"dataset_config.sheet must be a sheet name or an index from 0, got {self.sheet}")
        if self.strategy == "single-label" and not (self.label_column or self.annotation_column
                                                    or self.label_columns):
            raise ConfigError("dataset_config.label_column is required for single-label")
        if self.strategy == "multi-label" and not (self.label_column or self.label_columns or self.annotation_column):
            raise ConfigError("multi-label needs dataset_config.label_column or dataset_config.label_columns")
        if self.label_separator == "":
            raise ConfigError("dataset_config.label_separator must not be empty")
        ways = [name for name in ("split_column", "split_group_column", "split_time_column") if getattr(self, name)]
        if len(ways) > 1:
            raise ConfigError(f"dataset_config.{ways[0]} and dataset_config.{ways[1]} both say how to split: keep one")


@dataclass(frozen=True)
class ModelConfig:
    selected_model: str = _f(DEFAULT_MODEL, "Hugging Face model id or local folder")
    training_mode: Literal["quick", "custom", "benchmark"] = _f("quick", "how the run was configured")
    epochs: int = _f(3, "passes over the training data", min=1, max=1000)
    batch_size: int = _f(16, "texts per step", min=1, max=MAX_BATCH)
    learning_rate: float = _f(5e-5, "the optimizer's learning rate", above=0.0, below=1.0)
    early_stopping: bool = _f(True, "stop when validation macro-F1 stops improving")
    early_stopping_patience: int = _f(2, "epochs without improvement before stopping", min=1, max=1000)
    max_length: int | None = _f(None, "max tokens per text (default: the data's p95, capped by the model)",
                                min=8, max=1_000_000)
    seed: int = _f(42, "random seed for the head initialisation, the batch order and the split (unless "
                       "dataset_config.split_seed is set)", min=0, max=2**32 - 1)
    warmup_ratio: float = _f(0.1, "share of steps with a linearly rising learning rate", min=0.0, below=1.0)
    weight_decay: float = _f(0.01, "weight decay (decoupled for AdamW)", min=0.0, max=10.0)
    optimizer: Literal["adamw", "adafactor", "sgd"] = _f(
        DEFAULT_OPTIMIZER, "adamw (torch's fused AdamW, the Trainer's default), adafactor (less memory), "
                           "sgd (momentum 0.9)")
    gradient_accumulation_steps: int = _f(1, "steps whose gradients are summed before an update", min=1, max=4096)
    class_weights: str | dict[str, float] | None = _f(None, "none, 'balanced', or {label: weight}")
    save_steps: int | None = _f(None, "also checkpoint every N steps (default: at each epoch end)", min=1,
                                max=10**9)
    save_total_limit: int = _f(2, "checkpoints kept (the best one is always kept)", min=1, max=1000)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = _f(
        "auto", "auto uses bf16/fp16 and TF32 on a GPU, bf16 autocast on a CPU with avx512_bf16 or AMX, else fp32")
    attention: Literal["auto", "sdpa", "eager"] = _f(
        "auto", "attention kernels: auto = eager under bf16 on a CPU (measured faster there), else sdpa")
    word_embeddings: Literal["auto", "train", "frozen"] = _f(
        "auto", "frozen keeps the word-embedding matrix as pretrained (no gradient, no optimizer state: a shorter "
                "step); auto = train (see benchmarks/bench_step_cuts.py)")
    dropout: Literal["auto", "model", "off"] = _f(
        "auto", "model keeps the model's dropout while training; off sets every dropout to 0 (a shorter step); "
                "auto = model")
    num_threads: int | None = _f(None, "CPU threads for torch (default: torch's choice, recorded)", min=1, max=1024)
    keep_checkpoints: bool = _f(False, "keep checkpoints after a completed run")
    eval_batch_size: int | None = _f(None, "texts per evaluation step (default: 2 x batch_size)", min=1,
                                     max=MAX_BATCH)
    group_by_length: bool = _f(True, "batch texts of similar length together (less padding)")
    preset: Literal["quick", "standard", "thorough"] | None = _f(
        None, "session type: quick (~10 min), standard (default, up to 2 h), thorough (up to 8 h)")
    time_budget: str | None = _f(None, "stop gracefully after this long, e.g. 30m, 2h (default: the preset's)")
    long_text: Literal["auto", "truncate", "head_tail", "chunks"] = _f(
        "auto", "texts longer than max_length: truncate (keep the head), head_tail (keep the first and last "
                "tokens), chunks (overlapping windows, probabilities averaged per text); auto picks and records why")
    chunk_stride: int | None = _f(None, "chunks: tokens shared by consecutive windows (default: max_length // 4)",
                                  min=0, max=1_000_000)
    max_chunks_per_text: int = _f(8, "chunks: at most this many windows per text in training", min=1, max=10_000)
    language_strategy: Literal["multilingual", "per_language"] = _f(
        "multilingual", "one model for all languages, or one per language with enough examples")
    report_to: list[str] = _f([], "experiment trackers to log to: tensorboard, trackio, mlflow "
                                  "(pip install 'llm-tool[tracking]')")
    auto: list[str] | None = _f(None, "settings chosen automatically from model and data size (filled in when "
                                      "the session is created: those the config leaves out or sets to \"auto\")")

    def __post_init__(self) -> None:
        check_ranges(self, "model_config")
        if self.time_budget is not None:
            parse_duration(self.time_budget)
        if self.auto is not None and any(key not in AUTO_KEYS for key in self.auto):
            raise ConfigError(f"model_config.auto may name only {', '.join(AUTO_KEYS)}")
        name = self.selected_model
        if not name.strip() or len(name) > 1024 or "\x00" in name or any(len(p) > 255 for p in name.split("/")):
            raise ConfigError(f"model_config.selected_model {quoted(name, 80)} is not a model id or folder path "
                              "(at most 1024 characters, 255 per folder name): fix the name")
        if self.chunk_stride is not None and self.max_length is not None and self.chunk_stride >= self.max_length - 2:
            raise ConfigError(f"model_config.chunk_stride ({self.chunk_stride}) must be below max_length minus its "
                              f"special tokens ({self.max_length} - 2): lower chunk_stride (default max_length // 4)")
        unknown = [t for t in self.report_to if t not in TRACKERS]
        if unknown:
            raise ConfigError(f"model_config.report_to may name only {', '.join(TRACKERS)}, got {quoted(unknown[0])}")
        if isinstance(self.class_weights, str) and self.class_weights not in ("none", "balanced"):
            raise ConfigError("model_config.class_weights must be 'none', 'balanced' or {label: weight}")
        if isinstance(self.class_weights, dict):
            for label, weight in self.class_weights.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not \
                        (math.isfinite(weight) and 0 < weight <= 1e6):
                    raise ConfigError(f"model_config.class_weights['{shown(label, 80)}'] must be a number above 0 "
                                      f"(at most 1e6), got {quoted(weight)}")

    def record(self) -> dict[str, Any]:
        """The section as a saved session records it before the run: the settings the run will choose are written
        "auto", never the field default that would stand in for them (the run records the value and reason)."""
        out = dataclasses.asdict(self)
        out.update(dict.fromkeys(self.auto or [], AUTO))
        return out


@dataclass(frozen=True)
class TrainingConfig:
    dataset: DatasetConfig
    model: ModelConfig

    def to_sections(self) -> dict[str, dict[str, Any]]:
        return {"dataset_config": dataclasses.asdict(self.dataset), "model_config": self.model.record()}


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
    given = data.get("model_config") or {}
    marked = marked_auto(given) if isinstance(given, dict) else []  # "auto": chosen at the start, like a missing key
    settings = {k: v for k, v in given.items() if k not in marked} if marked else given
    if is_metadata and isinstance(settings, dict) and "long_text" not in settings:
        settings = {**settings, "long_text": "truncate"}  # a session from before long_text truncated: it still does
    model = build(ModelConfig, settings, "model_config", ignored=MODEL_RECORDED_KEYS)
    if model.auto is None and isinstance(given, dict):  # what the config leaves out is chosen at the start
        model = dataclasses.replace(model, auto=auto_keys(given))
    elif model.auto is not None and any(key not in model.auto for key in marked):
        model = dataclasses.replace(model, auto=[*model.auto, *(k for k in marked if k not in model.auto)])
    return TrainingConfig(dataset=dataset, model=model)


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a config JSON file (a regular UTF-8 file, bounded in size and depth); errors name the file and line."""
    data = read_json_file(path, ConfigError, what="config file")
    if not isinstance(data, dict):
        raise ConfigError(f"{shown(str(path))} must hold a JSON object")
    return data
