"""`llm-tool benchmark CONFIG --language-strategies multilingual,per_language`: both language strategies of a
tasks run trained on the same split, and compared on the same test rows. Never prompts.

The benchmark's parent session (workflow `benchmark`) has one child per strategy, each a normal tasks parent
(`sweeps/tasks_run.py`) with its own children; every one of those children is a job of one sweep (kind `benchmark`,
started through the sweep seam in tmux or on Slurm). Once they end, the comparison
(`results/strategy_comparison.py`) is recorded on the benchmark's parent, with each task's per-row answers in
``models/<parent id>/language_strategies/<task>.csv``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.config import parse_config
from llm_tool.errors import ConfigError, DatasetError
from llm_tool.results.strategy_comparison import STRATEGIES
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.spec import JobPlan, SweepSpec
from llm_tool.sweeps.strategy_record import STRATEGY_KEY
from llm_tool.sweeps.tasks_run import LANGUAGE_KEY, TASK_KEY, TasksPlan, plan_tasks

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.sweeps.seam import Place, StartOutcome
    from llm_tool.sweeps.start_stop import SweepPlan
    from llm_tool.sweeps.state import SweepStore



def parse_strategies(text: str) -> list[str]:
    """``multilingual,per_language`` as a list; anything else is a one-line error naming the fix."""
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown:
        raise ConfigError(f"--language-strategies: unknown strategy {unknown[0][:40]!r}: give "
                          f"{','.join(STRATEGIES)}")
    if sorted(set(names)) != sorted(STRATEGIES) or len(names) != len(STRATEGIES):
        raise ConfigError(f"--language-strategies compares both strategies, each once: give {','.join(STRATEGIES)}")
    return names


def _tasks_config(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """``raw`` as a tasks run's config: a plain single-label ``label_column`` becomes a one-task ``label_columns``;
    the split seed is fixed, so both strategies split the texts the same way."""
    base = copy.deepcopy(raw)
    dataset, model = base.setdefault("dataset_config", {}), base.setdefault("model_config", {})
    if not isinstance(dataset, dict) or not isinstance(model, dict):
        raise ConfigError(f"{source}: dataset_config and model_config must be objects")
    config = parse_config(base, source=source)
    cfg = config.dataset
    if not (cfg.annotation_column or cfg.label_columns):
        if cfg.strategy != "single-label":
            raise ConfigError(f"{source}: --language-strategies needs tasks: name the label columns with "
                              "dataset_config.label_columns (one is enough) or an annotation_column")
        dataset["label_columns"] = [cfg.label_column]
    if dataset.get("split_seed") is None:
        dataset["split_seed"] = config.model.seed
    model["training_mode"] = "benchmark"
    return base


@dataclass(frozen=True)
class StrategiesPlan:
    """Both arms planned (every child config validated, the languages found); nothing created yet."""

    base: dict[str, Any]
    base_dir: Path
    source: str
    arms: dict[str, TasksPlan]
    model: str


def plan_strategies(raw: dict[str, Any], strategies: list[str], *, base_dir: Path,
                    source: str = "benchmark") -> StrategiesPlan:
    """Each strategy's tasks run on ``raw``; a per_language arm with no language of its own is refused."""
    base = _tasks_config(raw, source)
    arms = {}
    for strategy in strategies:
        arm = copy.deepcopy(base)
        arm["model_config"]["language_strategy"] = strategy
        arms[strategy] = plan_tasks(arm, base_dir)
    languages = arms["per_language"].languages
    if languages is None or not any(spec.language for spec in languages.children):
        why = "; ".join(f"{s.task} in {s.language}: {s.reason}" for s in (languages.skipped if languages else []))
        hint = "set dataset_config.language_column to the column giving each text's language" if not \
            parse_config(base).dataset.language_column else "add annotated rows"
        raise DatasetError(f"{source}: per_language would train no model of its own (" +
                           (why[:300] if why else "no text has a known language") + f"): {hint}")
    model = parse_config(base, source=source).model.selected_model
    return StrategiesPlan(base, base_dir, source, arms, model)


