"""Progress events the engine emits; the UI decides how to show them (Rich bar, plain lines, nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainingEvent:
    kind: str  # "stage", "begin", "step", "log", "evaluate", "save", "end"
    message: str = ""
    step: int = 0
    total_steps: int = 0
    epoch: float = 0.0
    total_epochs: int = 0
    loss: float | None = None
    learning_rate: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


EventHandler = Callable[[TrainingEvent], None]


def ignore(_: TrainingEvent) -> None:
    return None
