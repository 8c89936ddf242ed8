"""A time budget for one run: stop training gracefully when it is spent (evaluate, checkpoint, keep the best)."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback

from llm_tool.config.presets import BUDGET_REASON
from llm_tool.training import ranks

__all__ = ["BUDGET_REASON", "TimeBudget"]


class TimeBudget(TrainerCallback):
    """Stops the Trainer at ``seconds`` after the first step: the state then is evaluated and checkpointed, so
    the best model is chosen among every evaluation, and the run can be resumed later with more time."""

    def __init__(self, seconds: float, *, already_used: float = 0.0) -> None:
        self.seconds = seconds
        self.already_used = already_used  # spent by earlier segments of a resumed run
        self.started: float | None = None
        self.reached = False

    def remaining(self) -> float:
        if self.started is None:
            return self.seconds - self.already_used
        return self.seconds - self.already_used - (time.monotonic() - self.started)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.monotonic()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.reached or state.global_step >= state.max_steps:
            return
        if not ranks.agree_to_stop(self.remaining() <= 0):  # torchrun: every rank's clock differs a little
            return
        self.reached = True
        control.should_training_stop = True
        control.should_evaluate = True  # the partial epoch counts: evaluate and save it like an epoch end
        control.should_save = True
        control.should_log = True

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.reached:  # already evaluated and saved at the step that spent the budget
            control.should_evaluate = False
            control.should_save = False
