"""`model_config.report_to`: a TensorBoard event file and an MLflow run (local SQLite store) per session, the final
metrics logged, and a resumed run appending to the same MLflow run; `doctor` says which trackers are installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CSV
from tests.helpers import sample_rows, write_config, write_csv


def _needs(*modules: str) -> None:
    for module in modules:
        pytest.importorskip(module, reason=f"{module} is not installed: pip install 'llm-tool[tracking]'")


def test_doctor_lists_the_trackers() -> None:
    from llm_tool.doctor.checks import CHECKS, check_trackers
    from llm_tool.training.trackers import installed

    assert check_trackers in CHECKS
    found = check_trackers()
    assert found.name == "experiment trackers" and found.status == "ok"  # optional: never a problem
    for name, present in installed().items():
        assert (f"{name} (installed)" if present else f"{name} (not installed)") in found.detail
    assert (found.fix is None) == all(installed().values())


def test_a_tracker_that_is_not_installed_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_tool.errors import ConfigError
    from llm_tool.training import trackers

    monkeypatch.setattr(trackers, "installed", lambda: {"tensorboard": False, "mlflow": False, "trackio": False})
    with pytest.raises(ConfigError, match=r"pip install 'llm-tool\[tracking\]'"):
        trackers.check_installed(["mlflow"])


def test_tensorboard_and_mlflow_runs_and_a_resume_appends_to_the_same_run(isolated_home: Path,
                                                                          tiny_model: Path) -> None:
    _needs("tensorboard", "mlflow")
    import llm_tool

    data = write_csv(isolated_home / "reviews.csv", sample_rows(SAMPLE_CSV, 40))
    config = write_config(isolated_home / "config.json", data, tiny_model, num_threads=1, epochs=2,
                          keep_checkpoints=True)
    # a budget spent after the first step: the run stops with a checkpoint and can be resumed (as after a stop)
    session = llm_tool.train(config, session_name="tracked", report_to=["tensorboard", "mlflow"],
                             time_budget="0.01s")
    assert session.status == "completed"
    assert session.metadata.execution_status.extra["completion_reason"] is not None
    recorded = session.metadata.training_session.extra["trackers"]
    run_id = recorded["mlflow_run_id"]
    assert recorded["mlflow_tracking_uri"] == f"sqlite:///{isolated_home / 'logs' / 'mlflow.db'}"
    events = list((isolated_home / "logs" / "tensorboard" / "tracked" / session.id).glob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file"

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=recorded["mlflow_tracking_uri"])
    run = client.get_run(run_id)
    assert run.info.run_name == session.id
    assert client.get_experiment(run.info.experiment_id).name == "tracked"
    assert float(run.data.params["learning_rate"]) == pytest.approx(3e-3)
    first = run.data.metrics["final/test_macro_f1"]
    assert first == pytest.approx(session.metrics["test"]["macro_f1"])
    steps_before = {m.step for m in client.get_metric_history(run_id, "final/test_macro_f1")}

    session.resume(time_budget="1h")
    assert session.status == "completed"
    assert session.metadata.training_session.extra["trackers"]["mlflow_run_id"] == run_id  # the same run
    assert len(client.search_runs([run.info.experiment_id])) == 1
    history = client.get_metric_history(run_id, "final/test_macro_f1")
    assert {m.step for m in history} > steps_before  # the resumed segment appended its final metrics
    assert client.get_run(run_id).data.metrics["final/test_macro_f1"] == pytest.approx(
        session.metrics["test"]["macro_f1"])


def _trackio_rows(db: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str, int, dict[str, float]]]]:
    """(run id, run name) of each run's config, and (run id, run name, step, metrics) of each logged row."""
    import json
    import sqlite3

    with sqlite3.connect(db) as conn:
        configs = conn.execute("SELECT run_id, run_name FROM configs").fetchall()
        rows = conn.execute("SELECT run_id, run_name, step, metrics FROM metrics ORDER BY id").fetchall()
    return configs, [(run_id, name, step, json.loads(metrics)) for run_id, name, step, metrics in rows]


def test_trackio_writes_a_local_run_named_by_the_session_and_a_resume_continues_it(
        isolated_home: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    import sys

    if importlib.util.find_spec("trackio") is None:  # not imported here: its import would fix its folder now
        pytest.skip("trackio is not installed: pip install 'llm-tool[tracking]'")
    if "trackio" in sys.modules:  # trackio reads TRACKIO_DIR once, at its import: this process already chose one
        pytest.skip("trackio was imported earlier in this process; its store folder is fixed (run this file alone)")
    import llm_tool

    monkeypatch.delenv("TRACKIO_DIR", raising=False)
    monkeypatch.delenv("TRACKIO_SPACE_ID", raising=False)
    data = write_csv(isolated_home / "reviews.csv", sample_rows(SAMPLE_CSV, 40))
    config = write_config(isolated_home / "config.json", data, tiny_model, num_threads=1, epochs=2,
                          keep_checkpoints=True)
    session = llm_tool.train(config, session_name="tio", report_to=["trackio"], time_budget="0.01s")
    assert session.status == "completed"
    recorded = session.metadata.training_session.extra["trackers"]
    store = isolated_home / "logs" / "trackio"
    assert recorded == {"trackio_project": "tio", "trackio_dir": str(store)}
    (db,) = store.glob("*.db")  # the project's SQLite store, in the home (never ~/.cache)
    configs, rows = _trackio_rows(db)
    assert [name for _, name in configs] == [session.id]
    run_id = configs[0][0]
    finals = [(step, m["final/test_macro_f1"]) for _, _, step, m in rows if "final/test_macro_f1" in m]
    assert finals == [(1, pytest.approx(session.metrics["test"]["macro_f1"]))]
    assert any("train/loss" in m or "loss" in m for *_, m in rows)  # the Trainer's callback logged as it trained

    session.resume(time_budget="1h")
    assert session.status == "completed"
    configs, rows = _trackio_rows(db)
    assert configs == [(run_id, session.id)]  # the same run, continued
    assert {(rid, name) for rid, name, *_ in rows} == {(run_id, session.id)}
    finals = [(step, m["final/test_macro_f1"]) for _, _, step, m in rows if "final/test_macro_f1" in m]
    assert [step for step, _ in finals] == [1, 8]
    assert finals[-1][1] == pytest.approx(session.metrics["test"]["macro_f1"])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "", captured  # the API stays silent with a tracker too
