"""Show training events: a Rich progress bar on a terminal, plain log lines otherwise (and in log files)."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from llm_tool.training.event_log import PlainProgress, Tee
from llm_tool.training.event_log import fmt as _fmt
from llm_tool.training.events import TrainingEvent
from llm_tool.ui.console import console, safe

__all__ = ["PlainProgress", "RichProgress", "Tee", "screen_progress"]


class RichProgress:
    """A live bar with step, epoch, loss, learning rate and ETA."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[primary]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("epoch {task.fields[epoch]}"), TextColumn("loss {task.fields[loss]}"),
            TextColumn("lr {task.fields[lr]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self.task: Any = None

    def __call__(self, event: TrainingEvent) -> None:
        if event.kind == "stage":
            console.print(f"[muted]•[/muted] {safe(event.message, 1000)}")
            return
        if event.kind == "begin" and self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("training", total=event.total_steps, completed=event.step,
                                               epoch="-", loss="-", lr="-")
        if self.task is None:
            return
        self.progress.update(self.task, completed=event.step, epoch=f"{event.epoch:.2f}/{event.total_epochs}",
                             loss=_fmt(event.loss, ".4f"), lr=_fmt(event.learning_rate, ".2e"))
        if event.kind == "evaluate":
            f1 = event.metrics.get("eval_macro_f1")
            self.progress.console.print(f"  epoch {event.epoch:.0f}: validation macro-F1 {_fmt(f1, '.4f')}")

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def screen_progress() -> RichProgress | PlainProgress:
    """A live bar on a terminal, plain lines when the output is redirected."""
    return RichProgress() if console.is_terminal else PlainProgress(console.file)
