"""New Training Session: eight steps, each with a default and a way back, ending in a session that runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from llm_tool.config import parse_config
from llm_tool.config.schema import DEFAULT_MODEL
from llm_tool.data.formats import read_table
from llm_tool.errors import DatasetError
from llm_tool.ui.console import console, error, warning
from llm_tool.ui.task_tables import task_plans_table
from llm_tool.wizard import benchmark_mode, views
from llm_tool.wizard.detect import (
    column_hints,
    date_column_candidates,
    detect_strategy,
    find_data_files,
    group_column_candidates,
    guess_label_column,
    guess_text_column,
    sibling_split_files,
    split_column_candidates,
)
from llm_tool.wizard.draft import Draft
from llm_tool.wizard.flow import Context, run_steps
from llm_tool.wizard.long_text_question import ask_long_text
from llm_tool.wizard.questions import (
    DATA_SUFFIXES,
    PRESET_MODE,
    TYPE_MODEL,
    TYPE_PATH,
    GoBack,
    column_question,
    data_file_question,
    data_path_question,
    mode_question,
    model_name_question,
    model_question,
    save_question,
    setting_question,
    settings_to_ask,
    task_question,
    where_question,
)
from llm_tool.wizard.run_where import forget, run_where, sbatch_available, tmux_available
from llm_tool.wizard.split_questions import (
    COLUMN_SPLIT,
    GROUP_SPLIT,
    RANDOM_SPLIT,
    SEPARATE_FILES,
    SIBLING_SPLIT,
    TIME_SPLIT,
    relaunch_confirm_question,
    split_file_question,
    split_question,
)
from llm_tool.wizard.tasks_step import SEVERAL_COLUMNS, annotation_columns, label_question, step_tasks


def new_session(ctx: Context) -> None:
    run_steps(ctx, STEPS, Draft())


# ----- step 1 ------------------------------------------------------------------------------------
def choose_data_file(ctx: Context, default: Path | None = None) -> tuple[Path, Any]:
    """A data file from the home (or typed), read and previewed; re-asked while it cannot be read."""
    home = ctx.store.home
    files = find_data_files(home, suffixes=DATA_SUFFIXES)
    while True:
        choice = ctx.ask(data_file_question(files, home, default))
        if choice == TYPE_PATH:
            try:
                path = ctx.ask(data_path_question(str(default or "")))
            except GoBack:
                continue
        else:
            path = Path(choice)
        try:
            table = read_table(path)
        except DatasetError as exc:
            error(str(exc))
            continue
        ctx.show(views.preview_table(table, path))
        return path, table


def step_data_file(ctx: Context, d: Draft) -> None:
    path, table = choose_data_file(ctx, d.data_path)
    if path != d.data_path:
        d.text_column = d.label_column = d.split = None
    d.data_path, d.table = path, table


# ----- step 2 ------------------------------------------------------------------------------------
def step_text_column(ctx: Context, d: Draft) -> None:
    assert d.table is not None
    default = d.text_column or guess_text_column(d.table, exclude=tuple(annotation_columns(d.table)))
    question = column_question("text_column", "Step 2/8 · Text column", d.table.columns, default,
                               column_hints(d.table))
    d.text_column = ctx.ask(question)


def step_label_column(ctx: Context, d: Draft) -> None:
    assert d.table is not None and d.text_column is not None
    others = [c for c in d.table.columns if c != d.text_column]
    if not others:
        raise DatasetError(f"{d.data_path} has a single column: it needs a text column and a label column")
    annotations = annotation_columns(d.table, exclude=(d.text_column,))
    kept = d.label_column in others or d.label_column == SEVERAL_COLUMNS
    default = d.label_column if kept else annotations[0] if annotations else guess_label_column(d.table,
                                                                                                 d.text_column)
    d.label_column = ctx.ask(label_question(others, default, column_hints(d.table), annotations))


def step_task(ctx: Context, d: Draft) -> None:
    from llm_tool.wizard.analyse import label_distribution

    assert d.table is not None and d.label_column is not None
    if d.label_column == SEVERAL_COLUMNS or d.label_column in annotation_columns(d.table, (d.text_column or "",)):
        return step_tasks(ctx, d)
    d.tasks = d.task_columns = None
    detected, reason = detect_strategy([row.get(d.label_column) for row in d.table.rows])
    chosen = d.strategy if d.strategy_column == d.label_column else detected
    d.strategy = detected
    distribution = label_distribution(d.table, d.dataset())
    ctx.show(views.distribution_table(distribution, f"Label distribution of '{d.label_column}' ({detected})"))
    d.strategy = ctx.ask(task_question(detected, reason, chosen))
    d.strategy_column = d.label_column


# ----- step 3 ------------------------------------------------------------------------------------
def step_analysis(ctx: Context, d: Draft) -> None:
    from llm_tool.wizard.analyse import analyse

    assert d.table is not None
    key = (d.data_path, d.text_column, d.label_column, d.strategy, tuple(d.tasks or ()), tuple(d.task_columns or ()))
    if d.analysis_key != key or d.analysis is None:
        with console.status("Analysing the texts: languages and token lengths…"):
            d.analysis = analyse(d.table, d.dataset())
        d.analysis_key = key
    ctx.show(views.analysis_panel(d.analysis))
    ask_long_text(ctx, d)
    ask_split(ctx, d)


def ask_split(ctx: Context, d: Draft) -> None:
    """The data's own split when it has one (a split column, sibling files), typed files, or a random one."""
    assert d.table is not None and d.data_path is not None
    columns = split_column_candidates(d.table, exclude=(d.text_column or "", d.label_column or "",
                                                        *(d.task_columns or ())))
    siblings = sibling_split_files(d.data_path)
    official = COLUMN_SPLIT + columns[0][0] if columns else SIBLING_SPLIT if siblings else RANDOM_SPLIT
    taken = (d.text_column or "", d.label_column or "", *(c for c, _ in columns))
    dates = date_column_candidates(d.table, taken)
    groups = group_column_candidates(d.table, (*taken, *(c for c, _, _ in dates)))
    while True:
        choice = ctx.ask(split_question(columns, siblings, d.split or official, groups=groups, dates=dates))
        d.split_column = choice[len(COLUMN_SPLIT):] if choice.startswith(COLUMN_SPLIT) else None
        d.split_group_column = choice[len(GROUP_SPLIT):] if choice.startswith(GROUP_SPLIT) else None
        d.split_time_column = choice[len(TIME_SPLIT):] if choice.startswith(TIME_SPLIT) else None
        d.validation_file = siblings.get("validation") if choice == SIBLING_SPLIT else None
        d.test_file = siblings.get("test") if choice == SIBLING_SPLIT else None
        if choice == SEPARATE_FILES:
            try:
                d.validation_file = ctx.ask(split_file_question("validation"))
                d.test_file = ctx.ask(split_file_question("test"))
            except GoBack:
                continue
        d.split = choice
        return


