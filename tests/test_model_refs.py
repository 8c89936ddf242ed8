"""`report`, `infer` and `evaluate` name a model by history number, id, name or `latest`: while the newest session
is still running (no model yet), '1' says which number has one, and `latest` takes the newest with a model."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from llm_tool.sessions import SessionStore
from tests.helpers import fake_session, run_main


@pytest.fixture
def home(trained, tmp_path: Path) -> Path:
    """The shared trained home, copied, with a newer session still running (no saved model yet)."""
    home = tmp_path / "copied_home"
    shutil.copytree(trained.home, home, symlinks=True)
    fake_session(SessionStore(home), datetime(2099, 1, 1, 9, 0), status="running", best_f1=None)
    return home


def _run(home: Path, *args: str):
    return run_main(*args, env={"LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1"}, cwd=home)


def test_number_of_a_running_session_says_which_number_has_a_model(home: Path) -> None:
    listed = json.loads(_run(home, "sessions", "list", "--json").stdout)
    assert [r["number"] for r in listed] == [1, 2]  # numbers stay as the history shows them
    for args in (("report", "1"), ("infer", "1", "--text", "great"), ("evaluate", "1", "--data", "reviews.csv")):
        result = _run(home, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "unexpected" not in result.stderr, result.stderr
        text = lines[0]
        assert "#1" in text and "has no saved model yet" in text and "#2" in text and "latest" in text


def test_latest_takes_the_newest_session_with_a_model(home: Path, trained) -> None:
    result = _run(home, "infer", "latest", "--text", "great", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["labels"]
    report = _run(home, "report", "latest", "-o", str(home / "rep"))
    assert report.returncode == 0, report.stderr
    assert (home / "rep" / "report.html").is_file()


def test_latest_without_any_model_is_one_line(tmp_path: Path) -> None:
    fake_session(SessionStore(tmp_path), datetime(2099, 1, 1, 9, 0), status="running")
    result = _run(tmp_path, "report", "latest")
    assert result.returncode == 2 and "no session has a saved model yet" in result.stderr


def test_infer_input_reads_the_session_text_column(trained, tmp_path: Path) -> None:
    """Like `evaluate`, `infer --input` reads the column the session trained on (here 'review'), not 'text'."""
    home = tmp_path / "copied_home"
    shutil.copytree(trained.home, home, symlinks=True)
    (session,) = (home / "logs" / "training_sessions").glob("training_metadata_*.json")
    data = json.loads(session.read_text(encoding="utf-8"))
    data["dataset_config"]["text_column"] = "review"
    session.write_text(json.dumps(data), encoding="utf-8")
    (home / "new.csv").write_text("id,review\n1,great product\n2,awful service\n", encoding="utf-8")
    model_dir = Path(data["output_paths"]["model_dir"]).name
    for ref in (("1",), ("--model-dir", str(home / "models" / model_dir))):
        out = home / f"pred{len(ref)}.csv"
        result = _run(home, "infer", *ref, "--input", "new.csv", "--output", str(out))
        assert result.returncode == 0, result.stderr
        assert out.read_text(encoding="utf-8").count("\n") == 3
    other = _run(home, "infer", "1", "--input", "new.csv", "--output", "x.csv", "--text-column", "id")
    assert other.returncode == 0, other.stderr  # the flag still wins
