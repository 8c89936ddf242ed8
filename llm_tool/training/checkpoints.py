"""Find the last COMPLETE checkpoint: one cut short by a kill while saving is skipped and set aside."""

from __future__ import annotations

import re
from pathlib import Path

from llm_tool import paths
from llm_tool.model_folder import WEIGHTS_FILE

COMPLETE_MARKER = "llm_tool_checkpoint_complete"
REQUIRED_FILES = ("trainer_state.json", "optimizer.pt", "scheduler.pt", WEIGHTS_FILE)
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def list_checkpoints(folder: Path) -> list[Path]:
    """checkpoint-N folders, newest (highest N) first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and CHECKPOINT_RE.match(p.name)]
    return sorted(found, key=lambda p: int(CHECKPOINT_RE.match(p.name).group(1)), reverse=True)  # type: ignore[union-attr]


def incomplete_reason(checkpoint: Path) -> str | None:
    """Why ``checkpoint`` cannot be resumed from, or None when it is complete."""
    if not (checkpoint / COMPLETE_MARKER).exists():
        return "no completion marker (the save was cut short)"
    for name in REQUIRED_FILES:
        file = checkpoint / name
        if not file.exists():
            return f"{name} is missing"
        if file.stat().st_size == 0:
            return f"{name} is empty"
    if not any(checkpoint.glob("rng_state*.pth")):
        return "no RNG state"
    return None


def mark_complete(checkpoint: Path) -> None:
    (checkpoint / COMPLETE_MARKER).write_text("ok\n")


def last_complete(folder: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest complete checkpoint and the newer incomplete ones with their reasons."""
    skipped: list[tuple[Path, str]] = []
    for checkpoint in list_checkpoints(folder):
        reason = incomplete_reason(checkpoint)
        if reason is None:
            return checkpoint, skipped
        skipped.append((checkpoint, reason))
    return None, skipped


def set_aside(checkpoints: list[tuple[Path, str]], session_id: str, home: Path | None = None) -> None:
    """Move incomplete checkpoints out of the Trainer's way (kept for inspection, not deleted)."""
    for checkpoint, _ in checkpoints:
        target = checkpoint.with_name(checkpoint.name.replace("checkpoint-", "incomplete-"))
        paths.remove_session_tree(target, session_id, home)  # an older set-aside copy of the same step
        checkpoint.rename(target)


def remove_incomplete(folder: Path, session_id: str, home: Path | None = None) -> list[Path]:
    """Delete the checkpoints newer than the last complete one (a save cut short, e.g. by a full disk)."""
    _, skipped = last_complete(folder)
    for checkpoint, _ in skipped:
        paths.remove_session_tree(checkpoint, session_id, home)
    return [checkpoint for checkpoint, _ in skipped]
