"""Training events as plain timestamped lines (session logs, redirected output) and a fan-out to several displays."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Protocol

from llm_tool.training.events import TrainingEvent


class EventDisplay(Protocol):
    """Anything that shows training events and can be closed (a progress bar, a log writer)."""

    def __call__(self, event: TrainingEvent) -> None: ...

    def close(self) -> None: ...


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


class PlainProgress:
    """Timestamped lines, at most one step line every ``interval`` seconds."""

    def __init__(self, stream: IO[str], interval: float = 5.0) -> None:
        self.stream, self.interval = stream, interval
        self._last = 0.0

    def __call__(self, event: TrainingEvent) -> None:
        line = self._line(event)
        if line is None:
            return
        self.stream.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
        self.stream.flush()

    def _line(self, event: TrainingEvent) -> str | None:
        if event.kind == "stage":
            return event.message
        if event.kind == "step":
            now = time.monotonic()
            if now - self._last < self.interval and event.step != event.total_steps:
                return None
            self._last = now
            return (f"step {event.step}/{event.total_steps} epoch {event.epoch:.2f}/{event.total_epochs} "
                    f"loss {fmt(event.loss, '.4f')} lr {fmt(event.learning_rate, '.2e')}")
        if event.kind == "evaluate":
            return f"epoch {event.epoch:.0f}: validation macro-F1 {fmt(event.metrics.get('eval_macro_f1'), '.4f')}"
        if event.kind == "save":
            return f"checkpoint saved: {Path(event.message).name}"
        if event.kind == "begin":
            return f"training {event.total_steps} steps over {event.total_epochs} epochs"
        return None

    def close(self) -> None:
        self.stream.flush()


class Tee:
    """Send each event to several displays."""

    def __init__(self, *handlers: EventDisplay) -> None:
        self.handlers = handlers

    def __call__(self, event: TrainingEvent) -> None:
        for handler in self.handlers:
            handler(event)

    def close(self) -> None:
        for handler in self.handlers:
            handler.close()
