"""What the steps of a run (settings, Trainer) see of the engine's run, so that they never import the engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llm_tool.config import TrainingConfig
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.training.events import TrainingEvent


class RunView(Protocol):
    """A run's session, settings and folders, and how it records progress and reports stages."""

    meta: SessionMetadata
    config: TrainingConfig
    checkpoints_dir: Path

    def update(self, change: Callable[[SessionMetadata], None]) -> SessionMetadata: ...

    def stage(self, message: str) -> None: ...

    def on_event(self, event: TrainingEvent) -> None: ...

    def write_progress(self, fields: dict[str, Any]) -> None: ...
