"""Data-parallel training with real torchrun processes (2 CPU ranks, gloo): completes, a rank killed with -9 stops
the group and reads interrupted, a resume equals an uninterrupted 2-process run."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import psutil
import pytest

from tests.helpers import read_json, run_cli, run_main, session_files, start_cli, wait_until
from tests.test_resume import _checkpoint_steps, _config, _final, assert_resumed_equals_uninterrupted

STEPS_PER_EPOCH = 15  # 240 training rows / (batch 8 x 2 ranks)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="torchrun ranks die with their parent on Linux")


def _ranks(session_file: Path) -> list[psutil.Process]:
    """The live rank processes of this session (command line `-m llm_tool.dispatch.torchrun_rank SESSION`)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = proc.info["cmdline"] or []
        rank = "llm_tool.dispatch.torchrun_rank" in line and "torch.distributed.run" not in line  # not torchrun itself
        if rank and str(session_file) in line:
            found.append(proc)
    return found


def _rank(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("RANK", "?")
    except psutil.Error:
        return "?"


def _session_named(home: Path, name: str) -> Path | None:
    return next((f for f in session_files(home) if read_json(f)["training_session"].get("session_name") == name), None)


def test_a_rank_killed_stops_the_group_and_a_tmux_resume_equals_an_uninterrupted_run(tmp_path, isolated_home,
                                                                                    sample_csv, tiny_model,
                                                                                    tmux_socket):
    # the uninterrupted run and the run to kill go side by side (4 ranks on 2 cores: each slower, both sooner)
    config = _config(tmp_path, sample_csv, tiny_model, "run")
    baseline = start_cli("train", str(config), "--nproc", "2", "--session-name", "baseline",
                         stdout=tmp_path / "baseline.out", stderr=tmp_path / "baseline.err")
    parent = start_cli("train", str(config), "--nproc", "2", "--session-name", "killed")
    try:
        def past_a_checkpoint() -> Path | None:
            assert parent.poll() is None, "training finished before a rank could be killed"
            newest = _session_named(isolated_home, "killed")
            folder = read_json(newest)["output_paths"].get("checkpoints_dir") if newest else None
            steps = _checkpoint_steps(Path(folder)) if folder else []
            return newest if any(step > STEPS_PER_EPOCH for step in steps) else None
        path = wait_until(past_a_checkpoint, timeout=300, interval=0.05, what="a checkpoint in epoch 2")
        (second,) = [p for p in _ranks(path) if _rank(p) == "1"]
        second.send_signal(signal.SIGKILL)
        parent.wait(timeout=180)  # the whole group stops
        assert baseline.wait(timeout=600) == 0, (tmp_path / "baseline.err").read_text()[-3000:]
    finally:
        for proc in (parent, baseline):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert parent.returncode != 0
    baseline_path = _session_named(isolated_home, "baseline")
    assert baseline_path is not None
    meta, metrics = _final(baseline_path)  # the uninterrupted 2-rank run: complete, written once, by rank 0
    assert meta["execution_status"]["status"] == "completed" and meta["environment"]["world_size"] == 2
    assert metrics["global_step"] == 3 * STEPS_PER_EPOCH  # each step saw 2 x 8 texts
    shown = (tmp_path / "baseline.out").read_text()
    assert "Results (best model)" in shown and "completed: model saved" in shown
    assert Path(meta["output_paths"]["log_file"]).read_text().count("training 45 steps") == 1  # not once a rank
    assert not _ranks(baseline_path)
    wait_until(lambda: not _ranks(path), timeout=60, what="no rank left running")
    listed = json.loads(run_main("sessions", "list", "--json").stdout)
    sid = read_json(path)["training_session"]["session_id"]
    assert {r["session_id"]: r["status"] for r in listed}[sid] == "interrupted"

    refused = run_main("sessions", "resume", sid, "--nproc", "1")  # other batches: refused, with the fix
    assert refused.returncode == 2 and "--nproc 2" in refused.stderr

    # in tmux, the ranks under its supervisor; by default as many processes as it ran with
    resumed = run_main("sessions", "resume", sid, "--tmux")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    wait_until(lambda: read_json(path)["execution_status"]["status"] in ("completed", "failed"), timeout=600,
               what="the resumed tmux job to end")
    meta = read_json(path)
    assert meta["environment"]["world_size"] == 2 and meta["execution_status"]["attempt"] == 1
    logged = [line for line in Path(meta["output_paths"]["log_file"]).read_text().splitlines()
              if line.startswith("[llm-tool supervisor ") and " attempt 1/" in line]
    assert len(logged) == 1 and "--resume" in logged[0], logged  # the supervisor's logged command
    assert_resumed_equals_uninterrupted(baseline_path, path)


def _steps(path: Path) -> int:
    return read_json(path)["execution_status"].get("current_step") or 0


def test_the_launcher_owns_its_ranks_a_stop_checkpoints_a_kill_leaves_no_orphan(tmp_path, isolated_home,
                                                                               sample_csv, tiny_model):
    config = _config(tmp_path, sample_csv, tiny_model, "owned", save_steps=None, epochs=300, early_stopping=False)
    parent = start_cli("train", str(config), "--nproc", "2")
    path = wait_until(lambda: next(iter(session_files(isolated_home)), None), timeout=60, what="the session file")
    wait_until(lambda: _steps(path) >= 3 and len(_ranks(path)) == 2, timeout=300, interval=0.05,
               what="both ranks training")
    parent.send_signal(signal.SIGTERM)  # a stop (Ctrl+C, tmux kill, supervisor): every rank stops at one step
    assert parent.wait(timeout=120) == 130
    stopped = read_json(path)["execution_status"]
    assert stopped["status"] == "interrupted" and stopped["interrupt_reason"] == "stopped by SIGTERM"
    assert max(_checkpoint_steps(Path(stopped["last_checkpoint"]).parent)) == stopped["current_step"]  # at the stop
    wait_until(lambda: not _ranks(path), timeout=60, what="no rank left after the stop")

    sid = read_json(path)["training_session"]["session_id"]
    parent = start_cli("sessions", "resume", sid)  # as many processes as it ran with
    wait_until(lambda: _steps(path) > stopped["current_step"] + 2 and len(_ranks(path)) == 2, timeout=300,
               interval=0.05, what="the resumed ranks training")
    parent.send_signal(signal.SIGKILL)  # no chance to clean up: torchrun and the ranks must go with it
    parent.wait(timeout=30)
    wait_until(lambda: not _ranks(path), timeout=60, what="the ranks to die with their launcher")

    def listed_status() -> str:
        rows = json.loads(run_main("sessions", "list", "--json").stdout)
        return {r["session_id"]: r["status"] for r in rows}[sid]
    # a rank's command line vanishes a moment before the kernel closes its files (and frees its run lock)
    wait_until(lambda: listed_status() == "interrupted", timeout=30, what="the session to read interrupted")


def test_nproc_options_fail_with_one_line(tmp_path, isolated_home, sample_csv, tiny_model):
    config = str(_config(tmp_path, sample_csv, tiny_model, "bad"))
    zero = run_main("train", config, "--nproc", "0")
    assert zero.returncode == 2 and "--nproc must be between 1 and 1024" in zero.stderr
    assert not session_files(isolated_home)  # refused before anything was created


def test_a_relaunch_repeats_the_number_of_processes(isolated_home, sample_csv, tmp_path):
    from datetime import datetime

    from llm_tool.sessions import SessionStore
    from tests.helpers import fake_session, sample_rows, write_csv

    store = SessionStore()
    path = fake_session(store, datetime(2026, 1, 2, 3, 4, 5))
    store.update(path, lambda meta: setattr(meta.environment, "world_size", 2))
    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 40))
    relaunched = run_cli("sessions", "relaunch", "1", "--dataset", str(data))  # its model is not here: it fails
    assert relaunched.returncode == 2 and "Traceback" not in relaunched.stderr
    new = read_json(session_files(isolated_home)[-1])
    assert new["training_session"]["parent_session"] and new["environment"]["world_size"] == 2  # 2 ranks ran
