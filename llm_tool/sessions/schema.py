"""The typed, versioned session metadata: one section per concern; unknown fields are kept on write."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, get_args

SCHEMA_VERSION = 3
# Version history:
#   1: the reference tool's format (no schema_version; status pending/running/completed/failed).
#   2: llm-tool: schema_version, parent session, notes, environment, liveness fields, data fingerprint.
#   3: model_config writes "auto" for a setting the run will choose (listed in model_config.auto) until the run
#      records the value and its reason (auto_settings); version 2 wrote the field default there, which the run
#      always replaced: a reader takes the ``auto`` list, not that number (config.auto.auto_state).
Status = Literal["pending", "running", "completed", "failed", "interrupted"]
STATUSES: tuple[Status, ...] = get_args(Status)
FINAL_STATUSES: tuple[Status, ...] = ("completed", "failed", "interrupted")

S = TypeVar("S", bound="Section")


@dataclass
class Section:
    """A metadata section: known fields typed, anything else preserved in ``extra``."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    NAME: ClassVar[str] = ""

    @classmethod
    def from_dict(cls: type[S], data: Any) -> S:
        if not isinstance(data, dict):
            data = {}
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names}
        return cls(extra=extra, **known)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **out}


@dataclass
class TrainingSessionInfo(Section):
    timestamp: str = ""
    tool_version: str = ""
    workflow: str = ""
    session_id: str = ""
    schema_version: int = 1
    session_name: str | None = None
    parent_session: str | None = None
    sweep_id: str | None = None
    imported_from: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ExecutionStatus(Section):
    status: Status = "pending"  # written only by llm_tool.sessions.transitions
    started_at: str | None = None
    completed_at: str | None = None
    error_message: str | None = None
    interrupt_reason: str | None = None
    models_trained: list[str] = field(default_factory=list)
    best_model: str | None = None
    best_f1: float | None = None
    test_f1: float | None = None
    current_epoch: float | None = None
    current_step: int | None = None
    total_steps: int | None = None
    latest_loss: float | None = None
    last_checkpoint: str | None = None
    pid: int | None = None
    pid_create_time: float | None = None
    host: str | None = None
    heartbeat: str | None = None
    attempt: int | None = None
    exit_code: int | None = None
    duration_seconds: float | None = None
    train_samples_per_second: float | None = None


@dataclass
class OutputPaths(Section):
    models_dir: str | None = None
    model_dir: str | None = None
    checkpoints_dir: str | None = None
    logs_dir: str | None = None
    log_file: str | None = None
    metrics_file: str | None = None


@dataclass
class LanguageConfig(Section):
    confirmed_languages: list[str] = field(default_factory=list)
    language_distribution: dict[str, int] = field(default_factory=dict)
    model_strategy: str | None = None
    detected_on_rows: int | None = None


@dataclass
class TextAnalysis(Section):
    text_length_stats: dict[str, float] = field(default_factory=dict)
    requires_long_document_model: bool | None = None


@dataclass
class Environment(Section):
    python: str | None = None
    torch: str | None = None
    transformers: str | None = None
    datasets: str | None = None
    device: str | None = None
    num_threads: int | None = None
    world_size: int | None = None
    platform: str | None = None
    precision: str | None = None  # what the run used (fp32/bf16/fp16): a resume keeps it
    attention: str | None = None  # attention kernels (sdpa/eager): a resume keeps them
    word_embeddings: str | None = None  # train/frozen: a resume keeps it (the optimizer state depends on it)
    dropout: str | None = None  # model/off: a resume keeps it


@dataclass
class SessionMetadata:
    """A whole metadata file. ``dataset_config``/``model_config`` stay raw dicts: llm_tool.config types them."""

    training_session: TrainingSessionInfo = field(default_factory=TrainingSessionInfo)
    dataset_config: dict[str, Any] = field(default_factory=dict)
    language_config: LanguageConfig = field(default_factory=LanguageConfig)
    text_analysis: TextAnalysis = field(default_factory=TextAnalysis)
    model_config: dict[str, Any] = field(default_factory=dict)
    execution_status: ExecutionStatus = field(default_factory=ExecutionStatus)
    output_paths: OutputPaths = field(default_factory=OutputPaths)
    environment: Environment = field(default_factory=Environment)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    _SECTIONS: ClassVar[dict[str, type[Section]]] = {
        "training_session": TrainingSessionInfo,
        "language_config": LanguageConfig,
        "text_analysis": TextAnalysis,
        "execution_status": ExecutionStatus,
        "output_paths": OutputPaths,
        "environment": Environment,
    }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionMetadata:
        """Read any version: missing sections get defaults, unknown top-level keys are kept."""
        data = migrate(dict(data))
        kwargs: dict[str, Any] = {}
        for name, section_cls in cls._SECTIONS.items():
            kwargs[name] = section_cls.from_dict(data.get(name))
        for name in ("dataset_config", "model_config"):
            value = data.get(name)
            kwargs[name] = dict(value) if isinstance(value, dict) else {}
        known = set(cls._SECTIONS) | {"dataset_config", "model_config"}
        kwargs["extra"] = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["training_session"] = self.training_session.to_dict()
        out["dataset_config"] = self.dataset_config
        out["language_config"] = self.language_config.to_dict()
        out["text_analysis"] = self.text_analysis.to_dict()
        out["model_config"] = self.model_config
        out["execution_status"] = self.execution_status.to_dict()
        out["output_paths"] = self.output_paths.to_dict()
        out["environment"] = self.environment.to_dict()
        return out

    @property
    def session_id(self) -> str:
        return self.training_session.session_id

    @property
    def status(self) -> Status:
        return self.execution_status.status


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to SCHEMA_VERSION in memory (the file itself is rewritten only on update)."""
    info = data.get("training_session")
    if not isinstance(info, dict):
        info = {}
    version = info.get("schema_version", 1)
    status = data.get("execution_status")
    if isinstance(status, dict) and status.get("status", "pending") not in STATUSES:
        # typed on read: a status other than the five (another tool's, a damaged file) reads as pending;
        # what the file said stays visible (never used)
        recorded = status.get("status")
        data["execution_status"] = {**status, "status": "pending", "recorded_status": str(recorded)[:200]}
    if not isinstance(version, int) or isinstance(version, bool) or version < 2:
        info = {**info, "schema_version": SCHEMA_VERSION}
        data["training_session"] = info
    return data
