"""Trainer callbacks: progress events, session updates, extra step checkpoints, graceful stop, completion markers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from llm_tool.results.history import mark_earlier_attempts
from llm_tool.training import ranks
from llm_tool.training.checkpoints import mark_complete
from llm_tool.training.events import EventHandler, TrainingEvent
from llm_tool.training.signals import GracefulStop

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

ProgressWriter = Callable[[dict[str, Any]], None]  # persists progress fields into the session


class SessionCallback(TrainerCallback):
    def __init__(self, *, on_event: EventHandler, write_progress: ProgressWriter, stop: GracefulStop,
                 save_steps: int | None, checkpoints_dir: Path, total_epochs: int, min_interval: float = 2.0) -> None:
        self.on_event = on_event
        self.write_progress = write_progress
        self.stop = stop
        self.save_steps = save_steps
        self.checkpoints_dir = checkpoints_dir
        self.total_epochs = total_epochs
        self.min_interval = min_interval
        self._last_write = 0.0
        self._loss: float | None = None
        self._lr: float | None = None
        self._steps_per_epoch = 0
        self._stopping = False  # the stop decision of the last step, the same on every rank

    def _at_epoch_end(self, state: TrainerState) -> bool:
        return bool(self._steps_per_epoch) and state.global_step % self._steps_per_epoch == 0

    def _event(self, kind: str, state: TrainerState, **extra: Any) -> None:
        self.on_event(TrainingEvent(kind=kind, step=state.global_step, total_steps=state.max_steps,
                                    epoch=float(state.epoch or 0.0), total_epochs=self.total_epochs,
                                    loss=self._loss, learning_rate=self._lr, **extra))

    def _progress(self, state: TrainerState, force: bool = False, **fields: Any) -> None:
        now = time.monotonic()
        if force or now - self._last_write >= self.min_interval:
            self._last_write = now
            self.write_progress({"current_step": state.global_step, "total_steps": state.max_steps,
                                 "current_epoch": round(float(state.epoch or 0.0), 4),
                                 "latest_loss": self._loss, **fields})

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> None:
        self.stop.training = True
        self._steps_per_epoch = max(1, round(state.max_steps / max(1, args.num_train_epochs)))
        if state.global_step > 0:  # resumed from a checkpoint: its evaluations are an earlier attempt's
            mark_earlier_attempts(state.log_history)
        self._event("begin", state)
        self._progress(state, force=True)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        at_epoch_end = self._at_epoch_end(state)  # the epoch-end evaluation saves there anyway
        if self.save_steps and state.global_step % self.save_steps == 0 and not at_epoch_end:
            control.should_save = True
        self._stopping = ranks.agree_to_stop(self.stop.reason is not None)  # torchrun: all ranks stop here
        if self._stopping:
            self.stop.request("another training process of the group was asked to stop")
            control.should_save = not at_epoch_end
            control.should_training_stop = True
        if control.should_save:  # log at every checkpoint, so loss windows restart where a resume restarts
            control.should_log = True
        self._event("step", state)
        self._progress(state)

    def on_epoch_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                     **kwargs: Any) -> None:
        if self._stopping and not self._at_epoch_end(state):
            # stopped mid-epoch: the step-end save is the checkpoint; no partial-epoch evaluation or second save
            control.should_evaluate = False
            control.should_save = False
        elif control.should_save:
            control.should_log = True

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        logs = logs or {}
        if "loss" in logs:
            self._loss = float(logs["loss"])
            self._lr = float(logs.get("learning_rate", self._lr or 0.0))
            self._event("log", state)

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                    metrics: dict[str, Any] | None = None, **kwargs: Any) -> None:
        metrics = metrics or {}
        best = state.best_metric
        self._event("evaluate", state, metrics=dict(metrics))
        self._progress(state, force=True, best_f1=best if best is not None else metrics.get("eval_macro_f1"))

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        checkpoint = self.checkpoints_dir / f"checkpoint-{state.global_step}"
        ranks.wait_for_all()  # the Trainer has no barrier after each rank writes its RNG state into the checkpoint
        if state.is_world_process_zero and checkpoint.is_dir():  # rank 0 saved it (and marks it complete)
            mark_complete(checkpoint)  # the Trainer has already rotated older ones away: this one exists
            self._progress(state, force=True, last_checkpoint=str(checkpoint))  # recorded before any display
            self._event("save", state, message=str(checkpoint))

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                     **kwargs: Any) -> None:
        self._progress(state, force=True)
