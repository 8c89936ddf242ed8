"""Sweep files: `{"base": CONFIG, "grid": {...}}` or `{"base": CONFIG, "jobs": [...]}`, every job validated up front."""

from __future__ import annotations

import copy
import difflib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.config import apply_overrides, load_config_file, parse_config
from llm_tool.config.overrides import set_dotted
from llm_tool.config.schema import SETTING_SECTIONS, ModelConfig
from llm_tool.errors import ConfigError, DatasetError
from llm_tool.sweeps.state_schema import ParentSession, SweepKind

DEFAULT_GROUP_BY = "model_config.selected_model"
DEFAULT_MAX_PANES = 4
MAX_JOBS = 500
SWEEP_KEYS = ("base", "grid", "jobs", "name", "group_by", "max_panes_per_window", "max_parallel", "max_retries",
              "seeds")
MODEL_KEY = "model_config.selected_model"
SEED_KEY = "model_config.seed"
MAX_SEEDS = 50
FUNCTION_KEY = "function"  # a sweep job's `pkg.mod:fn` (the Python API's function jobs), in its extra fields


@dataclass
class JobPlan:
    """One job of a sweep: its overrides of the base config and the full config they give."""

    number: int
    overrides: dict[str, Any]
    raw: dict[str, Any]
    title: str = ""
    group: str = ""
    window: str = ""
    session: Path | None = None  # a session that exists already (a tasks run's child): run it, create none
    resume: bool = False  # with ``session``: continue it from its last checkpoint
    function: str = ""  # a user function job (`pkg.mod:fn`): ``overrides`` is its JSON config, ``raw`` the base


@dataclass
class SweepSpec:
    """A validated sweep: the base config (relative paths taken from ``base_dir``) and its jobs."""

    source: str
    base: dict[str, Any]
    base_dir: Path
    jobs: list[JobPlan] = field(default_factory=list)
    kind: SweepKind = "sweep"
    name: str | None = None
    group_by: str | None = DEFAULT_GROUP_BY
    max_panes_per_window: int = DEFAULT_MAX_PANES
    max_parallel: int | None = None
    max_retries: int = 0
    models: list[str] = field(default_factory=list)  # benchmark candidates
    parent: ParentSession | None = None  # a tasks run: its parent session (the jobs are its children)
    options: dict[str, Any] = field(default_factory=dict)  # kind-specific settings (curve: per_class)


def describe(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items()) or "the base config"


def _check_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or "." not in key or any(not p for p in key.split(".")):
        raise ConfigError(f"{where}: {key!r} is not a dotted setting such as model_config.learning_rate")
    section = key.split(".", 1)[0]
    if section not in SETTING_SECTIONS:
        raise ConfigError(f"{where}: {key!r} must start with {' or '.join(SETTING_SECTIONS)}")
    return key


