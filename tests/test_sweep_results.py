"""Leaderboard and reports from metrics files on disk, the benchmark parent session, and CLI paths without tmux."""

from __future__ import annotations

import ast
import json
import shutil
import uuid
from pathlib import Path

import pytest

from llm_tool.cli import main
from llm_tool.sessions import SessionStore
from llm_tool.sweeps import benchmark
from llm_tool.sweeps.leaderboard import leaderboard
from llm_tool.sweeps.ranking import format_plain, ranking
from llm_tool.sweeps.report import write_report
from llm_tool.sweeps.state import ParentSession
from tests.helpers import read_json, session_files
from tests.sweep_helpers import fake_finished_session, fake_state, write_sweep
from tests.tmux_helpers import tmux

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_file(isolated_home: Path) -> Path:
    path = isolated_home / "data.csv"
    path.write_text("text,label\ngood,positive\nbad,negative\n", encoding="utf-8")
    return path


@pytest.fixture
def finished(isolated_home: Path, data_file: Path) -> tuple[SessionStore, list[tuple[Path, str, str]]]:
    """Four finished jobs: middling, best, no metrics (failed), validation-only."""
    store = SessionStore(isolated_home)
    made = [fake_finished_session(store, data_file, model="org/mid", macro_f1=0.61,
                                  per_class={"negative": 0.5, "positive": 0.72}),
            fake_finished_session(store, data_file, model="org/best", macro_f1=0.83, runtime=30.0, speed=40.0),
            fake_finished_session(store, data_file, model="org/broken", macro_f1=None),
            fake_finished_session(store, data_file, model="org/noval", macro_f1=0.99, test=False)]
    return store, [(p, sid, title) for (p, sid), title in zip(made, ["mid", "best", "broken", "noval"], strict=False)]


def test_leaderboard_ranks_by_test_macro_f1_on_disk(isolated_home: Path, finished: tuple) -> None:
    store, sessions = finished
    state = fake_state(isolated_home, "fake", sessions)
    rows = leaderboard(state, store)
    assert [(r.rank, r.title) for r in rows] == [(1, "best"), (2, "mid"), (3, "noval"), (None, "broken")]
    best, mid, noval, broken = rows
    assert (best.score, best.split, best.train_runtime_seconds, best.train_samples_per_second) == (0.83, "test",
                                                                                                  30.0, 40.0)
    assert mid.per_class == {"negative": 0.5, "positive": 0.72}
    assert (noval.split, noval.score) == ("validation", 0.495)  # ranked after every test score
    assert broken.status == "failed" and broken.metrics_file is None
    # the ranking follows the files on disk, not anything recorded in the sweep
    metrics = Path(mid.metrics_file)
    data = read_json(metrics)
    data["test"]["macro_f1"] = 0.9
    metrics.write_text(json.dumps(data), encoding="utf-8")
    assert [r.title for r in leaderboard(state, store)][:2] == ["mid", "best"]
    plain = format_plain(ranking(state, store))
    assert plain.splitlines()[0].split()[:6] == ["rank", "configuration", "model", "seeds", "status", "macro-F1"]


def test_report_writes_markdown_and_png(isolated_home: Path, finished: tuple, tmp_path: Path) -> None:
    store, sessions = finished
    state = fake_state(isolated_home, "fake", sessions)
    md, png = write_report(state, ranking(state, store), tmp_path / "out")
    text = md.read_text(encoding="utf-8")
    assert "# Sweep `fake`" in text and "**best: best** (org/best) macro-F1 0.8300" in text
    assert "| 1 | best | org/best | 1 | completed | 0.8300 | best |" in text and f"![scores]({png.name})" in text
    assert "| 2 | mid | org/mid | 1 | completed | 0.6100 | -0.2200 |" in text  # no predictions.npz: no interval
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_benchmark_parent_records_the_best(isolated_home: Path, finished: tuple) -> None:
    store, sessions = finished
    state = fake_state(isolated_home, "bench", sessions[:3], kind="benchmark")
    base = {"dataset_config": {"primary_file": str(sessions[0][0])}, "model_config": {}}
    path, sid = benchmark.create_parent(store, base, base_dir=isolated_home, name="bench", models=["org/mid"])
    benchmark.add_children(store, path, [s for _, s, _ in sessions[:3]], ["org/mid", "org/best", "org/broken"])
    state.parent_session = ParentSession(session_id=sid, session_file=str(path))
    top = benchmark.finalize(state, store)
    assert top is not None and top.model == "org/best"
    meta = read_json(path)
    assert meta["training_session"]["workflow"] == "benchmark" and meta["training_session"]["sweep_id"] == "bench"
    assert meta["training_session"]["child_sessions"] == [s for _, s, _ in sessions[:3]]
    status = meta["execution_status"]
    assert (status["status"], status["best_model"], status["best_f1"]) == ("completed", "org/best", 0.83)
    assert [e["model"] for e in status["leaderboard"]] == ["org/best", "org/mid", "org/broken"]
    assert meta["benchmark"]["models"] == ["org/mid", "org/best", "org/broken"]


