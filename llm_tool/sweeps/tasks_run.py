"""A tasks run: one parent session (workflow `tasks`) and one child session per task, run one after another here
or side by side as a sweep (tmux or Slurm) whose jobs are the children. Never prompts.

`llm-tool train` on a config naming several tasks, `sessions resume/relaunch` of a parent and the Training Studio
call these functions; each child runs through the launch seam (here) or the sweep seam (tmux, Slurm) like any
session, and the parent's table follows them (:mod:`llm_tool.sessions.task_status`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.atomic import file_lock
from llm_tool.config import parse_config
from llm_tool.config.slurm import SECTION as SLURM_SECTION
from llm_tool.errors import ConfigError, LlmToolError, SessionError
from llm_tool.sessions.create import create_pending
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import WORKFLOW, TaskEntry, is_tasks_parent, task_entries, write_task_entries
from llm_tool.sessions.task_status import CHILD_WORKFLOW, ChildNow, children_now, sync_parent

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.data.languages_plan import LanguagePlan
    from llm_tool.data.tasks import TaskInfo
    from llm_tool.dispatch.seam import LaunchOutcome
    from llm_tool.sweeps.seam import Place, StartOutcome

SWEEP_KEY = "sweep"  # the parent's task table: the sweep its children ran in (tmux, Slurm)
TASK_KEY = "dataset_config.task"
LANGUAGE_KEY = "dataset_config.language"


@dataclass(frozen=True)
class TasksPlan:
    """What a tasks run trains: the parent's config, and one child config per task (validated, nothing created)."""

    raw: dict[str, Any]
    base_dir: Path
    tasks: list[TaskInfo]  # one per child (a task once per language with per_language)
    children: list[dict[str, Any]]
    languages: LanguagePlan | None = None  # each child's language (None: all) and the pairs skipped


@dataclass(frozen=True)
class TasksRun:
    """A created tasks run: the parent's file and id, and its children in task order."""

    path: Path
    session_id: str
    children: list[TaskEntry]


def is_multi_task_config(raw: dict[str, Any]) -> bool:
    """Whether a config trains several tasks (one child session each)."""
    from llm_tool.data.tasks import is_multi_task

    return is_multi_task(parse_config(raw).dataset)


def plan_tasks(raw: dict[str, Any], base_dir: Path) -> TasksPlan:
    """Read the data, find its tasks and make (and check) each child's config; creates nothing."""
    from llm_tool.data import tasks as data_tasks
    from llm_tool.data.languages_plan import plan_children

    config = parse_config(raw)
    infos = data_tasks.discover_tasks(config.dataset, base_dir)
    dataset = data_tasks.with_tasks(config.dataset, infos)
    languages = plan_children(dataset, infos, base_dir, config.model.language_strategy, seed=config.model.seed)
    children = []
    for spec in languages.children:
        child = {key: copy.deepcopy(value) for key, value in raw.items() if key != "dataset_config"}
        child["dataset_config"] = data_tasks.child_dataset_config(dataset, spec.task, spec.language)
        which = spec.task.name + (f" ({spec.language})" if spec.language else "")
        try:
            parse_config(child, source=f"task {which}")
        except ConfigError as exc:
            raise ConfigError(f"task {which}: {exc}") from None
        children.append(child)
    return TasksPlan(raw, base_dir, [spec.task for spec in languages.children], children, languages)


def _entry(info: TaskInfo, session_id: str, language: str | None = None) -> TaskEntry:
    if language:  # its rows are counted when its data is prepared
        return TaskEntry(task=info.name, session_id=session_id, language=language, multi_label=info.multi_label,
                         classes=list(info.classes))
    return TaskEntry(task=info.name, session_id=session_id, multi_label=info.multi_label,
                     classes=list(info.classes), rows_used=info.rows_annotated,
                     rows_not_annotated=info.rows_not_annotated)


def _child_language(child: dict[str, Any]) -> str | None:
    language = (child.get("dataset_config") or {}).get("language")
    return language if isinstance(language, str) and language else None


