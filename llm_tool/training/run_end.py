"""Ending a run safely: what a resume does, the saved final model, disk-full errors, no empty folders left."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.data.prepare import PreparedData
from llm_tool.errors import DiskFullError, LlmToolError, SessionError
from llm_tool.model_folder import FINAL_FILES, metrics_or_none
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.training import checkpoints as ckpt

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# What torch's zip writer and safetensors say when a write fails for lack of space (no errno attached).
_DISK_FULL_TEXT = ("unexpected pos", "file write failed", "no space left", "file too large", "os error 28",
                   "os error 27", "storagefull", "disk quota")


@dataclass(frozen=True)
class ResumePlan:
    """What `sessions resume` does: ``finish`` (the final model is saved), ``checkpoint`` or ``fresh`` (never
    trained: start from the beginning)."""

    action: str
    checkpoint: Path | None = None
    metrics: dict[str, Any] | None = None


def stopped_by_budget(meta: SessionMetadata) -> bool:
    """Completed because its time budget was spent (it can be resumed to train on)."""
    from llm_tool.config.presets import BUDGET_REASON

    status = meta.execution_status
    return status.status == "completed" and status.extra.get("completion_reason") == BUDGET_REASON


def saved_final_model(model_dir: Path, session_id: str) -> dict[str, Any] | None:
    """The metrics of a final model whose save completed (``metrics.json`` is written after the weights)."""
    for name in FINAL_FILES:
        file = model_dir / name
        if file.is_symlink() or not file.is_file() or file.stat().st_size == 0:
            return None
    data = metrics_or_none(model_dir)  # bounded, a regular file: a damaged or special file is no saved model
    if data is None or data.get("session_id") != session_id:
        return None
    return data


def plan_resume(meta: SessionMetadata, model_dir: Path, checkpoints_dir: Path,
                stage: Callable[[str], None], *, move_aside: bool = True) -> ResumePlan:
    """Decide how to resume; a refusal raises SessionError and changes nothing (no file moved, no status).
    ``move_aside`` False (torchrun ranks other than 0): the same decision, rank 0 alone moves files."""
    sid = meta.session_id
    if stopped_by_budget(meta):  # completed at its time budget: continue training from its last checkpoint
        found, _ = ckpt.last_complete(checkpoints_dir)
        if found is None:
            raise SessionError(f"{sid} reached its time budget but kept no checkpoint: relaunch it instead")
        stage(f"continuing after the time budget from {found.name}")
        return ResumePlan("checkpoint", checkpoint=found)
    if meta.execution_status.status == "completed":
        raise SessionError(f"{sid} already completed: use `llm-tool sessions relaunch {sid}` for a new run")
    metrics = saved_final_model(model_dir, sid)
    if metrics is not None:
        stage("the final model was saved before the run stopped: marking it completed")
        return ResumePlan("finish", metrics=metrics)
    found, skipped = ckpt.last_complete(checkpoints_dir)
    for folder, reason in skipped:
        stage(f"skipping {folder.name}: {reason}")
    if found is not None:
        if move_aside:
            ckpt.set_aside(skipped, sid, model_dir.parent.parent)
        stage(f"resuming from {found.name}")
        return ResumePlan("checkpoint", checkpoint=found)
    steps = meta.execution_status.current_step
    if isinstance(steps, int) and steps > 0:
        raise SessionError(f"{sid} trained {steps} steps but saved no complete checkpoint to resume from: "
                           f"`llm-tool sessions relaunch {sid}` starts it again as a new session")
    if move_aside:
        ckpt.set_aside(skipped, sid, model_dir.parent.parent)
    stage("it never reached a checkpoint: starting from the beginning")
    return ResumePlan("fresh")


def completed_fields(metrics: dict[str, Any]) -> dict[str, Any]:
    """Session status fields taken from a saved model's metrics.json."""
    def macro_f1(split: str) -> Any:
        report = metrics.get(split)
        value = report.get("macro_f1") if isinstance(report, dict) else None
        return value if isinstance(value, (int, float)) else None

    best = metrics.get("best_validation_macro_f1")
    step = metrics.get("global_step")
    return {"best_f1": best if isinstance(best, (int, float)) else macro_f1("validation"),
            "test_f1": macro_f1("test"), "current_step": step if isinstance(step, int) else None,
            "total_steps": step if isinstance(step, int) else None}


def existing_checkpoint(checkpoints_dir: Path) -> str | None:
    """The last complete checkpoint on disk now (``last_checkpoint`` never names a removed folder)."""
    found, _ = ckpt.last_complete(checkpoints_dir)
    return str(found) if found else None


def disk_full(exc: BaseException) -> OSError | BaseException | None:
    """The error in ``exc``'s chain that says the disk (or a file-size limit) is full, or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return current
        if not isinstance(current, LlmToolError) and any(t in str(current).lower() for t in _DISK_FULL_TEXT):
            return current
        current = current.__cause__ or current.__context__
    return None


def disk_full_error(found: BaseException, session_id: str, model_dir: Path, last: str | None) -> DiskFullError:
    """One line: the disk is full, where, what is kept and how to continue."""
    where = model_dir
    if isinstance(found, OSError) and isinstance(found.filename, str) and found.filename:
        where = Path(found.filename).parent
    try:
        free = f"{shutil.disk_usage(model_dir if model_dir.exists() else model_dir.parent).free / 1e6:.1f} MB free"
    except OSError:
        free = "free space unknown"
    limit = " (or a file-size limit)" if isinstance(found, OSError) and found.errno == errno.EFBIG else ""
    kept = f"the last complete checkpoint {Path(last).name} is kept" if last else "no complete checkpoint was saved"
    return DiskFullError(f"the disk is full{limit}: cannot write in {where} ({free}); {kept}. Free some space, "
                         f"then `llm-tool sessions resume {session_id}`")


def tidy_failed_run(model_dir: Path, checkpoints_dir: Path, session_id: str, *, drop_incomplete: bool) -> None:
    """After a failure: remove half-written checkpoints when asked (a full disk), and empty folders."""
    if drop_incomplete:
        ckpt.remove_incomplete(checkpoints_dir, session_id, model_dir.parent.parent)
    paths.remove_if_empty(checkpoints_dir, session_id, model_dir.parent.parent)
    paths.remove_if_empty(model_dir, session_id, model_dir.parent.parent)


def diagnosis(metrics: dict[str, Any], class_weights: str | dict[str, float] | None,
              data: PreparedData) -> list[dict[str, str]]:
    """What went wrong in the run, in plain words (training/diagnostics.py), for metrics.json and the session."""
    from llm_tool.data.labels import label_counts
    from llm_tool.training.diagnostics import diagnose

    distribution = dict(label_counts(data.splits["train"].labels, data.multi_label))
    return [d.to_dict() for d in diagnose(metrics, class_weights=class_weights, distribution=distribution)]
