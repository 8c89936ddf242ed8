"""Resume/Relaunch and Sessions (history): the 20 most recent sessions, details, then resume or relaunch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.ui.console import info, warning
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import (
    DONE,
    FIXED_FIELDS,
    HYPERPARAMETERS,
    GoBack,
    action_question,
    model_name_question,
    override_option,
    session_pick_question,
    setting_question,
    settings_menu_question,
    where_question,
)
from llm_tool.wizard.run_where import run_where, sbatch_available, tmux_available
from llm_tool.wizard.session_questions import time_budget_question

RECENT = 20


def history_menu(ctx: Context, title: str = "Training sessions (20 most recent)") -> None:
    """Table, pick by number, details, action. Back from the actions shows the table again."""
    from llm_tool.sessions.summaries import list_rows
    from llm_tool.ui.history import history_table

    while True:
        rows = list_rows(ctx.store, limit=RECENT)
        if not rows:
            info(f"no training sessions yet in {ctx.store.dir}: start one with New Training Session")
            return
        ctx.show(history_table(rows, title))
        name = ctx.ask(session_pick_question(rows))
        try:
            session_menu(ctx, ctx.store.dir / name)
        except GoBack:
            continue
        return


def checkpoint_of(ctx: Context, meta: Any) -> Path | None:
    from llm_tool.training.checkpoints import last_complete

    folder = meta.output_paths.checkpoints_dir or str(ctx.store.home / "models" / meta.session_id / "checkpoints")
    found, _ = last_complete(Path(folder))
    return found


def session_menu(ctx: Context, path: Path) -> None:
    """The session's results (as `sessions show`), then what to do with it."""
    from llm_tool.config.presets import BUDGET_REASON
    from llm_tool.sessions.lifecycle import effective_status
    from llm_tool.sessions.summaries import flatten
    from llm_tool.ui.session_view import show_session
    from llm_tool.ui.tables import details_table

    meta = ctx.store.read(path)
    status = effective_status(ctx.store, meta)
    budget_spent = meta.execution_status.extra.get("completion_reason") == BUDGET_REASON
    show_session(ctx.store, meta, everything=False)
    while True:
        action = ctx.ask(action_question(meta.session_id, status, checkpoint_of(ctx, meta) is not None,
                                         budget_spent))
        if action == "details":
            ctx.show(details_table(flatten(meta, ctx.store), f"Session {meta.session_id}: every recorded field"))
            continue
        try:
            if action in ("resume", "start"):
                run_existing(ctx, path, resume=action == "resume")
            elif action == "continue":
                continue_training(ctx, path)
            else:
                relaunch_session(ctx, path, action)
        except GoBack:
            continue
        return


def run_existing(ctx: Context, path: Path, *, resume: bool) -> None:
    from llm_tool.sessions.operations import check_resumable

    check_resumable(ctx.store, path)
    question = where_question(saved=True, estimate_seconds=None, tmux_available=tmux_available(),
                              allow_save_only=False, message="Resume: where to run" if resume else "Where to run",
                              slurm_available=sbatch_available())
    run_where(ctx, question, lambda: path, resume=resume)


def continue_training(ctx: Context, path: Path) -> None:
    """A run its time budget stopped trains on from its checkpoint, with the budget asked (as
    `llm-tool sessions resume ID --time-budget 1h`); the new budget is written only when it starts."""
    from llm_tool.sessions.operations import check_resumable
    from llm_tool.untrusted import clean

    meta = check_resumable(ctx.store, path)
    budget = ctx.ask(time_budget_question(clean(_budget_text(meta.model_config))[:40]))
    question = where_question(saved=True, estimate_seconds=None, tmux_available=tmux_available(),
                              allow_save_only=False, message="Continue training: where to run",
                              slurm_available=sbatch_available())

    def session_path() -> Path:
        if budget:
            ctx.store.update(path, lambda m: m.model_config.update({"time_budget": budget}))
        return path

    run_where(ctx, question, session_path, resume=True)


def _budget_text(model_config: dict[str, Any]) -> str:
    """The budget the run had: recorded when it started (``time_budget_seconds``), else as configured."""
    from llm_tool.config.presets import format_budget

    seconds = model_config.get("time_budget_seconds")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
        return format_budget(seconds)
    return str(model_config.get("time_budget") or "the same budget")


def relaunch_session(ctx: Context, path: Path, action: str) -> None:
    from llm_tool.sessions.operations import relaunch
    from llm_tool.sessions.task_parent import is_tasks_parent
    from llm_tool.ui.tasks_launch import new_run_like
    from llm_tool.wizard.new_session import relaunch_data_steps

    meta = ctx.store.read(path)
    dataset: Path | None = None
    sets: list[str] = []
    if action == "relaunch_data":
        dataset, sets = relaunch_data_steps(ctx, path)
    elif action == "relaunch_settings":
        sets = edit_settings(ctx, meta.model_config)
    question = where_question(saved=True, estimate_seconds=None, tmux_available=tmux_available(),
                              message="Relaunch: where to run", slurm_available=sbatch_available())
    created: list[Path] = []

    def session_path() -> Path:
        if not created and is_tasks_parent(meta):  # a new parent and children with the same settings
            created.append(new_run_like(ctx.store, path, dataset=dataset, sets=sets))
        if not created:
            new_path, warnings = relaunch(ctx.store, path, dataset=dataset, sets=sets,
                                          workflow="Training Studio - Relaunch")
            for message in warnings:
                warning(message)
            info(f"relaunching {meta.session_id} as {ctx.store.read(new_path).session_id}")
            created.append(new_path)
        return created[0]

    run_where(ctx, question, session_path)


def edit_settings(ctx: Context, model_config: dict[str, Any]) -> list[str]:
    """Change settings one at a time until Done; returns them as ``--set`` options."""
    known = set(HYPERPARAMETERS) | set(FIXED_FIELDS)
    values = {k: v for k, v in model_config.items() if k in known}
    sets: list[str] = []
    while True:
        name = ctx.ask(settings_menu_question(values))
        if name == DONE:
            return sets
        try:
            if name == "selected_model":
                value = ctx.ask(model_name_question(str(values.get("selected_model") or "")))
            else:
                chosen = {k: v for k, v in values.items() if v != "auto"}  # "auto": the run chooses, shown so
                value = ctx.ask(setting_question(name, chosen))
        except GoBack:
            continue
        values[name] = value
        sets.append(override_option(name, value))
