"""The Python API called in process: train and read metrics, load by number/name/id, predict equal to `infer`,
evaluate, report, relaunch, the CLI's errors as exceptions, and nothing printed unless asked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CSV
from tests.helpers import run_main, sample_rows, write_config, write_csv


def _config(home: Path, tiny_model: Path, rows: int = 40) -> Path:
    data = write_csv(home / "reviews.csv", sample_rows(SAMPLE_CSV, rows))
    return write_config(home / "config.json", data, tiny_model, num_threads=1)


@pytest.fixture
def copied(trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared trained home, copied, as this test's LLM_TOOL_HOME."""
    home = tmp_path / "copied_home"
    shutil.copytree(trained.home, home, symlinks=True)
    monkeypatch.setenv("LLM_TOOL_HOME", str(home))
    monkeypatch.chdir(home)
    return home


def test_importing_llm_tool_loads_neither_torch_nor_pandas() -> None:
    code = "import sys, llm_tool; print(sorted(m for m in ('torch', 'pandas', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import sys, llm_tool; llm_tool.Session; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_train_in_process_is_silent_and_gives_the_metrics(isolated_home: Path, tiny_model: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import llm_tool

    config = _config(isolated_home, tiny_model)
    session = llm_tool.train(config, session_name="api-run", learning_rate=3e-3, epochs=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert session.status == "completed"
    assert session.metrics["test"]["macro_f1"] == pytest.approx(session.test_macro_f1)
    assert session.metadata.model_config["epochs"] == 1
    assert (session.model_dir / "config.json").is_file()
    table = session.metrics_table()
    assert list(table.index) == ["validation", "test"] and table.loc["test", "macro_f1"] == session.test_macro_f1
    listed = json.loads(run_main("sessions", "list", "--json").stdout)
    assert listed[0]["session_id"] == session.id and listed[0]["name"] == "api-run"


def test_verbose_shows_the_cli_progress_in_plain_text(isolated_home: Path, tiny_model: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The capture that stays empty above (silent by default) is the one Rich's progress goes to when asked."""
    import llm_tool

    config = _config(isolated_home, tiny_model)
    session = llm_tool.train(config, session_name="loud", learning_rate=3e-3, epochs=1, verbose=True)
    out = capsys.readouterr().out
    assert session.status == "completed"
    lines = out.splitlines()
    assert lines[0].startswith(f"session {session.id}")
    for stage in ("reading data", "training", "epoch 1: validation macro-F1", "saving the model"):
        assert any(line.endswith(stage) or f"] {stage}" in line for line in lines), (stage, out)
    assert "Results (best model)" in out and f"✓ {session.id} completed" in out
    assert "\x1b[" not in out  # not a terminal (a notebook, a pipe): no escape codes


def test_load_by_number_name_and_id(copied: Path) -> None:
    from llm_tool import Session, list_sessions
    from llm_tool.api import sessions

    assert list_sessions is sessions
    by_number = Session.load(1)
    assert Session.load("shared").id == by_number.id == Session.load(by_number.id).id
    assert [s.id for s in sessions(status="completed")] == [by_number.id]
    assert sessions(status="failed") == []


def test_predict_equals_infer(copied: Path, trained) -> None:
    import pandas as pd

    from llm_tool import Session

    texts = pd.DataFrame({"text": ["great phone, works well", "broke after a day", "ok"], "id": [1, 2, 3]})
    texts.to_csv(copied / "in.csv", index=False)
    result = run_main("infer", "shared", "--input", "in.csv", "--output", "out.csv")
    assert result.returncode == 0, result.stderr
    expected = pd.read_csv(copied / "out.csv")
    got = Session.load("shared").predict(texts)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, atol=1e-6)
    listed = Session.load("shared").predict(list(texts["text"]))
    assert list(listed["predicted_label"]) == list(expected["predicted_label"])
    assert list(listed.columns[:2]) == ["text", "predicted_label"]


def test_evaluate_a_dataframe_and_write_the_report(copied: Path) -> None:
    import pandas as pd

    from llm_tool import Session

    session = Session.load("shared")
    frame = pd.read_csv(copied / "reviews.csv").head(20)
    result = session.evaluate(frame)
    assert result["evaluation"]["num_samples"] == 20 and "predictions" not in result
    assert Path(result["result_file"]).is_file()
    assert session.metadata.extra["evaluations"][-1]["num_samples"] == 20
    html = session.report(copied / "rep")
    assert html == copied / "rep" / "report.html" and html.is_file()


def test_relaunch_saved_keeps_the_settings_and_overrides(copied: Path) -> None:
    from llm_tool import Session

    original = Session.load("shared")
    again = original.relaunch(place="save", session_name="again", epochs=2)
    assert again.status == "pending" and again.name == "again"
    meta = again.metadata
    assert meta.model_config["epochs"] == 2 and meta.training_session.parent_session == original.id
    assert Session.load(1).id == again.id


def test_errors_are_the_cli_exceptions_never_system_exit(copied: Path, tiny_model: Path) -> None:
    import llm_tool
    from llm_tool.errors import ConfigError, SessionError

    with pytest.raises(SessionError, match="no session 'nope'"):
        llm_tool.Session.load("nope")
    with pytest.raises(ConfigError, match="unknown setting 'epochz'"):
        llm_tool.train(copied / "config.json", epochz=2)
    with pytest.raises(ConfigError, match="learning_rate"):
        llm_tool.train(copied / "config.json", learning_rate=-1.0)
    with pytest.raises(SessionError, match="already completed"):
        llm_tool.Session.load("shared").resume()
    with pytest.raises(ConfigError, match="place must be one of"):
        llm_tool.train(copied / "config.json", place="cloud")  # type: ignore[arg-type]
    assert [s.name for s in llm_tool.list_sessions()] == ["shared"]  # nothing was created
