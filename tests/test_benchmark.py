"""Benchmark mode end to end: same data and split per candidate, a ranked leaderboard, the best on a parent session.
One benchmark (two seeds per candidate, the second candidate added once the first has finished) checks it all."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from tests.helpers import read_json, run_main
from tests.sweep_helpers import assert_ranked, state_of
from tests.tmux_helpers import make_config, needs_tmux

pytestmark = needs_tmux


def test_benchmark_with_seeds_ranks_candidates_on_the_same_test_rows_and_records_the_best(
        tmux_socket: str, isolated_home: Path, tiny_model: Path, sample_csv: Path, tmp_path: Path) -> None:
    other = shutil.copytree(tiny_model, tmp_path / "tiny_b")
    config = make_config(isolated_home.parent / "cfg", "bench.json", tiny_model, sample_csv, rows=60, epochs=1)
    proc = run_main("benchmark", str(config), "--models", str(tiny_model), "--seeds", "2", "--name", "cmp", "--wait")
    assert proc.returncode == 0, proc.stderr
    assert "started benchmark cmp: 2 jobs, at most 1 at once" in proc.stdout  # one at a time unless told

    # a second candidate added to the finished benchmark: its scheduler starts again, the parent is updated
    proc = run_main("benchmark", str(config), "--models", str(other), "--seeds", "2", "--max-parallel", "2",
                    "--name", "cmp", "--yes", "--wait", env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    assert "added 2 jobs to benchmark cmp: 4 jobs, at most 2 at once" in proc.stdout
    assert "Leaderboard of cmp (ranked by test macro-F1)" in proc.stdout and "best model:" in proc.stdout
    board_text = proc.stdout.split("Leaderboard of cmp", 1)[1]
    table = [line for line in board_text.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) == 6 and max(len(line) for line in table) <= 80, proc.stdout  # one line per configuration

    state = state_of(isolated_home, "cmp")
    assert state["kind"] == "benchmark" and state["state"] == "finished"
    jobs = sorted(state["jobs"], key=lambda j: j["number"])
    assert [j["status"] for j in jobs] == ["completed"] * 4
    # each start has one model and two seeds: the titles still name the model
    assert [j["title"] for j in jobs] == [f"{m}_seed{s}" for m in (tiny_model.name, "tiny_b") for s in (42, 43)]
    assert [j["window"] for j in jobs] == [tiny_model.name] * 2 + ["tiny_b"] * 2  # one window per model
    children = [read_json(Path(j["session_file"])) for j in jobs]
    _assert_the_same_data_split_and_test_rows(isolated_home, children, [str(tiny_model), str(other)])
    _assert_the_best_is_recorded(isolated_home, state, children, [str(tiny_model), str(other)])

    proc = run_main("sweep", "report", "cmp", "-o", str(isolated_home / "reports"))
    assert proc.returncode == 0, proc.stderr
    text = (isolated_home / "reports" / "cmp.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmark `cmp`") and state["parent_session"]["session_id"] in text
    assert (isolated_home / "reports" / "cmp_scores.png").stat().st_size > 0


def _assert_the_same_data_split_and_test_rows(home: Path, children: list[dict[str, Any]], models: list[str]) -> None:
    from llm_tool.results.predictions import load_predictions

    assert [c["model_config"]["selected_model"] for c in children] == [m for m in models for _ in (1, 2)]
    for key in ("split_sizes", "fingerprint_sha256", "primary_file"):  # the same data and split for all
        assert len({str(c["dataset_config"][key]) for c in children}) == 1
    assert [c["model_config"]["seed"] for c in children] == [42, 43, 42, 43]
    assert {c["dataset_config"]["split_seed"] for c in children} == {42}
    assert {c["model_config"]["training_mode"] for c in children} == {"benchmark"}
    saved = [load_predictions(home / "models" / c["training_session"]["session_id"]) for c in children]
    golds = [s.splits["test"].labels for s in saved if s is not None]
    assert len(golds) == 4 and all(np.array_equal(golds[0], g) for g in golds)  # the same test rows, in order


def _assert_the_best_is_recorded(home: Path, state: dict[str, Any], children: list[dict[str, Any]],
                                 models: list[str]) -> None:
    parent = read_json(Path(state["parent_session"]["session_file"]))
    assert parent["training_session"]["workflow"] == "benchmark"
    assert parent["training_session"]["child_sessions"] == [c["training_session"]["session_id"] for c in children]
    status = parent["execution_status"]
    board = status["leaderboard"]
    assert_ranked(board, 2)
    assert status["status"] == "completed"
    assert [e["n_seeds"] for e in board] == [2, 2] and {e["model"] for e in board} == set(models)
    for entry in board:
        scores = [read_json(home / "models" / sid / "metrics.json")["test"]["macro_f1"]
                  for sid in entry["session_ids"]]
        assert entry["seed_scores"] == scores and entry["macro_f1"] == np.mean(scores)
        assert abs(entry["macro_f1_sd"] - np.std(scores, ddof=1)) < 1e-12
    second = board[1]
    assert second["ci_low"] is not None and second["mcnemar_p"] is not None
    assert second["tied"] == (second["ci_low"] <= 0 <= second["ci_high"])
    assert (status["best_model"], status["best_f1"]) == (board[0]["model"], board[0]["macro_f1"])
    best = read_json(home / "models" / status["best_session"] / "metrics.json")  # the best configuration's best seed
    assert status["best_session"] in board[0]["session_ids"]
    assert best["test"]["macro_f1"] == max(board[0]["seed_scores"])
