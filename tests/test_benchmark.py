"""Benchmark mode end to end: same data and split per candidate, a ranked leaderboard, the best on a parent session."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.helpers import read_json, run_main
from tests.sweep_helpers import assert_ranked, state_of
from tests.tmux_helpers import make_config, needs_tmux

pytestmark = needs_tmux


def test_benchmark_ranks_candidates_and_records_the_best(tmux_socket: str, isolated_home: Path, tiny_model: Path,
                                                         sample_csv: Path, tmp_path: Path) -> None:
    other = shutil.copytree(tiny_model, tmp_path / "tiny_b")
    config = make_config(isolated_home.parent / "cfg", "bench.json", tiny_model, sample_csv, rows=60, epochs=1)
    proc = run_main("benchmark", str(config), "--models", str(tiny_model), "--name", "cmp", "--wait")
    assert proc.returncode == 0, proc.stderr
    assert "started benchmark cmp: 1 jobs, at most 1 at once" in proc.stdout

    # a second candidate added to the finished benchmark: its scheduler starts again, the parent is updated
    proc = run_main("benchmark", str(config), "--models", str(other), "--name", "cmp", "--yes", "--wait",
                   env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert "Leaderboard of cmp (ranked by test macro-F1)" in proc.stdout and "best model:" in proc.stdout

    state = state_of(isolated_home, "cmp")
    assert state["kind"] == "benchmark" and state["state"] == "finished"
    jobs = sorted(state["jobs"], key=lambda j: j["number"])
    assert [j["status"] for j in jobs] == ["completed", "completed"]
    assert [j["window"] for j in jobs] == [tiny_model.name, "tiny_b"]  # one window per model
    children = [read_json(Path(j["session_file"])) for j in jobs]
    assert [c["model_config"]["selected_model"] for c in children] == [str(tiny_model), str(other)]
    for key in ("split_sizes", "fingerprint_sha256", "primary_file"):  # the same data and split for both
        assert children[0]["dataset_config"][key] == children[1]["dataset_config"][key]
    assert children[0]["model_config"]["seed"] == children[1]["model_config"]["seed"]
    assert {c["model_config"]["training_mode"] for c in children} == {"benchmark"}

    parent = read_json(Path(state["parent_session"]["session_file"]))
    assert parent["training_session"]["workflow"] == "benchmark"
    assert parent["training_session"]["child_sessions"] == [c["training_session"]["session_id"] for c in children]
    status = parent["execution_status"]
    board = status["leaderboard"]
    assert_ranked(board, 2)
    assert status["status"] == "completed"
    assert (status["best_model"], status["best_f1"]) == (board[0]["model"], board[0]["macro_f1"])
    metrics = read_json(Path(isolated_home / "models" / status["best_session"] / "metrics.json"))
    assert metrics["test"]["macro_f1"] == status["best_f1"]

    proc = run_main("sweep", "report", "cmp", "-o", str(isolated_home / "reports"))
    assert proc.returncode == 0, proc.stderr
    text = (isolated_home / "reports" / "cmp.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmark `cmp`") and state["parent_session"]["session_id"] in text
    assert (isolated_home / "reports" / "cmp_scores.png").stat().st_size > 0


def test_benchmark_with_seeds_pairs_the_same_test_rows(tmux_socket: str, isolated_home: Path, tiny_model: Path,
                                                        sample_csv: Path, tmp_path: Path) -> None:
    from llm_tool.results.predictions import load_predictions

    other = shutil.copytree(tiny_model, tmp_path / "tiny_b")
    config = make_config(isolated_home.parent / "cfg", "bench.json", tiny_model, sample_csv, rows=60, epochs=1)
    proc = run_main("benchmark", str(config), "--models", str(tiny_model), str(other), "--seeds", "2",
                    "--max-parallel", "2", "--name", "seeded", "--wait", env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    assert "started benchmark seeded: 4 jobs" in proc.stdout and "Leaderboard of seeded" in proc.stdout
    board_text = proc.stdout.split("Leaderboard of seeded", 1)[1]
    table = [line for line in board_text.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) == 6 and max(len(line) for line in table) <= 80, proc.stdout  # one line per configuration
    state = state_of(isolated_home, "seeded")
    jobs = sorted(state["jobs"], key=lambda j: j["number"])
    assert [j["title"] for j in jobs] == [f"{m}_seed{s}" for m in (tiny_model.name, "tiny_b") for s in (42, 43)]
    children = [read_json(Path(j["session_file"])) for j in jobs]
    assert [c["model_config"]["seed"] for c in children] == [42, 43, 42, 43]
    assert {c["dataset_config"]["split_seed"] for c in children} == {42}
    saved = [load_predictions(isolated_home / "models" / c["training_session"]["session_id"]) for c in children]
    golds = [s.splits["test"].labels for s in saved if s is not None]
    assert len(golds) == 4 and all(np.array_equal(golds[0], g) for g in golds)  # the same test rows, in order

    status = read_json(Path(state["parent_session"]["session_file"]))["execution_status"]
    board = status["leaderboard"]
    assert_ranked(board, 2)
    assert [e["n_seeds"] for e in board] == [2, 2] and {e["model"] for e in board} == {str(tiny_model), str(other)}
    for entry in board:
        scores = [read_json(isolated_home / "models" / sid / "metrics.json")["test"]["macro_f1"]
                  for sid in entry["session_ids"]]
        assert entry["seed_scores"] == scores and entry["macro_f1"] == np.mean(scores)
        assert abs(entry["macro_f1_sd"] - np.std(scores, ddof=1)) < 1e-12
    second = board[1]
    assert second["ci_low"] is not None and second["mcnemar_p"] is not None
    assert second["tied"] == (second["ci_low"] <= 0 <= second["ci_high"])
    assert (status["best_model"], status["best_f1"]) == (board[0]["model"], board[0]["macro_f1"])