def create_run(store: SessionStore, plan: TasksPlan, *, session_name: str | None = None,
               parent: str | None = None) -> TasksRun:
    """The parent session and one pending child per task (named ``<parent name>-<task>``); all or nothing.
    ``parent``: the session this run relaunches."""
    made = create_pending(store, plan.raw, base_dir=plan.base_dir, session_name=session_name, parent=parent,
                          workflow=WORKFLOW)
    created, entries = [made.path], []
    stem = session_name or made.meta.session_id.replace("train_", "tasks_", 1)
    try:
        for info, child in zip(plan.tasks, plan.children, strict=True):
            language = _child_language(child)
            name = f"{stem}-{info.name}" + (f"-{language.lower()}" if language else "")
            kid = create_pending(store, child, base_dir=plan.base_dir, session_name=name[:100],
                                 parent=made.meta.session_id, workflow=CHILD_WORKFLOW)
            created.append(kid.path)
            entries.append(_entry(info, kid.meta.session_id, language))

        def record(meta: SessionMetadata) -> None:
            from llm_tool.data.languages_plan import table_fields

            fields = table_fields(plan.languages, list(entries)) if plan.languages is not None else {
                "language_strategy": plan.raw.get("model_config", {}).get("language_strategy", "multilingual")}
            write_task_entries(meta, entries, **fields)
            out = meta.output_paths  # trains nothing itself: no model folder of its own
            out.model_dir = out.checkpoints_dir = out.metrics_file = None
        store.update(made.path, record)
    except BaseException:
        for path in created:
            store.delete(path)
        raise
    return TasksRun(made.path, made.meta.session_id, entries)


def create_for_config(store: SessionStore, raw: dict[str, Any], *, base_dir: Path, workflow: str,
                      session_name: str | None = None) -> Path:
    """A new pending session for ``raw``: a tasks run's parent (children made too) when it names several tasks."""
    from llm_tool.sessions.create import create_session

    if is_multi_task_config(raw):
        return create_run(store, plan_tasks(raw, base_dir), session_name=session_name).path
    return create_session(store, raw, base_dir=base_dir, session_name=session_name, workflow=workflow)[0]


def _parent(store: SessionStore, path: Path) -> SessionMetadata:
    meta = store.read(path)
    if not is_tasks_parent(meta):
        raise SessionError(f"{meta.session_id} is not a tasks run (workflow {meta.training_session.workflow!r})")
    return meta


def unfinished(store: SessionStore, path: Path) -> list[ChildNow]:
    """The children still to run (not completed), in task order; refused while one of them runs."""
    children = children_now(store, _parent(store, path))
    missing = [c.entry.task for c in children if c.meta is None]
    if missing:
        raise SessionError(f"the child session of task(s) {', '.join(missing)} is gone: relaunch the parent "
                           "(`llm-tool sessions relaunch PARENT`) to train every task again")
    running = [c.entry.task for c in children if c.entry.status == "running"]
    if running:
        raise SessionError(f"task(s) {', '.join(running)} of this run are still running: wait for them or stop them")
    return [c for c in children if c.entry.status != "completed"]


def resumes(child: ChildNow) -> bool:
    """Whether a child continues from its last checkpoint (it ran before) or starts (still pending)."""
    return child.entry.status != "pending"


@dataclass(frozen=True)
class ForegroundOutcome:
    """How a run here ended: the children run (task -> outcome state) and the parent as recorded after it."""

    ran: dict[str, str]
    parent: SessionMetadata
    interrupted: bool


def run_here(store: SessionStore, path: Path,
             run_child: Callable[[ChildNow, bool], LaunchOutcome]) -> ForegroundOutcome:
    """Run the unfinished children one after another in this process (``run_child(child, resume)`` launches one
    through the launch seam); stops at the first interrupted one. The parent counts as running meanwhile."""
    sid = _parent(store, path).session_id
    ran: dict[str, str] = {}
    with file_lock(store.run_lock_path(sid), blocking=False) as got:
        if not got:
            raise SessionError(f"{sid} is already running in another process")
        for child in unfinished(store, path):
            try:
                outcome = run_child(child, resumes(child))
            except LlmToolError as exc:  # this task failed (recorded on its session): the next ones still run
                ran[child.entry.task] = f"failed: {exc}"
                continue
            ran[child.entry.task] = outcome.state
            if outcome.state == "interrupted":
                break
    parent = sync_parent(store, path)
    return ForegroundOutcome(ran, parent, "interrupted" in ran.values())


