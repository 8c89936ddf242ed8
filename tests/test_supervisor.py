"""The job supervisor on its own (no tmux): retries, no retry for deterministic errors, timeout, stop, tee, env."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import read_json, wait_until
from tests.tmux_helpers import new_session

SUPERVISOR = [sys.executable, "-m", "llm_tool.dispatch.supervisor"]


def supervise(session: Path, *args: str, command: list[str] | None = None, timeout: float = 60,
              log: Path | None = None) -> subprocess.CompletedProcess[str]:
    log = log or session.with_suffix(".log")
    argv = [*SUPERVISOR, "--session", str(session), "--backoff", "0.05", "--log", str(log), *args]
    if command:
        argv += ["--", *command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def status_of(session: Path) -> dict[str, Any]:
    return read_json(session)["execution_status"]


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_crash_is_retried_exactly_n_times_then_failed(isolated_home: Path, sample_csv: Path) -> None:
    _, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    proc = supervise(session, "--max-retries", "2", command=py("print('try', flush=True); raise SystemExit(1)"))
    status = status_of(session)
    assert proc.returncode == 1
    assert status["status"] == "failed" and status["exit_code"] == 1 and status["attempt"] == 3
    attempts = status["supervisor"]["attempts"]
    assert [a["exit_code"] for a in attempts] == [1, 1, 1]
    assert status["supervisor"]["state"] == "failed"
    assert "gave up after 3 attempts" in status["error_message"]
    assert Path(status["supervisor"]["log_file"]).read_text().count("try\n") == 3


def test_kill_by_signal_is_retried_and_a_later_success_completes(isolated_home: Path, sample_csv: Path) -> None:
    _, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    marker = isolated_home / "second-try"
    code = (f"import os, signal, pathlib; m = pathlib.Path({str(marker)!r})\n"
            "if not m.exists():\n    m.touch(); os.kill(os.getpid(), signal.SIGKILL)\nprint('ok')")
    proc = supervise(session, "--max-retries", "3", command=py(code))
    status = status_of(session)
    assert proc.returncode == 0
    assert status["status"] == "completed" and status["exit_code"] == 0 and status["attempt"] == 2
    first = status["supervisor"]["attempts"][0]
    assert (first["exit_code"], first["signal"], first["outcome"]) == (137, "SIGKILL", "killed")


def test_user_error_is_not_retried(isolated_home: Path, sample_csv: Path) -> None:
    _, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    proc = supervise(session, "--max-retries", "3", command=py("raise SystemExit(2)"))
    status = status_of(session)
    assert proc.returncode == 2
    assert status["status"] == "failed" and status["exit_code"] == 2 and status["attempt"] == 1
    assert len(status["supervisor"]["attempts"]) == 1


def test_timeout_stops_gracefully_then_kills(isolated_home: Path, sample_csv: Path) -> None:
    _, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    started = time.monotonic()
    proc = supervise(session, "--timeout-hours", "0.0003", "--max-retries", "2", command=["sleep", "30"])
    assert time.monotonic() - started < 20
    status = status_of(session)
    assert proc.returncode == 128 + signal.SIGTERM
    assert status["status"] == "interrupted" and status["interrupt_reason"] == "timeout after 0.0003 h"
    assert status["attempt"] == 1
    # stubborn from its first instruction: SIGTERM is ignored before the exec (an ignored signal stays ignored
    # across exec), so the 1.08 s timeout can never reach a child still starting Python (no readiness race)
    stubborn = ["bash", "-c", "trap '' TERM; exec \"$@\"", "stubborn",
                *py("import signal, time; assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN; "
                    "print('up', flush=True); time.sleep(30)")]
    proc = supervise(session, "--timeout-hours", "0.0003", "--grace", "0.5", command=stubborn)
    status = status_of(session)
    assert proc.returncode == 128 + signal.SIGKILL
    assert status["status"] == "interrupted"
    assert status["interrupt_reason"] == "timeout after 0.0003 h; killed after a 0.5 s grace period"


def test_stop_signal_is_forwarded_and_never_retried(isolated_home: Path, sample_csv: Path) -> None:
    store, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    log = isolated_home / "job.log"
    job = py("import signal, sys, time\n"
             "def stop(*_):\n    print('got SIGTERM', flush=True); sys.exit(130)\n"
             "signal.signal(signal.SIGTERM, stop); print('ready', flush=True); time.sleep(60)")
    argv = [*SUPERVISOR, "--session", str(session), "--max-retries", "3", "--log", str(log), "--", *job]
    sup = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: log.exists() and "ready" in log.read_text(), timeout=30, what="the job to start")
        sup.send_signal(signal.SIGHUP)  # what a closed tmux pane sends
        assert sup.wait(timeout=30) == 130
    finally:
        sup.kill()
    status = status_of(session)
    assert status["status"] == "interrupted" and status["interrupt_reason"] == "stopped by SIGHUP"
    assert status["exit_code"] == 130 and len(status["supervisor"]["attempts"]) == 1
    assert "got SIGTERM" in log.read_text()
    assert store.read(session).status == "interrupted"


def test_output_env_and_folder_of_the_job(isolated_home: Path, sample_csv: Path, monkeypatch: Any) -> None:
    from llm_tool.dispatch.environment import write_env_file

    _, session = new_session(isolated_home, Path("unused-model"), sample_csv)
    folder = isolated_home / "start here;"
    folder.mkdir()
    env_file = write_env_file(isolated_home / "env.json", {**os.environ, "HF_TOKEN": "tok", "ONLY_IN_FILE": "yes"})
    log = isolated_home / "out.log"
    code = ("import json, os; print(json.dumps({'cwd': os.getcwd(), 'token': os.environ.get('HF_TOKEN'), "
            "'file': os.environ.get('ONLY_IN_FILE'), 'supervised': os.environ.get('LLM_TOOL_SUPERVISED'), "
            "'home': os.environ.get('LLM_TOOL_HOME')}))")
    proc = supervise(session, "--cwd", str(folder), "--env-file", str(env_file), "--home", str(isolated_home),
                     command=py(code), log=log)
    assert proc.returncode == 0
    assert not env_file.exists()
    text = log.read_text()
    assert text.startswith("[llm-tool supervisor ")  # the log holds everything from the first byte
    seen = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    assert seen == {"cwd": str(folder), "token": "tok", "file": "yes", "supervised": "1", "home": str(isolated_home)}
    assert text in proc.stdout  # the same bytes went to the pane


def test_the_folder_a_job_runs_in_is_never_on_its_python_path(tmp_path: Path) -> None:
    """A shared data folder holding `llm_tool/` or `torch.py` must not replace the installed code in any process
    the tool starts (tmux supervisor, its training, torchrun and its ranks, sweep panes, Slurm jobs, ONNX copy)."""
    if sys.version_info < (3, 11):
        pytest.skip("-P exists from Python 3.11: older interpreters keep the folder on the path")
    from llm_tool.dispatch.supervisor import JobSpec, training_command
    from llm_tool.dispatch.torchrun import group_command
    from llm_tool.python_argv import module_argv
    from llm_tool.sweeps.tmux_ops import control_argv, scheduler_argv

    planted = tmp_path / "llm_tool"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "__main__.py").write_text(f"open({str(tmp_path / 'PWNED')!r}, 'w').close()\n")
    ran = subprocess.run(module_argv("llm_tool", "--version"), cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0 and "llm-tool" in ran.stdout and not (tmp_path / "PWNED").exists()
    session = tmp_path / "s.json"
    for argv in (JobSpec(session_file=session).to_argv(), training_command(session, False),
                 group_command(session, 2, False), control_argv("x", tmp_path, "s"),
                 scheduler_argv("x", tmp_path, "s")):
        assert argv[:3] == [sys.executable, "-P", "-m"], argv
