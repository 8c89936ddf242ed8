"""Experiment trackers (`model_config.report_to`): TensorBoard, MLflow, trackio through the Trainer's own callbacks.

Run name = the session id; project/experiment = the sweep id, else the session name, else "llm-tool". Stores are
local by default: TensorBoard event files in logs/tensorboard/<project>/<session id>, MLflow's SQLite store
logs/mlflow.db (unless MLFLOW_TRACKING_URI says otherwise), trackio's SQLite store in logs/trackio (unless
TRACKIO_DIR says otherwise). The effective settings are logged by the Trainer's callbacks, the final
validation/test metrics once at the end; a resumed run continues the same tracker run (the MLflow run id is
recorded in the session, trackio resumes by run name). The session JSON stays the source of truth.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llm_tool.errors import ConfigError

if TYPE_CHECKING:
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore

INSTALL_HINT = "pip install 'llm-tool[tracking]'"
SESSION_KEY = "trackers"  # training_session.trackers: where each tracker's run is
FINAL_KEYS = ("accuracy", "macro_f1", "micro_f1", "weighted_f1")
LOG = logging.getLogger(__name__)


def installed() -> dict[str, bool]:
    """Each tracker and whether its package is importable here (nothing is imported)."""
    from llm_tool.doctor.checks import installed_trackers

    return installed_trackers()


def check_installed(names: list[str]) -> None:
    missing = [name for name in names if not installed().get(name)]
    if missing:
        raise ConfigError(f"model_config.report_to names {', '.join(missing)}, which is not installed here: "
                          f"{INSTALL_HINT} (or remove it from report_to)")


@dataclass
class Tracking:
    """The trackers of one run: the environment the Trainer's callbacks read, and where each run is."""

    names: list[str]
    run_name: str
    project: str
    env: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)


def open_tracking(store: SessionStore, meta: SessionMetadata, names: list[str]) -> Tracking | None:
    """The run's trackers (None: report_to is empty); a tracker that is not installed is a ConfigError."""
    if not names:
        return None
    check_installed(names)
    return plan_tracking(store, meta, names)


def plan_tracking(store: SessionStore, meta: SessionMetadata, names: list[str]) -> Tracking:
    """The trackers' settings for this session (a resume continues the recorded MLflow run)."""
    info = meta.training_session
    project = info.sweep_id or info.session_name or "llm-tool"
    tracking = Tracking(list(names), meta.session_id, project)
    found = info.extra.get(SESSION_KEY)
    recorded: dict[str, Any] = found if isinstance(found, dict) else {}
    logs = store.home / "logs"
    if "tensorboard" in names:
        folder = logs / "tensorboard" / _safe(project) / meta.session_id
        tracking.env["TENSORBOARD_LOGGING_DIR"] = str(folder)
        tracking.record["tensorboard_dir"] = str(folder)
    if "mlflow" in names:
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{logs / 'mlflow.db'}"
        tracking.env.update(MLFLOW_TRACKING_URI=uri, MLFLOW_EXPERIMENT_NAME=project, MLFLOW_FLATTEN_PARAMS="TRUE")
        run_id = recorded.get("mlflow_run_id")
        if isinstance(run_id, str) and run_id.isalnum():
            tracking.env["MLFLOW_RUN_ID"] = run_id
        tracking.record["mlflow_tracking_uri"] = uri
    if "trackio" in names:  # trackio reads TRACKIO_DIR once, when first imported (in a run's process: here)
        trackio_dir = os.environ.get("TRACKIO_DIR") or str(logs / "trackio")
        tracking.env.update(TRACKIO_PROJECT_NAME=project, TRACKIO_DIR=trackio_dir)
        tracking.record.update(trackio_project=project, trackio_dir=trackio_dir)
    return tracking


def _safe(text: str) -> str:
    """A folder name: [A-Za-z0-9_-], at most 60 characters."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:60].strip("_") or "llm-tool"


@contextmanager
def tracker_environment(tracking: Tracking | None) -> Iterator[None]:
    """The trackers' environment while the run trains (restored after: an in-process caller keeps its own)."""
    if tracking is None or not tracking.env:
        yield
        return
    saved = {key: os.environ.get(key) for key in tracking.env}
    os.environ.update(tracking.env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def recorder(tracking: Tracking, record: Any) -> Any:
    """A Trainer callback that records, once the trackers' callbacks have started, where each run is (the MLflow
    run id: a resume continues it) in the session; ``record(dict)`` writes it."""
    from transformers import TrainerCallback

    class TrackerRecorder(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if "mlflow" in tracking.names:
                import mlflow

                run = mlflow.active_run()
                if run is not None:
                    tracking.record["mlflow_run_id"] = run.info.run_id
            if state.is_world_process_zero:
                record(dict(tracking.record))
    return TrackerRecorder()


class _LogLines(io.TextIOBase):
    """A text stream whose lines go to the log (INFO), not the terminal."""

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                LOG.info("trackio: %s", line.strip())
        return len(text)


def quietly(action: Callable[..., Any]) -> Callable[..., Any]:
    """``action`` with what it prints on stdout sent to the log (trackio prints its project, dashboard hint and
    uploads unconditionally: a run through the Python API or a notebook prints nothing unless asked)."""
    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        with contextlib.redirect_stdout(_LogLines()):
            return action(*args, **kwargs)
    return run


def quiet_callbacks(callbacks: list[Any]) -> None:
    """The Trainer's trackio callback made quiet (each of its event methods: see ``quietly``)."""
    for callback in callbacks:
        if type(callback).__name__ == "TrackioCallback":
            for name in dir(callback):
                if name.startswith("on_") and callable(getattr(callback, name)):
                    setattr(callback, name, quietly(getattr(callback, name)))


def final_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """``final/<split>_<metric>`` for validation and test (the numbers of metrics.json)."""
    out: dict[str, float] = {}
    for split in ("validation", "test"):
        report = metrics.get(split)
        if isinstance(report, dict):
            out.update({f"final/{split}_{k}": float(report[k]) for k in FINAL_KEYS
                        if isinstance(report.get(k), (int, float))})
    return out


def log_final(tracking: Tracking, metrics: dict[str, Any], step: int) -> None:
    """The final validation/test metrics, once, to every tracker of the run."""
    values = final_metrics(metrics)
    if not values:
        return
    if "tensorboard" in tracking.names:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=tracking.record["tensorboard_dir"])
        for key, value in values.items():
            writer.add_scalar(key, value, step)
        writer.close()
    run_id = tracking.record.get("mlflow_run_id")
    if "mlflow" in tracking.names and run_id:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking.record["mlflow_tracking_uri"])
        for key, value in values.items():
            client.log_metric(run_id, key, value, step=step)
    if "trackio" in tracking.names:
        quietly(_log_trackio)(tracking, values, step)


def _log_trackio(tracking: Tracking, values: dict[str, float], step: int) -> None:
    import trackio

    trackio.init(project=tracking.project, name=tracking.run_name, resume="allow")
    trackio.log(values, step=step)
    trackio.finish()
