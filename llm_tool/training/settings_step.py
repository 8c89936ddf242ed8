"""At the start of a run: fill in the automatic settings (recorded with their reasons) and set the time budget."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from llm_tool.training.budget import TimeBudget

if TYPE_CHECKING:
    from llm_tool.data.prepare import PreparedData
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.training.run_view import RunView

SAVE_RESERVE_SECONDS = 5.0  # writing the final model and metrics after the last evaluation


def prepare_settings(run: RunView, data: PreparedData, model: Any, max_length: int, cuda: bool, resume: bool,
                     started: float) -> TimeBudget:
    """Choose what the config left to the tool (first start only: a resume keeps the recorded values), record
    the expected duration, and return the time-budget callback for this segment of the run."""
    from llm_tool.training.plan import auto_choices, budget_seconds, final_eval_seconds, seconds_per_epoch

    parameters = sum(p.numel() for p in model.parameters())
    tokens = min(max_length, float(run.meta.text_analysis.text_length_stats.get("token_mean") or max_length))
    rows = {name: len(split) for name, split in data.splits.items()}
    windows = run.meta.model_config.get("windows")
    if isinstance(windows, dict) and isinstance(windows.get("windows"), int):  # chunks: a row per window
        rows["train"], tokens = windows["windows"], float(max_length)
    epoch_seconds = seconds_per_epoch(parameters, tokens, rows["train"], rows["validation"], cuda)
    cfg = run.config.model
    recorded = "auto_settings" in run.meta.model_config
    auto = {} if resume or recorded else auto_choices(cfg, parameters, rows["train"], epoch_seconds)
    if auto:
        cfg = dataclasses.replace(cfg, **{key: choice.value for key, choice in auto.items()})
        run.config = dataclasses.replace(run.config, model=cfg)
    budget = budget_seconds(cfg)
    reserve = final_eval_seconds(parameters, tokens, rows["validation"] + rows["test"], cuda) + SAVE_RESERVE_SECONDS
    expected = epoch_seconds * cfg.epochs + reserve

    def record(meta: SessionMetadata) -> None:
        if auto:
            meta.model_config.update({key: choice.value for key, choice in auto.items()})
            meta.model_config["auto_settings"] = {k: {"value": c.value, "why": c.why} for k, c in auto.items()}
        meta.model_config["time_budget_seconds"] = budget
        meta.execution_status.extra["expected_seconds"] = round(min(expected, budget), 1)
    run.update(record)
    for key, choice in auto.items():
        run.stage(f"auto {key} = {choice.value}: {choice.why}")
    return TimeBudget(budget - (time.monotonic() - started) - reserve)