def _title(strategy: str, task: str, language: str | None) -> str:
    from llm_tool.sweeps.naming import clean_title

    return clean_title(f"{strategy}-{task}" + (f"-{language.lower()}" if language else ""))


def sweep_spec(plan: StrategiesPlan, sessions: dict[str, list[Path]] | None = None,
               parent: Any = None) -> SweepSpec:
    """The sweep: one job per child of each arm (grouped by strategy: one tmux window each), on the sessions
    created for them when ``sessions`` ({strategy: child files in order}) is given."""
    jobs: list[JobPlan] = []
    for strategy, arm in plan.arms.items():
        for n, (info, child) in enumerate(zip(arm.tasks, arm.children, strict=True)):
            language = (child.get("dataset_config") or {}).get("language")
            overrides = {STRATEGY_KEY: strategy, TASK_KEY: info.name, **({LANGUAGE_KEY: language} if language else {})}
            jobs.append(JobPlan(number=len(jobs) + 1, overrides=overrides, raw=child,
                                title=_title(strategy, info.name, language), group=strategy,
                                session=sessions[strategy][n] if sessions else None))
    return SweepSpec(source=plan.source, base=plan.base, base_dir=plan.base_dir, jobs=jobs, kind="benchmark",
                     group_by=STRATEGY_KEY, models=[plan.model], parent=parent,
                     options={"language_strategies": list(plan.arms)})


@dataclass
class CreatedStrategies:
    """The benchmark's parent and each arm's tasks parent (with their children), all pending."""

    path: Path
    session_id: str
    arms: dict[str, Any] = field(default_factory=dict)  # strategy -> TasksRun


def create(store: SessionStore, plan: StrategiesPlan, name: str) -> CreatedStrategies:
    """The benchmark's parent, then each strategy's tasks run under it (all or nothing)."""
    from llm_tool.sweeps import benchmark
    from llm_tool.sweeps.tasks_run import create_run

    path, sid = benchmark.create_parent(store, plan.base, base_dir=plan.base_dir, name=name, models=[plan.model])
    made = CreatedStrategies(path, sid)
    try:
        for strategy, arm in plan.arms.items():
            made.arms[strategy] = create_run(store, arm, session_name=f"{name}-{strategy}"[:100], parent=sid)

        def record(meta: SessionMetadata) -> None:
            meta.training_session.extra[benchmark.CHILDREN_KEY] = [run.session_id for run in made.arms.values()]
            info = meta.extra.setdefault("benchmark", {})
            info["language_strategies"] = {s: run.session_id for s, run in made.arms.items()}
            info["ranked_by"] = ("test macro-F1 of each strategy on the same test rows; paired bootstrap 95% interval "
                                 "of the difference per_language - multilingual")
        store.update(path, record)
    except BaseException:
        delete(store, made)
        raise
    return made


def delete(store: SessionStore, made: CreatedStrategies) -> None:
    """Undo :func:`create` (the children, the arms, the parent)."""
    for run in made.arms.values():
        for entry in run.children:
            store.delete(store.path_for_id(entry.session_id))
        store.delete(run.path)
    store.delete(made.path)


def start(plan: StrategiesPlan, place: Place, *, planned: SweepPlan, slurm: SlurmOptions | None = None,
          sweeps: SweepStore | None = None, store: SessionStore | None = None) -> StartOutcome:
    """Create the sessions and start every child of both arms as one sweep (a fresh one: never appended)."""
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.state import ParentSession, SweepError

    if planned.appending:
        raise SweepError(f"a sweep named {planned.name} already exists: choose another --name")
    store = store or SessionStore(sweeps.home if sweeps else None)
    made = create(store, plan, planned.name)
    try:
        sessions = {s: [store.path_for_id(e.session_id) for e in run.children] for s, run in made.arms.items()}
        spec = sweep_spec(plan, sessions, ParentSession(session_id=made.session_id, session_file=str(made.path)))
        jobs = [dataclasses.replace(job, session=new.session) for job, new in zip(planned.jobs, spec.jobs,
                                                                                    strict=True)]
        return seam.start(spec, place, planned=dataclasses.replace(planned, jobs=jobs), slurm=slurm,
                          sweeps=sweeps, store=store)
    except BaseException:
        delete(store, made)
        raise
