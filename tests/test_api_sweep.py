"""Sweeps from Python the xmux way: Job/launch_sweep/Sweep in a real tmux server on the test's private socket,
windows and panes as asked, the leaderboard equal to `sweep status --json`, and a user function job in a pane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import read_json, run_main, wait_until
from tests.sweep_helpers import panes
from tests.tmux_helpers import make_config, needs_tmux

USER_MODULE = '''
def train(config):
    print("user function got", config["x"], flush=True)
    if config.get("fail"):
        raise RuntimeError("asked to fail")
    return {"score": config["x"] * 2}
'''


def _base(home: Path, tiny_model: Path, sample_csv: Path) -> Path:
    folder = home.parent / "cfg"
    config = make_config(folder, "base.json", tiny_model, sample_csv, rows=40, epochs=1)
    (folder / "userjob_mod.py").write_text(USER_MODULE, encoding="utf-8")
    return config


def test_dry_run_plans_windows_and_titles_and_starts_nothing(isolated_home: Path, tiny_model: Path,
                                                             sample_csv: Path) -> None:
    from llm_tool.api import Job, launch_sweep

    base = _base(isolated_home, tiny_model, sample_csv)
    jobs = [Job({"model_config.learning_rate": lr}, window="lr-grid") for lr in (1e-3, 2e-3, 3e-3)]
    jobs.append(Job({"x": 1}, function="userjob_mod:train", title="mine"))
    sweep = launch_sweep(jobs, base=base, name="plan", max_panes_per_window=2, dry_run=True)
    layout = sweep.layout()
    assert list(layout["window"]) == ["lr-grid", "lr-grid", "lr-grid-2", "train"]
    assert list(layout["title"]) == ["lr1e-3", "lr2e-3", "lr3e-3", "mine"]
    assert not (isolated_home / "logs" / "sweeps" / "plan.json").exists()
    from llm_tool.errors import ConfigError
    from llm_tool.sweeps.state import SweepError

    with pytest.raises(SweepError, match="dry run"):
        sweep.status()
    with pytest.raises(ConfigError, match=r"package\.module:function"):
        launch_sweep([Job({}, function="os.system")], base=base, name="bad", dry_run=True)
    with pytest.raises(ConfigError, match=r"model_config\.learning_rate"):
        launch_sweep([Job({"model_config.learning_rate": -1})], base=base, name="bad", dry_run=True)


@needs_tmux
def test_sweep_from_python_in_tmux_with_a_user_function(tmux_socket: str, isolated_home: Path, tiny_model: Path,
                                                        sample_csv: Path) -> None:
    import pandas as pd

    from llm_tool.api import Job, Session, Sweep, launch_sweep

    base = _base(isolated_home, tiny_model, sample_csv)
    jobs = [Job({"model_config.learning_rate": 3e-3}, window="train", title="fast"),
            Job({"model_config.learning_rate": 1e-3}, window="train", title="slow"),
            Job({"x": 21}, window="mine", function="userjob_mod:train"),
            Job({"x": 1, "fail": True}, window="mine", title="broken", function="userjob_mod:train")]
    sweep = launch_sweep(jobs, base=base, name="py", max_parallel=2, max_panes_per_window=2)
    sweep.wait(timeout=240, poll=0.3)
    status = sweep.status()
    by_title = {row["title"]: row for row in status["jobs"]}
    assert {t: r["status"] for t, r in by_title.items()} == {"fast": "completed", "slow": "completed",
                                                              "train-3": "completed", "broken": "failed"}

    found = {(p["window_index"], p["window_name"], p["title"]) for p in panes(tmux_socket, "llmtool-sweep-py")}
    assert {("0", "control", "control"), ("1", "train", "fast"), ("1", "train", "slow"),
            ("2", "mine", "train-3"), ("2", "mine", "broken")} <= found

    cli = run_main("sweep", "status", "py", "--json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    board = sweep.leaderboard()
    pd.testing.assert_frame_equal(board, pd.DataFrame(expected["leaderboard"]))
    scored = dict(zip(board["title"], board["mean"], strict=True))
    assert scored["fast"] is not None and scored["slow"] is not None  # trainings have an F1, functions none
    assert pd.isna(scored["train-3"]) and pd.isna(scored["broken"])

    function_job = Session.load("py-train-3")
    assert function_job.metadata.execution_status.extra["result"] == {"score": 42}
    log = Path(function_job.metadata.output_paths.log_file)
    assert log == isolated_home / "logs" / "training_sessions" / f"{function_job.id}.log"
    assert "user function got 21" in log.read_text(encoding="utf-8")
    broken = Session.load("py-broken")
    assert broken.status == "failed" and "asked to fail" in Path(broken.metadata.output_paths.log_file).read_text()

    # the same name adds jobs to the sweep (planned after the existing ones, in their windows)
    more = launch_sweep([Job({"x": 2}, window="mine", function="userjob_mod:train", title="again")], base=base,
                        name="py", dry_run=True)
    assert more.plan is not None and more.plan.appending and list(more.layout()["window"]) == ["mine-2"]
    assert len(Sweep.load("py").layout()) == 4
    state = read_json(isolated_home / "logs" / "sweeps" / "py.json")
    assert [j.get("function") for j in state["jobs"]] == [None, None, "userjob_mod:train", "userjob_mod:train"]

    def scheduler_gone() -> bool:
        return not sweep.status()["sweep"]["scheduler_alive"]
    wait_until(scheduler_gone, timeout=60, what="the scheduler to exit")


def test_the_xmux_demo_plans_72_jobs_in_18_windows_of_4_panes(isolated_home: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, str(ROOT / "examples" / "xmux_demo.py"), "large", "--dry-run"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "72 jobs in 18 windows (window 0: control + scheduler)"
    assert all(" 4 panes: " in line for line in lines[1:19])
    assert "bert-base-adamw " in lines[1] and "deberta-v3-sgd-3 " in lines[18]
    assert not (isolated_home / "logs").exists()  # nothing created
