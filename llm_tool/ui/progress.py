"""Show training events: a Rich progress bar on a terminal, plain log lines otherwise (and in log files)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from llm_tool.training.events import TrainingEvent
from llm_tool.ui.console import console, safe


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


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
        fields = {"epoch": f"{event.epoch:.2f}/{event.total_epochs}", "loss": _fmt(event.loss, ".4f"),
                  "lr": _fmt(event.learning_rate, ".2e")}
        self.progress.update(self.task, completed=event.step, **fields)
        if event.kind == "evaluate":
            f1 = event.metrics.get("eval_macro_f1")
            self.progress.console.print(f"  epoch {event.epoch:.0f}: validation macro-F1 {_fmt(f1, '.4f')}")

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


class PlainProgress:
    """Timestamped lines, at most one step line every ``interval`` seconds."""

    def __init__(self, stream: IO[str], interval: float = 5.0) -> None:
        self.stream, self.interval = stream, interval
        self._last = 0.0

    def __call__(self, event: TrainingEvent) -> None:
        now = time.monotonic()
        stamp = time.strftime("%H:%M:%S")
        if event.kind == "stage":
            line = event.message
        elif event.kind == "step":
            if now - self._last < self.interval and event.step != event.total_steps:
                return
            line = (f"step {event.step}/{event.total_steps} epoch {event.epoch:.2f}/{event.total_epochs} "
                    f"loss {_fmt(event.loss, '.4f')} lr {_fmt(event.learning_rate, '.2e')}")
        elif event.kind == "evaluate":
            line = f"epoch {event.epoch:.0f}: validation macro-F1 {_fmt(event.metrics.get('eval_macro_f1'), '.4f')}"
        elif event.kind == "save":
            line = f"checkpoint saved: {Path(event.message).name}"
        elif event.kind == "begin":
            line = f"training {event.total_steps} steps over {event.total_epochs} epochs"
        else:
            return
        self._last = now if event.kind == "step" else self._last
        self.stream.write(f"[{stamp}] {line}\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()


class Tee:
    """Send each event to several displays."""

    def __init__(self, *handlers: Any) -> None:
        self.handlers = handlers

    def __call__(self, event: TrainingEvent) -> None:
        for handler in self.handlers:
            handler(event)

    def close(self) -> None:
        for handler in self.handlers:
            handler.close()
