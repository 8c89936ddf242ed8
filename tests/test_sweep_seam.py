"""The sweep seam: front ends import no backend; tmux and Slurm answer the same calls with the same data.

The Slurm branch runs against stand-in `sbatch`/`squeue`/`scancel` scripts (a queue kept in a text file): the
real cluster is tests/test_slurm.py's. The tmux branch is checked here on sweeps without a tmux session; the
sweeps that really run in tmux are tests/test_sweep_tmux.py's and tests/test_sweep_control.py's."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from llm_tool.cli import main
from llm_tool.errors import TmuxError
from llm_tool.sessions import SessionStore
from llm_tool.sweeps import seam
from llm_tool.sweeps.state import SweepJob
from llm_tool.sweeps.summaries import counts, tally_text
from tests.helpers import session_files
from tests.sweep_helpers import fake_finished_session, fake_state, set_queue, stand_in_slurm, write_sweep
from tests.tmux_helpers import make_config

PACKAGE = Path(__file__).resolve().parents[1] / "llm_tool"
FRONT_ENDS = ("cli/sweep_cmd.py", "wizard/benchmark_mode.py")
BACKENDS = ("libtmux", "llm_tool.sweeps.tmux_ops", "llm_tool.sweeps.slurm_ops", "llm_tool.sweeps.start_stop",
            "llm_tool.sweeps.scheduler", "llm_tool.dispatch.panes", "llm_tool.wizard.run_where")


def _imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _is_backend(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    core = name.startswith(("llm_tool.dispatch.", "llm_tool.sweeps."))
    return any(name == b or name.startswith(b + ".") for b in BACKENDS) or (core and ("tmux" in last
                                                                                         or "slurm" in last))


def test_the_sweep_front_ends_import_no_tmux_or_slurm_module() -> None:
    offenders = [f"{f} imports {name}" for f in FRONT_ENDS for name in _imported(PACKAGE / f) if _is_backend(name)]
    assert offenders == []
    assert _is_backend("llm_tool.dispatch.tmux_server") and _is_backend("llm_tool.sweeps.slurm_ops")
    assert not _is_backend("llm_tool.sweeps.seam")


def test_one_function_counts_job_states() -> None:
    jobs = [SweepJob(key="j1", number=1, status="running"), SweepJob(key="j2", number=2, status="completed"),
            SweepJob(key="j3", number=3, status="running")]
    assert counts(jobs) == counts([{"status": j.status} for j in jobs]) == counts([j.status for j in jobs])
    assert counts(jobs) == {"running": 2, "completed": 1}
    assert tally_text(counts(jobs)) == "1 completed, 2 running"
    assert tally_text(counts(jobs), ordered=False) == "2 running, 1 completed"
    for path in ("cli/sweep_cmd.py", "sweeps/report.py", "sweeps/configs.py", "sweeps_ui/control.py"):
        assert ".get(status, 0) + 1" not in (PACKAGE / path).read_text(encoding="utf-8")


# ----- tmux sweeps without a tmux session -----------------------------------------------------------------------
@pytest.fixture
def finished(isolated_home: Path, sample_csv: Path) -> str:
    store = SessionStore(isolated_home)
    made = [fake_finished_session(store, sample_csv, model=m, macro_f1=f) for m, f in (("a", 0.8), ("b", 0.6))]
    fake_state(isolated_home, "fake", [(p, sid, m) for (p, sid), m in zip(made, "ab", strict=True)])
    return "fake"


def test_refresh_liveness_and_wait_of_a_tmux_sweep_with_no_session(finished: str, tmux_socket: str) -> None:
    now = seam.refresh(finished)
    assert (now.place, now.finished, now.tmux_alive, now.scheduler_alive, now.attach) == \
        ("tmux", True, False, False, None)
    assert now.counts == {"completed": 2} and [r["status"] for r in now.rows] == ["completed", "completed"]
    assert now.summary()["counts"] == {"completed": 2} and now.summary()["place"] == "tmux"
    live = seam.liveness(finished)
    assert (live.place, live.session_alive, live.scheduler_alive) == ("tmux", False, False)
    assert [(j.key, j.alive) for j in live.jobs] == [("j001", False), ("j002", False)]
    seen: list[dict[str, int]] = []
    done = seam.wait(finished, poll=0, on_change=lambda s: seen.append(s.counts))
    assert not done.scheduler_lost and seen == [{"completed": 2}]
    with pytest.raises(TmuxError, match="has no tmux session now"):
        seam.attach_target(finished)
    assert [e.name for e in seam.overview()] == [finished]


def test_waiting_on_a_running_sweep_whose_scheduler_is_gone_stops(finished: str, isolated_home: Path,
                                                                  tmux_socket: str) -> None:
    from llm_tool.sweeps.state import SweepStore

    with SweepStore(isolated_home).locked(finished) as state:
        state.state = "running"
    done = seam.wait(finished, poll=0)
    assert done.scheduler_lost and done.snapshot.state.state == "running"


# ----- Slurm, with stand-in commands ----------------------------------------------------------------------------
@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return stand_in_slurm(tmp_path / "fake-slurm", monkeypatch)


def test_a_slurm_sweep_through_the_seam(fake_slurm: Path, isolated_home: Path, tiny_model: Path,
                                         sample_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path / "cfg", "c.json", tiny_model, sample_csv, epochs=1)
    sweep = write_sweep(tmp_path / "lr.json", str(config), grid={"model_config.learning_rate": [1e-3, 2e-3]})
    assert main(["sweep", "start", str(sweep), "--backend", "slurm", "--max-parallel", "1"]) == 0
    assert "submitted sweep lr to Slurm: 2 jobs as job array 4242, at most 1 at once" in capsys.readouterr().out

    now = seam.refresh("lr")
    assert (now.place, now.counts, now.attach, now.tmux_alive) == ("slurm", {"queued": 2}, None, False)
    assert [j.extra["slurm_job_id"] for j in now.state.jobs] == ["4242_0", "4242_1"]

    set_queue(fake_slurm, **{"4242_0": "RUNNING", "4242_1": "PENDING"})
    now = seam.refresh("lr")
    assert now.counts == {"running": 1, "queued": 1} and [r["status"] for r in now.rows] == ["running", "queued"]
    live = seam.liveness("lr")
    assert (live.place, live.scheduler_alive) == ("slurm", True)
    assert [(j.where, j.alive, j.queue_state) for j in live.jobs] == \
        [("4242_0", True, "RUNNING"), ("4242_1", True, "PENDING")]

    assert main(["sweep", "status", "lr", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["sweep"]["place"] == "slurm" and status["sweep"]["counts"] == {"running": 1, "queued": 1}
    assert [e["counts"] for e in json.loads(_run_json(capsys, "sweep", "list", "--json"))] == \
        [{"running": 1, "queued": 1}]
    with pytest.raises(TmuxError, match="runs on Slurm"):
        seam.attach_target("lr")

    assert main(["sweep", "kill", "lr", "--grace", "0"]) == 0
    out = capsys.readouterr().out
    assert "stopping sweep lr on Slurm" in out and "stopped sweep lr: " in out
    assert (fake_slurm / "queue").read_text(encoding="utf-8") == ""
    assert "--signal=USR1 --batch 4242_0" in (fake_slurm / "scancel.log").read_text(encoding="utf-8")
    stopped = seam.refresh("lr")
    assert stopped.finished and sum(stopped.counts.values()) == 2 and "cancelled" in stopped.counts

    again = seam.resume("lr")
    assert again.place == "slurm" and again.attach is None and len(again.jobs) == stopped.counts["cancelled"]
    assert {j.extra["slurm_job_id"].split("_")[0] for j in again.jobs} == {"4243"}
    assert seam.refresh("lr").counts.get("queued") == len(again.jobs)


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_slurm_settings_for_a_tmux_sweep_are_refused(isolated_home: Path, tiny_model: Path, sample_csv: Path,
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path / "cfg", "c.json", tiny_model, sample_csv, epochs=1)
    sweep = write_sweep(tmp_path / "lr.json", str(config), grid={"model_config.learning_rate": [1e-3, 2e-3]})
    assert main(["sweep", "start", str(sweep), "--partition", "gpu"]) == 2
    assert "--partition is a Slurm setting: add --backend slurm" in capsys.readouterr().err
    assert not (isolated_home / "logs" / "sweeps").exists()


def test_resuming_a_slurm_sweep_whose_sessions_were_edited_needs_yes(fake_slurm: Path, isolated_home: Path,
                                                                     tiny_model: Path, sample_csv: Path,
                                                                     tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path / "cfg", "c.json", tiny_model, sample_csv, epochs=1)
    sweep = write_sweep(tmp_path / "lr.json", str(config), grid={"model_config.learning_rate": [1e-3, 2e-3]})
    assert main(["sweep", "start", str(sweep), "--backend", "slurm"]) == 0
    assert main(["sweep", "kill", "lr", "--grace", "0"]) == 0
    for path in session_files(isolated_home):  # a hand edit: sbatch lines llm-tool did not write for this user
        data = json.loads(path.read_text(encoding="utf-8"))
        data["slurm_config"] = {"extra_sbatch": ["--hold"]}
        path.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["sweep", "resume", "lr"]) == 2
    assert "were not written by llm-tool for you on this machine" in capsys.readouterr().err
    assert seam.refresh("lr").counts.get("queued") is None  # nothing was submitted
    assert main(["sweep", "resume", "lr", "--yes"]) == 0  # the user checked the lines
    assert seam.refresh("lr").counts.get("queued") == 2
    (resumed,) = (isolated_home / "logs" / "slurm").glob("sweep-lr-resumed-*.sbatch")
    assert "#SBATCH --hold" in resumed.read_text(encoding="utf-8").splitlines()
