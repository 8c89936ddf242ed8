"""The control window end to end (keys sent into its pane), adding jobs to a running sweep, and `sweep kill`."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_main, wait_until
from tests.sweep_helpers import capture, display, job, session_status, state_of, state_when, write_sweep
from tests.tmux_helpers import make_config, needs_tmux, session_names, tmux

pytestmark = needs_tmux
NAME, TMUX_NAME = "ctl", "llmtool-sweep-ctl"


def selected_line(socket: str, pane: str) -> str:
    return next((line for line in capture(socket, pane).splitlines() if line.startswith("> ")), "")


def training(entry: dict) -> bool:
    status = session_status(entry)
    return status["status"] == "running" and (status.get("current_step") or 0) >= 1


def test_k_in_the_control_window_stops_only_the_selected_job(tmux_socket: str, isolated_home: Path,
                                                             tiny_model: Path, sample_csv: Path) -> None:
    folder = isolated_home.parent / "cfg"
    make_config(folder, "base.json", tiny_model, sample_csv, rows=200, epochs=30)  # long enough to be stopped
    sweep = write_sweep(folder / "two.json", "base.json",
                        jobs=[{"model_config.learning_rate": 1e-3}, {"model_config.learning_rate": 2e-3}])
    proc = run_main("sweep", "start", str(sweep), "--name", NAME, "--max-parallel", "2")
    assert proc.returncode == 0, proc.stderr
    state = state_when(isolated_home, NAME, lambda s: all(j["status"] == "running" for j in s["jobs"]))
    first, second = job(state, "j001"), job(state, "j002")
    wait_until(lambda: training(first) and training(second), timeout=180, what="both trainings to run")

    control = state["control"]["pane_id"]
    wait_until(lambda: "lr1e-3" in selected_line(tmux_socket, control), timeout=60, what="the control view")
    tmux(tmux_socket, "send-keys", "-t", control, "Down")
    wait_until(lambda: "lr2e-3" in selected_line(tmux_socket, control), timeout=30, what="the selection to move")

    # Enter shows the selected job's pane (by its ids); `0` comes back to the control window
    tmux(tmux_socket, "send-keys", "-t", control, "Enter")
    wait_until(lambda: display(tmux_socket, f"={TMUX_NAME}:", "#{pane_id}") == second["pane_id"], timeout=30,
                what="Enter to select the job's pane")
    tmux(tmux_socket, "send-keys", "-t", control, "0")
    wait_until(lambda: display(tmux_socket, f"={TMUX_NAME}:", "#{window_index}") == "0", timeout=30,
                what="0 to select the control window")

    tmux(tmux_socket, "send-keys", "-t", control, "k")
    state = state_when(isolated_home, NAME, lambda s: job(s, "j002")["status"] == "interrupted", timeout=120,
                       what="the selected job to be interrupted")
    stopped = session_status(job(state, "j002"))
    assert stopped["status"] == "interrupted" and stopped["exit_code"] == 130
    assert stopped["last_checkpoint"] and Path(stopped["last_checkpoint"]).is_dir()  # resumable
    assert job(state, "j001")["status"] == "running" and session_status(first)["status"] == "running"
    assert wait_until(lambda: "interrupted" in capture(tmux_socket, control), timeout=30, what="the view")

    # `sweep resume` runs it again in its own pane, from its checkpoint
    proc = run_main("sweep", "resume", NAME)
    assert proc.returncode == 0 and "queued 1 jobs of ctl again (1 from their last checkpoint)" in proc.stdout
    state = state_when(isolated_home, NAME, lambda s: job(s, "j002")["status"] == "running")
    assert job(state, "j002")["pane_id"] == second["pane_id"]
    resumed_from = wait_until(lambda: next(iter(session_status(second).get("supervisor", {}).get("attempts") or []),
                                            {}).get("resumed_from"), timeout=60, what="the resumed attempt")
    assert resumed_from == stopped["last_checkpoint"]

    # adding to a running sweep appends; with both slots busy the new job waits
    extra = write_sweep(folder / "extra.json", "base.json", jobs=[{"model_config.learning_rate": 4e-3}])
    proc = run_main("sweep", "start", str(extra), "--name", NAME)
    assert proc.returncode == 2 and "--yes" in proc.stderr  # no terminal: never asks, never guesses
    proc = run_main("sweep", "start", str(extra), "--name", NAME, "--yes")
    assert proc.returncode == 0, proc.stderr
    state = state_of(isolated_home, NAME)
    assert [j["key"] for j in state["jobs"]] == ["j001", "j002", "j003"] and job(state, "j003")["title"] == "lr4e-3"

    proc = run_main("sweep", "kill", NAME, "--grace", "60")
    assert proc.returncode == 0, proc.stderr
    assert TMUX_NAME not in session_names(tmux_socket)
    state = state_of(isolated_home, NAME)
    assert state["state"] == "stopped" and state["max_running_seen"] == 2
    assert [j["status"] for j in state["jobs"]] == ["interrupted", "interrupted", "cancelled"]  # j003 never ran
    assert session_status(job(state, "j001"))["status"] == "interrupted"
    assert f"llm-tool sessions resume {first['session_id']} --tmux" in proc.stdout
