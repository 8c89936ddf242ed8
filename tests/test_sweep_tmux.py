"""A real 2x2 grid in a real tmux server: at most 2 at once, all completed, in the planned windows and panes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from llm_tool.sweeps.queue import max_concurrency
from tests.helpers import read_json, run_main, session_files, wait_until
from tests.sweep_helpers import assert_ranked, panes, state_when, write_sweep
from tests.tmux_helpers import make_config, needs_tmux, session_names

pytestmark = needs_tmux


def test_grid_2x2_runs_at_most_two_at_once_in_planned_panes(tmux_socket: str, isolated_home: Path,
                                                             tiny_model: Path, sample_csv: Path) -> None:
    folder = isolated_home.parent / "cfg"
    make_config(folder, "base.json", tiny_model, sample_csv, rows=60, epochs=1)
    sweep = write_sweep(folder / "grid.json", "base.json", max_panes_per_window=2,
                        grid={"model_config.learning_rate": [2e-5, 3e-3], "model_config.batch_size": [8, 16]})
    proc = run_main("sweep", "start", str(sweep), "--max-parallel", "2")
    assert proc.returncode == 0, proc.stderr
    assert "started sweep grid: 4 jobs, at most 2 at once" in proc.stdout
    assert f"tmux -L {tmux_socket} attach -t '=llmtool-sweep-grid'" in proc.stdout
    assert "llmtool-sweep-grid" in session_names(tmux_socket)

    state = state_when(isolated_home, "grid", lambda s: s["state"] == "finished", timeout=240)
    jobs = sorted(state["jobs"], key=lambda j: j["number"])
    assert [j["status"] for j in jobs] == ["completed"] * 4
    assert [j["title"] for j in jobs] == ["lr2e-5_bs8", "lr2e-5_bs16", "lr3e-3_bs8", "lr3e-3_bs16"]

    # never more than 2 at once: the scheduler's record, and (independently) the sessions' own timestamps
    assert state["max_running_seen"] == 2
    assert max_concurrency([(j["started_ts"], j["finished_ts"]) for j in jobs]) == 2
    metas = [read_json(p) for p in session_files(isolated_home)]
    assert len(metas) == 4 and {m["training_session"]["sweep_id"] for m in metas} == {"grid"}
    spans = [(datetime.fromisoformat(m["execution_status"]["started_at"]).timestamp(),
              datetime.fromisoformat(m["execution_status"]["completed_at"]).timestamp()) for m in metas]
    assert max_concurrency(spans) <= 2
    assert {m["execution_status"]["status"] for m in metas} == {"completed"}

    # windows: 0 = control + scheduler; the model's group, overflowing to `<group>-2` after 2 panes
    group = tiny_model.name
    by_pane = {p["pane_id"]: p for p in panes(tmux_socket, "llmtool-sweep-grid")}
    control = [p for p in by_pane.values() if p["window_index"] == "0"]
    assert {p["window_name"] for p in control} == {"control"}
    assert {p["title"] for p in control} == {"control", "scheduler"}
    placed = {(by_pane[j["pane_id"]]["window_index"], by_pane[j["pane_id"]]["window_name"],
               by_pane[j["pane_id"]]["title"]) for j in jobs}
    assert placed == {("1", group, "lr2e-5_bs8"), ("1", group, "lr2e-5_bs16"),
                      ("2", f"{group}-2", "lr3e-3_bs8"), ("2", f"{group}-2", "lr3e-3_bs16")}
    assert all(by_pane[j["pane_id"]]["window_id"] == j["window_id"] for j in jobs)

    def scheduler_gone() -> dict | None:  # it writes "finished", then exits: wait for the exit, not a time
        proc = run_main("sweep", "status", "grid", "--json")
        assert proc.returncode == 0, proc.stderr
        found = json.loads(proc.stdout)
        return None if found["sweep"]["scheduler_alive"] else found
    status = wait_until(scheduler_gone, timeout=60, what="the scheduler to exit")
    assert status["sweep"]["counts"] == {"completed": 4}
    assert_ranked(status["leaderboard"], 4)
    assert all(r["mean"] is not None and r["train_samples_per_second"] for r in status["leaderboard"])
