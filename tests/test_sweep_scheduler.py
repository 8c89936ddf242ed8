"""The scheduler's tick without tmux panes: GPU per job, settling ended jobs, the slot limit; stopping queued jobs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from llm_tool.dispatch.panes import JobPane
from llm_tool.sessions import SessionStore
from llm_tool.sweeps import start_stop, tmux_ops
from llm_tool.sweeps.scheduler import Scheduler
from llm_tool.sweeps.state import SweepStore
from tests.helpers import read_json
from tests.sweep_helpers import fake_finished_session, fake_state, job, state_of

pytestmark = pytest.mark.skipif(__import__("shutil").which("tmux") is None, reason="tmux is not installed")

from llm_tool.python_argv import module_argv  # noqa: E402

SUPERVISOR = module_argv("llm_tool.dispatch.supervisor")


@pytest.fixture
def queued_sweep(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> SweepStore:
    """A sweep of three pending sessions, all queued, two GPUs, at most two at once (no tmux server runs)."""
    monkeypatch.setenv("LLM_TOOL_TMUX_SOCKET", "llmtool-test-never-started")
    data = isolated_home / "data.csv"
    data.write_text("text,label\na,x\n", encoding="utf-8")
    store = SessionStore(isolated_home)
    sessions = []
    for n in range(3):
        path, sid = fake_finished_session(store, data, model=f"m{n}", macro_f1=None)
        store.update(path, lambda m: setattr(m.execution_status, "status", "pending"))
        sessions.append((path, sid, f"t{n}"))
    state = fake_state(isolated_home, "q", sessions)
    for entry in state.jobs:
        entry.status = "queued"
    state.state, state.gpus, state.max_parallel = "running", ["0", "1"], 2
    sweeps = SweepStore(isolated_home)
    sweeps.write("q", state)
    return sweeps


def test_tick_starts_two_jobs_each_on_its_own_gpu(queued_sweep: SweepStore, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict] = []

    def fake_pane(server: object, tmux_name: str, window_id: str | None, window_name: str, argv: list[str],
                  **kw: object) -> tuple[JobPane, bool]:
        n = len(started)
        started.append({"argv": argv, "window_id": window_id, "window": window_name, **kw})
        return JobPane(tmux_name, "$1", "@1", f"%{n + 10}", 1000 + n), window_id is None

    monkeypatch.setattr(tmux_ops, "start_job_pane", fake_pane)
    scheduler = Scheduler("q", home=queued_sweep.home, out=io.StringIO())
    assert scheduler.tick() is False
    state = state_of(queued_sweep.home, "q")
    assert [j["status"] for j in state["jobs"]] == ["running", "running", "queued"]
    assert [j["gpu"] for j in state["jobs"][:2]] == ["0", "1"] and state["max_running_seen"] == 2
    assert [s["environment"]["CUDA_VISIBLE_DEVICES"] for s in started] == ["0", "1"]
    for entry, call in zip(state["jobs"], started, strict=False):
        argv = call["argv"]
        assert argv[:len(SUPERVISOR)] == SUPERVISOR and entry["session_file"] in argv
        env_file = Path(argv[argv.index("--env-file") + 1])
        assert json.loads(env_file.read_text())["CUDA_VISIBLE_DEVICES"] == entry["gpu"]  # read by the supervisor
        assert call["title"] == entry["title"] and call["job_key"] == entry["key"]
        tmux_info = read_json(Path(entry["session_file"]))["tmux"]
        assert (tmux_info["pane_id"], tmux_info["sweep"]) == (entry["pane_id"], "q")
    assert started[1]["window_id"] == "@1"  # the second job of the window splits the first one's window

    # no pane is alive (the fake ones never existed): a job whose session completed is settled, the next starts
    sweeps = queued_sweep
    first = job(state, "j001")
    store = SessionStore(sweeps.home)
    store.update(Path(first["session_file"]), lambda m: setattr(m.execution_status, "status", "completed"))
    store.update(Path(job(state, "j002")["session_file"]), lambda m: setattr(m.execution_status, "status", "running"))
    scheduler.tick()
    state = state_of(sweeps.home, "q")
    # j002's session says running but its trainer holds no lock: reconciled as interrupted, never left running
    assert [j["status"] for j in state["jobs"]] == ["completed", "interrupted", "running"]
    assert job(state, "j003")["gpu"] == "0"
    store.update(Path(job(state, "j003")["session_file"]), lambda m: setattr(m.execution_status, "status", "failed"))
    assert scheduler.tick() is True and state_of(sweeps.home, "q")["state"] == "finished"


def test_stopping_queued_jobs_cancels_them_by_window(queued_sweep: SweepStore) -> None:
    with queued_sweep.locked("q") as state:
        for entry, window in zip(state.jobs, ("w1", "w1", "w2"), strict=False):
            entry.window = window
        state.jobs[1].status = "completed"
    outcome = start_stop.stop_window("q", "w1", sweeps=queued_sweep)
    assert outcome == {"j001": "cancelled", "j002": "completed"}
    state = state_of(queued_sweep.home, "q")
    assert [j["status"] for j in state["jobs"]] == ["cancelled", "completed", "queued"]
    with pytest.raises(start_stop.SweepError, match="no job j009"):
        start_stop.stop_jobs("q", ["j009"], sweeps=queued_sweep)


def test_resume_queues_interrupted_and_cancelled_jobs(queued_sweep: SweepStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(start_stop, "ensure_scheduler", lambda name, **kw: calls.append(name))
    checkpoint = queued_sweep.home / "models" / "x" / "checkpoint-4"
    checkpoint.mkdir(parents=True)
    store = SessionStore(queued_sweep.home)
    with queued_sweep.locked("q") as state:
        for entry, status in zip(state.jobs, ("interrupted", "cancelled", "completed"), strict=False):
            entry.status = status
        state.state = "stopped"
    first = job(state_of(queued_sweep.home, "q"), "j001")
    store.update(Path(first["session_file"]), lambda m: setattr(m.execution_status, "last_checkpoint", str(checkpoint)))
    again = start_stop.requeue("q", max_parallel=3, sweeps=queued_sweep)
    assert [(j.key, j.resume) for j in again] == [("j001", True), ("j002", False)] and calls == ["q"]
    state = state_of(queued_sweep.home, "q")
    assert [j["status"] for j in state["jobs"]] == ["queued", "queued", "completed"]
    assert (state["state"], state["max_parallel"]) == ("running", 3)
    assert start_stop.requeue("q", sweeps=queued_sweep) == [] and calls == ["q"]  # nothing left to resume