def start_parallel(store: SessionStore, path: Path, place: Place, *, max_parallel: int | None = None,
                   slurm: SlurmOptions | None = None) -> StartOutcome:
    """Run the unfinished children side by side as a sweep (tmux or Slurm), at most ``max_parallel`` at once
    (default: one per GPU, 1 on a CPU-only machine); its scheduler keeps the parent's table up to date."""
    from llm_tool.sweeps import seam
    from llm_tool.sweeps.naming import sweep_name
    from llm_tool.sweeps.spec import JobPlan, SweepSpec
    from llm_tool.sweeps.state import ParentSession

    meta = _parent(store, path)
    todo = unfinished(store, path)
    if not todo:
        raise SessionError(f"every task of {meta.session_id} is completed: nothing to run")
    titles: list[str] = []
    for child in todo:  # unique even for task names that clean to the same text
        titles.append(next(t for k in range(1, len(todo) + 2)
                           if (t := _title(child) + (f"-{k}" if k > 1 else "")) not in titles))
    jobs = [JobPlan(number=n, overrides={TASK_KEY: c.entry.task, **({LANGUAGE_KEY: c.entry.language}
                                                                     if c.entry.language else {})},
                    raw=_child_raw(c), title=title, session=c.path, resume=resumes(c))
            for n, (c, title) in enumerate(zip(todo, titles, strict=True), start=1)]
    name = sweep_name(f"{meta.training_session.session_name or meta.session_id}-tasks")
    spec = SweepSpec(source=name, base=_child_raw(todo[0]), base_dir=store.home, jobs=jobs, kind="tasks",
                     name=name, group_by=None, parent=ParentSession(session_id=meta.session_id, session_file=str(path)))
    started = seam.start(spec, place, name=_fresh_name(name), max_parallel=max_parallel, slurm=slurm,
                         store=store)
    store.update(path, lambda m: m.extra.setdefault("tasks", {}).update({SWEEP_KEY: started.name}))
    return started


def _title(child: ChildNow) -> str:
    """A job's title in the sweep (its pane, its row in `sweep status`): the task, and its language."""
    from llm_tool.sweeps.naming import clean_title

    entry = child.entry
    return clean_title(entry.task + (f"-{entry.language.lower()}" if entry.language else ""))


def _child_raw(child: ChildNow) -> dict[str, Any]:
    meta = child.meta
    assert meta is not None  # unfinished() refuses missing children
    raw: dict[str, Any] = {"dataset_config": dict(meta.dataset_config), "model_config": dict(meta.model_config)}
    if meta.extra.get(SLURM_SECTION) is not None:
        raw[SLURM_SECTION] = meta.extra[SLURM_SECTION]
    return raw


def _fresh_name(name: str) -> str:
    """``name``, or ``name-2``, ``name-3``... when a sweep of that name exists (a resumed run starts a new sweep)."""
    from llm_tool.sweeps.state import SweepStore

    sweeps, candidate, n = SweepStore(), name, 1
    while sweeps.exists(candidate):
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def relaunch_plan(store: SessionStore, path: Path, *, dataset: Path | None = None, sets: list[str] | None = None,
                  confirmed: bool = False) -> tuple[TasksPlan, list[str]]:
    """The plan of a new run with a parent's settings (another data file, ``--set`` overrides), and warnings."""
    from llm_tool.sessions.operations import relaunch_config

    _parent(store, path)
    raw, warnings = relaunch_config(store, path, dataset=dataset, sets=sets, confirmed=confirmed)
    return plan_tasks(raw, store.home), warnings


def entries_of(store: SessionStore, path: Path) -> list[TaskEntry]:
    """The parent's children as recorded (for a plan or a summary)."""
    return task_entries(_parent(store, path))