def test_status_list_and_report_commands(isolated_home: Path, finished: tuple, capsys: pytest.CaptureFixture) -> None:
    _, sessions = finished
    fake_state(isolated_home, "fake", sessions)
    assert main(["sweep", "status", "fake", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sweep"]["counts"] == {"completed": 3, "failed": 1} and data["leaderboard"][0]["title"] == "best"
    assert main(["sweep", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "fake" and listed[0]["best"]["title"] == "best"
    assert main(["sweep", "report", "fake", "-o", str(isolated_home / "rep")]) == 0
    assert (isolated_home / "rep" / "fake.md").is_file() and (isolated_home / "rep" / "fake_scores.png").is_file()
    assert main(["sweep", "status", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no sweep named 'nope'" in err and "fake" in err


def test_dry_run_starts_nothing(isolated_home: Path, data_file: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture) -> None:
    socket = f"llmtool-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("LLM_TOOL_TMUX_SOCKET", socket)
    base = {"dataset_config": {"primary_file": "data.csv"}, "model_config": {"selected_model": "org/m"}}
    sweep = write_sweep(isolated_home / "grid.json", base, max_panes_per_window=2,
                        grid={"model_config.learning_rate": [2e-5, 5e-5], "model_config.batch_size": [16, 32]})
    assert main(["sweep", "start", str(sweep), "--dry-run", "--max-parallel", "2"]) == 0
    out = capsys.readouterr().out
    assert "sweep grid: 4 jobs, at most 2 at once" in out and "llmtool-sweep-grid" in out
    for window, title in (("1:m ", "lr2e-5_bs16"), ("1:m ", "lr2e-5_bs32"), ("2:m-2", "lr5e-5_bs16")):
        assert any(window in line and title in line for line in out.splitlines()), (window, title, out)
    assert "nothing was started" in out
    assert session_files(isolated_home) == [] and not (isolated_home / "logs" / "sweeps").exists()
    if shutil.which("tmux"):
        assert tmux(socket, "list-sessions").returncode != 0  # no tmux server was started


def test_existing_name_needs_yes_without_a_terminal(isolated_home: Path, data_file: Path, finished: tuple,
                                                   capsys: pytest.CaptureFixture) -> None:
    fake_state(isolated_home, "grid", finished[1][:1])
    before = session_files(isolated_home)
    base = {"dataset_config": {"primary_file": "data.csv"}, "model_config": {}}
    sweep = write_sweep(isolated_home / "grid.json", base, jobs=[{"model_config.epochs": 2}])
    assert main(["sweep", "start", str(sweep)]) == 2
    err = capsys.readouterr().err
    assert "a sweep named grid already exists (1 jobs): add --yes to append these 1 jobs" in err
    assert session_files(isolated_home) == before
    assert main(["sweep", "start", str(sweep), "--dry-run"]) == 0  # a dry run shows the appended layout
    out = capsys.readouterr().out
    assert "adding 1 jobs to sweep grid (1 already)" in out and "j002" in out


def test_bad_sweep_file_exit_2_one_line(isolated_home: Path, capsys: pytest.CaptureFixture) -> None:
    bad = isolated_home / "bad.json"
    bad.write_text('{"base": {}, "grid": {"model_config.learning_rate": 1e-5}}', encoding="utf-8")
    assert main(["sweep", "start", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "must be a non-empty list" in err
    assert main(["benchmark", str(bad), "--models", "a", "a"]) == 2


def test_core_never_imports_ui_libraries() -> None:
    for path in sorted((ROOT / "llm_tool" / "sweeps").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("rich", "questionary", "curses", "llm_tool.ui", "llm_tool.cli",
                                            "llm_tool.wizard", "llm_tool.sweeps_ui", "torch", "transformers")), \
                    f"{path.name} imports {name}"
        assert "input(" not in path.read_text(encoding="utf-8"), f"{path.name} prompts"