# ----- step 4 ------------------------------------------------------------------------------------
def ask_settings(ctx: Context, mode: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters of ``mode``, one question each; Back returns to the previous one."""
    answers = dict(answers)
    index = 0
    while True:
        names = settings_to_ask(mode, answers)
        if index >= len(names):
            return {k: v for k, v in answers.items() if k in names}
        name = names[index]
        try:
            answers[name] = ctx.ask(setting_question(name, answers))
        except GoBack:
            if index == 0:
                raise
            index -= 1
            continue
        index += 1


def step_mode(ctx: Context, d: Draft) -> None:
    while True:
        mode = ctx.ask(mode_question(d.mode, tmux_available=tmux_available(), slurm_available=sbatch_available()))
        try:
            d.settings = ask_settings(ctx, mode, d.settings if mode == d.mode else {})
        except GoBack:
            continue
        d.mode = mode
        return


# ----- step 5 ------------------------------------------------------------------------------------
def step_model(ctx: Context, d: Draft) -> None:
    from llm_tool.wizard.analyse import default_model, recommend_models

    if d.mode == "benchmark":
        return benchmark_mode.step_models(ctx, d)
    assert d.analysis is not None
    suggestions = recommend_models(d.analysis["languages"], d.analysis["long_documents"])
    names = [s[0] for s in suggestions]
    chosen = d.model_chosen and d.model in names
    default = d.model if chosen else default_model(suggestions, d.analysis["languages"])
    while True:
        choice = ctx.ask(model_question(suggestions, default))
        if choice == TYPE_MODEL:
            try:
                choice = ctx.ask(model_name_question("" if d.model in names else d.model))
            except GoBack:
                continue
        if not model_obtainable(choice):
            default = choice
            continue
        d.model, d.model_chosen = choice, True
        return


def model_obtainable(name: str) -> bool:
    """A model that is here, or can be downloaded now; offline, say how to get it (and ask again)."""
    import os

    from llm_tool.catalog.offline import usable_offline

    if usable_offline(name):
        return True
    how = f"`llm-tool models add {name}` downloads it once where there is an internet connection"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        error(f"{name} is not on this machine and the hub is offline (HF_HUB_OFFLINE): {how}; "
              "or pick a model marked ✓ offline")
        return False
    warning(f"{name} is not on this machine yet: training downloads it first ({how})")
    return True


# ----- steps 6 and 7 -----------------------------------------------------------------------------
def step_review(ctx: Context, d: Draft) -> object:
    from llm_tool.catalog.offline import usable_offline
    from llm_tool.training.plan import make_plan

    if d.mode == "benchmark":
        return benchmark_mode.step_review(ctx, d)
    raw = d.raw_config()
    config = parse_config(raw, source="the studio's answers")
    with console.status("Checking the data and the model, estimating duration and memory…"):
        task_plans = task_plan_rows(config, ctx.store.home) if d.tasks else []
        d.plan = task_plans[0][1] if task_plans else make_plan(config, ctx.store.home)
    d.session_path = None  # settings may have changed since a session was created
    ctx.show(views.summary_table(raw, dataclasses.asdict(config.model), d.plan, usable_offline(d.model)))
    if task_plans:
        ctx.show(task_plans_table([(task, plan.as_dict()) for task, plan in task_plans]))
    show_language_fit(d)
    ctx.show(views.SAVE_PANEL)
    d.save = bool(ctx.ask(save_question(d.save)))
    return None


def task_plan_rows(config: Any, home: Path) -> list[tuple[str, Any]]:
    """Each task's training plan (the model of each task is planned like a session of its own)."""
    from llm_tool.training.plan import make_task_plans

    infos, plans = make_task_plans(config, home)
    return [(info.name, plan) for info, plan in zip(infos, plans, strict=True)]


def show_language_fit(d: Draft) -> None:
    """Warn, in plain words, when the model did not learn the languages of the data."""
    from llm_tool.catalog.registry import language_warning

    message = language_warning(d.model, (d.analysis or {}).get("language_distribution") or {})
    if message:
        warning(message)


# ----- step 8 ------------------------------------------------------------------------------------
def step_where(ctx: Context, d: Draft) -> None:
    from llm_tool.sweeps.tasks_run import create_for_config

    if d.mode == "benchmark":
        return benchmark_mode.step_launch(ctx, d)

    def session_path() -> Path:
        if d.session_path is None:
            d.session_path = create_for_config(ctx.store, d.raw_config(), base_dir=ctx.store.home,
                                               workflow=studio_workflow(d.mode))  # several tasks: a tasks run
        return d.session_path

    question = where_question(saved=d.save, estimate_seconds=getattr(d.plan, "seconds_estimate", None),
                              tmux_available=tmux_available(), slurm_available=sbatch_available())
    where = run_where(ctx, question, session_path)
    if where == "foreground" and not d.save:
        forget(ctx, session_path())


def studio_workflow(mode: str) -> str:
    """The session's origin as recorded in training_session.workflow: the studio and its mode."""
    if mode.startswith(PRESET_MODE):
        return f"Training Studio - Preset {mode[len(PRESET_MODE):]}"
    return f"Training Studio - {mode.capitalize()}"


STEPS = (step_data_file, step_text_column, step_label_column, step_task, step_analysis, step_mode, step_model,
         step_review, step_where)


# ----- relaunch on another data file: the same column, split and summary steps ------------------------
def dataset_sets(d: Draft) -> list[str]:
    """The data answers as ``--set`` options over a session's settings (null clears what the old file used)."""
    assert d.text_column and d.label_column
    values: dict[str, object] = {"text_column": d.text_column, "label_column": d.label_column,
                                 "strategy": d.strategy, "split_column": d.split_column,
                                 "split_group_column": d.split_group_column, "split_time_column": d.split_time_column,
                                 "validation_file": str(d.validation_file) if d.validation_file else None,
                                 "test_file": str(d.test_file) if d.test_file else None,
                                 "annotation_column": None, "tasks": None}
    if d.tasks:  # tasks: from an annotation column or from label columns (the other one cleared)
        section = d.dataset()
        values.update({key: section.get(key) for key in ("label_column", "annotation_column", "tasks")},
                      label_columns=section.get("label_columns"))
    elif d.strategy == "single-label":  # single-label label_columns would make it a tasks run
        values["label_columns"] = None
    return [f"dataset_config.{key}={json.dumps(value)}" for key, value in values.items()]


def relaunch_data_steps(ctx: Context, source: Path) -> tuple[Path, list[str]]:
    """Steps 1–3 and the summary for relaunching ``source`` on another data file; GoBack when abandoned."""
    meta = ctx.store.read(source)
    dataset = meta.dataset_config
    current = dataset.get("primary_file")
    d = Draft(data_path=Path(current) if current else None, text_column=dataset.get("text_column"),
              label_column=dataset.get("label_column"), strategy=dataset.get("strategy") or "single-label",
              model=str(meta.model_config.get("selected_model") or DEFAULT_MODEL))
    d.strategy_column = d.label_column

    def summary(ctx: Context, d: Draft) -> None:
        from llm_tool.catalog.offline import usable_offline
        from llm_tool.sessions.operations import relaunch_config
        from llm_tool.training.plan import make_plan

        assert d.data_path is not None
        raw, _ = relaunch_config(ctx.store, source, dataset=d.data_path, sets=dataset_sets(d))
        with console.status("Checking the data and the model, estimating duration and memory…"):
            plan = make_plan(parse_config(raw, source="the relaunch"), ctx.store.home)
        ctx.show(views.summary_table(raw, raw["model_config"], plan, usable_offline(d.model)))
        ctx.ask(relaunch_confirm_question())

    steps = (step_data_file, step_text_column, step_label_column, step_task, step_analysis, summary)
    if not run_steps(ctx, steps, d) or d.data_path is None:
        raise GoBack("relaunch_data")
    return d.data_path, dataset_sets(d)
