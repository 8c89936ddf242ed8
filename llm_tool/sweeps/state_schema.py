"""The typed sweep state: one section per concern, types checked on read, unknown fields kept on write."""

from __future__ import annotations

import dataclasses
import re
import types
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from llm_tool.errors import SessionError

STATE_VERSION = 1
# Version history:
#   1: the first sweep state (schema_version 1); still the format written (new optional keys only).
JobStatus = Literal["queued", "running", "completed", "failed", "interrupted", "cancelled"]
FinalJobStatus = Literal["completed", "failed", "interrupted", "cancelled"]
SweepStatus = Literal["running", "finished", "stopping", "stopped"]
SweepKind = Literal["sweep", "benchmark", "tasks", "curve"]
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
FINAL_JOB_STATUSES: tuple[str, ...] = get_args(FinalJobStatus)
SWEEP_STATES: tuple[str, ...] = get_args(SweepStatus)

S = TypeVar("S", bound="StateSection")


class SweepError(SessionError):
    """A sweep cannot be found, read or acted on (one line, exit code 2)."""


class SchemaError(ValueError):
    """A value of the state file has the wrong type (the message names where)."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


def _safe(text: str) -> str:
    """A key from the file, fit to appear in a one-line message (no markup, no control characters)."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "?", text)[:40]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if _safe(value) == value else "a string"  # shown only when harmless
    return "a list" if isinstance(value, list) else "an object"


def _expected(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_expected(a) for a in get_args(tp))
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, StateSection):
        return "an object"
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false", list: "a list",
             dict: "an object"}
    return names.get(origin or tp, str(tp))


def check(value: Any, tp: Any, where: str) -> Any:
    """``value`` as type ``tp`` (sections parsed); SchemaError when it does not fit."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        for option in get_args(tp):
            try:
                return check(value, option, where)
            except SchemaError as exc:
                if exc.where != where:  # the value is of this option's kind, but wrong inside: say where
                    raise
    elif origin is Literal:
        if isinstance(value, str) and value in get_args(tp):
            return value
    elif isinstance(tp, type) and issubclass(tp, StateSection):
        if isinstance(value, dict):
            return tp.from_dict(value, where=where)
    elif origin is list:
        if isinstance(value, list):
            (item,) = get_args(tp)
            return [check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            _, item = get_args(tp)
            return {str(k): check(v, item, f"{where}.{_safe(str(k))}") for k, v in value.items()}
    elif tp is type(None):
        if value is None:
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise SchemaError(f"{where} is {_json_type(value)}, expected {_expected(tp)}", where)


_HINTS: dict[str, dict[str, Any]] = {}


def _hints(cls: type[StateSection]) -> dict[str, Any]:
    """The typed fields of a section (its annotations resolved once)."""
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key not in _HINTS:
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        _HINTS[key] = {k: v for k, v in get_type_hints(cls).items() if k in names}
    return _HINTS[key]


def _dump(value: Any) -> Any:
    if isinstance(value, StateSection):
        return value.to_dict()
    if isinstance(value, list):
        return [v.to_dict() if isinstance(v, StateSection) else v for v in value]
    if isinstance(value, dict):
        return {k: v.to_dict() if isinstance(v, StateSection) else v for k, v in value.items()}
    return value


@dataclass
class StateSection:
    """A part of the state file: known fields typed and checked, anything else preserved in ``extra``."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_dict(cls: type[S], data: dict[str, Any], *, where: str = "the state") -> S:
        hints = _hints(cls)
        missing = [k for k in cls.REQUIRED if k not in data]
        if missing:
            raise SchemaError(f"{where} has no {missing[0]!r}", where + ".")
        known = {k: check(v, hints[k], f"{where}.{k}" if where != "the state" else k)
                 for k, v in data.items() if k in hints}
        return cls(extra={k: v for k, v in data.items() if k not in hints}, **known)

    def to_dict(self) -> dict[str, Any]:
        out = {name: _dump(getattr(self, name)) for name in _hints(type(self))}
        return {**self.extra, **out}


@dataclass
class PaneRef(StateSection):
    """The control window of the sweep's tmux session (window 0)."""

    window_id: str | None = None
    pane_id: str | None = None


@dataclass
class SchedulerInfo(StateSection):
    """The scheduler's pane and process; ``ended`` once it decided (under the lock) that every job is final."""

    pane_id: str | None = None
    pid: int | None = None
    started_at: str | None = None
    ended: bool | None = None


@dataclass
class WindowInfo(StateSection):
    window_id: str | None = None
    group: str | None = None


@dataclass
class ParentSession(StateSection):
    """A benchmark's (or a tasks run's) parent session."""

    session_id: str = ""
    session_file: str = ""
    REQUIRED: ClassVar[tuple[str, ...]] = ("session_id", "session_file")


@dataclass
class SweepSource(StateSection):
    """One `sweep start` that added jobs: its sweep file (or source) and how many jobs."""

    file: str = ""
    added_at: str | None = None
    jobs: int = 0


@dataclass
class SweepJob(StateSection):
    """One training of the sweep: its session, where it runs (window, pane, GPU) and its status."""

    key: str = ""
    number: int = 0
    title: str = ""
    group: str = ""
    window: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    session_id: str = ""
    session_file: str = ""
    start_dir: str | None = None
    status: JobStatus = "queued"
    pane_id: str | None = None
    window_id: str | None = None
    gpu: str | None = None
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    started_ts: float | None = None
    finished_ts: float | None = None
    exit_code: int | None = None
    stop_requested: bool = False
    resume: bool = False
    reason: str | None = None
    REQUIRED: ClassVar[tuple[str, ...]] = ("key", "number", "title", "window", "session_id", "session_file")


@dataclass
class SweepState(StateSection):
    """A whole sweep state file `logs/sweeps/<name>.json`."""

    name: str = ""
    kind: SweepKind = "sweep"
    tmux_session: str = ""
    socket: str | None = None
    home: str = ""
    created_at: str | None = None
    updated_at: str | None = None
    finished_at: str | None = None
    state: SweepStatus = "running"
    max_parallel: int = 1
    max_panes_per_window: int = 4
    group_by: str | None = None
    max_retries: int = 0
    gpus: list[str] = field(default_factory=list)
    sources: list[SweepSource] = field(default_factory=list)
    parent_session: ParentSession | None = None
    control: PaneRef = field(default_factory=PaneRef)
    scheduler: SchedulerInfo = field(default_factory=SchedulerInfo)
    windows: dict[str, WindowInfo] = field(default_factory=dict)
    jobs: list[SweepJob] = field(default_factory=list)
    max_running_seen: int = 0
    schema_version: int = STATE_VERSION
    REQUIRED: ClassVar[tuple[str, ...]] = ("name", "tmux_session", "jobs")

    @classmethod
    def parse(cls, data: Any) -> SweepState:
        """Any version of the file's JSON (1 today); SchemaError naming the first value that does not fit."""
        if not isinstance(data, dict):
            raise SchemaError(f"it holds {_json_type(data)}, not a sweep state object", "")
        return cls.from_dict(data)

    def job(self, key: str) -> SweepJob:
        for job in self.jobs:
            if job.key == key:
                return job
        raise SweepError(f"sweep {self.name} has no job {_safe(key)}")