def _flatten(entry: Any, where: str) -> dict[str, Any]:
    """A job's overrides as dotted keys; `{"model_config": {"epochs": 2}}` is accepted too."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be an object of settings, e.g. {{\"model_config.learning_rate\": 2e-5}}")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in SETTING_SECTIONS and isinstance(value, dict):
            for inner, inner_value in value.items():
                out[_check_key(f"{key}.{inner}", where)] = inner_value
        else:
            out[_check_key(key, where)] = value
    return out


def _grid_jobs(grid: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{source}: 'grid' must be an object of setting -> list of values")
    keys = [_check_key(k, f"{source} grid") for k in grid]
    for key in keys:
        values = grid[key]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{source}: grid '{key}' must be a non-empty list of values, got {values!r}")
    total = 1
    for key in keys:
        total *= len(grid[key])
    if total > MAX_JOBS:
        raise ConfigError(f"{source}: the grid gives {total} jobs (at most {MAX_JOBS}): use fewer values")
    return [dict(zip(keys, combo, strict=False)) for combo in itertools.product(*(grid[k] for k in keys))]


def _base(data: dict[str, Any], base_dir: Path, source: str) -> tuple[dict[str, Any], Path]:
    base = data.get("base")
    if isinstance(base, str) and base.strip():
        path = Path(base).expanduser()
        path = (path if path.is_absolute() else base_dir / path).resolve()
        return load_config_file(path), path.parent
    if isinstance(base, dict):
        return copy.deepcopy(base), base_dir
    raise ConfigError(f"{source}: 'base' must be a config object or the path of a config file")


def _int_option(data: dict[str, Any], key: str, source: str, *, minimum: int, maximum: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{source}: '{key}' must be a whole number from {minimum} to {maximum}, got {value!r}")
    return value


def with_seeds(base: dict[str, Any], entries: list[dict[str, Any]], seeds: int | None,
               source: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each entry once per seed (``model_config.seed`` = base seed + k), the data split fixed for all of them
    (``dataset_config.split_seed`` = the base's split seed, else its model seed), so test rows align."""
    if seeds is None or seeds == 1:
        return base, entries
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError(f"{source}: seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
    if any(SEED_KEY in entry for entry in entries):
        raise ConfigError(f"{source}: the jobs set {SEED_KEY} and seeds is {seeds}: use one or the other")
    base = copy.deepcopy(base)
    model, dataset = base.setdefault("model_config", {}), base.setdefault("dataset_config", {})
    if not isinstance(model, dict) or not isinstance(dataset, dict):
        raise ConfigError(f"{source}: model_config and dataset_config must be objects")
    first = model.get("seed", ModelConfig.__dataclass_fields__["seed"].default)
    if isinstance(first, bool) or not isinstance(first, int):
        raise ConfigError(f"{source}: model_config.seed must be a whole number, got {first!r}")
    if dataset.get("split_seed") is None:
        dataset["split_seed"] = first
    out = [{**entry, SEED_KEY: first + k} for entry in entries for k in range(seeds)]
    if len(out) > MAX_JOBS:
        raise ConfigError(f"{source}: {len(entries)} configurations x {seeds} seeds give {len(out)} jobs "
                          f"(at most {MAX_JOBS}): use fewer")
    return base, out


def check_data_files(raw: dict[str, Any], base_dir: Path, where: str) -> None:
    dataset = raw.get("dataset_config") or {}
    for key in ("primary_file", "validation_file", "test_file"):
        value = dataset.get(key)
        if not value:
            continue
        path = Path(str(value)).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise DatasetError(f"{where}: the data file {path} does not exist: fix dataset_config.{key}")


def build_jobs(base: dict[str, Any], entries: list[dict[str, Any]], base_dir: Path, source: str) -> list[JobPlan]:
    """Apply each job's overrides to the base and validate the result (the first error stops everything)."""
    jobs: list[JobPlan] = []
    seen: dict[str, int] = {}
    checked: set[str] = set()
    for number, overrides in enumerate(entries, start=1):
        where = f"{source}: job {number} ({describe(overrides)})"
        fingerprint = json.dumps(overrides, sort_keys=True, default=str)
        if fingerprint in seen:
            raise ConfigError(f"{where} repeats job {seen[fingerprint]}: remove one")
        seen[fingerprint] = number
        raw = copy.deepcopy(base)
        for key, value in overrides.items():
            set_dotted(raw, key.split("."), value)
        try:
            parse_config(raw, source=where)
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(message if message.startswith(where) else f"{where}: {message}") from None
        files = json.dumps([(raw.get("dataset_config") or {}).get(k) for k in ("primary_file", "validation_file",
                                                                               "test_file")])
        if files not in checked:
            check_data_files(raw, base_dir, where)
            checked.add(files)
        jobs.append(JobPlan(number=number, overrides=overrides, raw=raw))
    return jobs


def parse_sweep(data: Any, *, base_dir: Path, source: str = "sweep file", sets: list[str] | None = None,
                seeds: int | None = None) -> SweepSpec:
    """Validate a sweep mapping; ``sets`` (`--set` options) change the base before the jobs are built, ``seeds``
    (`--seeds`) replaces the file's ``seeds``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object with 'base' and 'grid' or 'jobs'")
    for key in data:
        if key not in SWEEP_KEYS:
            close = difflib.get_close_matches(str(key), SWEEP_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; expected {', '.join(SWEEP_KEYS)}"
            raise ConfigError(f"{source}: unknown key '{key}'{hint}")
    if "base" not in data:
        raise ConfigError(f"{source} has no 'base' (a config object or the path of a config file)")
    if ("grid" in data) == ("jobs" in data):
        raise ConfigError(f"{source} needs exactly one of 'grid' (a cross product) or 'jobs' (a list of overrides)")
    base, folder = _base(data, base_dir, source)
    base = apply_overrides(base, sets or [])
    if "grid" in data:
        entries = _grid_jobs(data["grid"], source)
    else:
        raw_jobs = data["jobs"]
        if not isinstance(raw_jobs, list) or not raw_jobs:
            raise ConfigError(f"{source}: 'jobs' must be a non-empty list of override objects")
        if len(raw_jobs) > MAX_JOBS:
            raise ConfigError(f"{source}: {len(raw_jobs)} jobs (at most {MAX_JOBS})")
        entries = [_flatten(entry, f"{source}: job {n}") for n, entry in enumerate(raw_jobs, start=1)]
    base, entries = with_seeds(base, entries, seeds if seeds is not None else data.get("seeds"), source)
    group_by = data.get("group_by", DEFAULT_GROUP_BY)
    group_by = None if group_by in ("", "none", None) else _check_key(group_by, f"{source} group_by")
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigError(f"{source}: 'name' must be a non-empty text")
    panes = _int_option(data, "max_panes_per_window", source, minimum=1, maximum=16) or DEFAULT_MAX_PANES
    parallel = _int_option(data, "max_parallel", source, minimum=1, maximum=256)
    retries = _int_option(data, "max_retries", source, minimum=0, maximum=20) or 0
    return SweepSpec(source=source, base=base, base_dir=folder, jobs=build_jobs(base, entries, folder, source),
                     name=name, group_by=group_by, max_panes_per_window=panes, max_parallel=parallel,
                     max_retries=retries)


def load_sweep_file(path: Path, sets: list[str] | None = None, seeds: int | None = None) -> SweepSpec:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"sweep file not found: {path}")
    return parse_sweep(load_config_file(path), base_dir=path.parent, source=path.name, sets=sets, seeds=seeds)


def benchmark_from_config(raw: dict[str, Any], models: list[str], *, base_dir: Path,
                          source: str = "benchmark", seeds: int | None = None) -> SweepSpec:
    """One job per candidate model (and seed) on the same base config: same data, same split and seeds for all.

    ``raw`` is a config mapping (relative paths taken from ``base_dir``), e.g. the wizard's answers."""
    cleaned = [m.strip() for m in models if m and m.strip()]
    if not cleaned:
        raise ConfigError("give the candidate models: llm-tool benchmark CONFIG --models A B [...]")
    duplicates = sorted({m for m in cleaned if cleaned.count(m) > 1})
    if duplicates:
        raise ConfigError(f"--models lists {', '.join(duplicates)} more than once")
    base = copy.deepcopy(raw)
    base.setdefault("model_config", {})
    if not isinstance(base["model_config"], dict):
        raise ConfigError(f"{source}: model_config must be an object")
    base["model_config"]["training_mode"] = "benchmark"
    base, entries = with_seeds(base, [{MODEL_KEY: model} for model in cleaned], seeds, source)
    jobs = build_jobs(base, entries, base_dir, source)
    return SweepSpec(source=source, base=base, base_dir=base_dir, jobs=jobs, kind="benchmark", group_by=MODEL_KEY,
                     models=cleaned)


def benchmark_spec(config_path: Path, models: list[str], sets: list[str] | None = None,
                   seeds: int | None = None) -> SweepSpec:
    """``benchmark_from_config`` of a config file (with `--set` overrides and `--seeds`)."""
    path = config_path.expanduser().resolve()
    base = apply_overrides(load_config_file(path), sets or [])
    return benchmark_from_config(base, models, base_dir=path.parent, source=path.name, seeds=seeds)
