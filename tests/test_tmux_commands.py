"""tmux commands on a real tmux server with quick jobs: retries, kill safety, monitor, environment, dry run."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from tests.helpers import read_json, run_main, session_files
from tests.tmux_helpers import (
    env_without_tmux,
    finished,
    job_when,
    make_config,
    metadata,
    needs_tmux,
    new_session,
    session_names,
    tmux,
)

pytestmark = needs_tmux
CRASH = [sys.executable, "-c", "import os, signal; print('attempt', flush=True); os.kill(os.getpid(), signal.SIGKILL)"]


def launch(home: Path, tiny_model: Path, sample_csv: Path, command: list[str], **options: object) -> object:
    from llm_tool.dispatch.tmux_launch import launch_in_tmux

    store, session = new_session(home, tiny_model, sample_csv)
    return launch_in_tmux(store, session, job_command=command, **options)  # type: ignore[arg-type]


def test_failing_job_is_retried_exactly_n_times_then_failed(tmux_socket: str, isolated_home: Path,
                                                            sample_csv: Path) -> None:
    result = launch(isolated_home, Path("unused"), sample_csv, CRASH, max_retries=2, backoff_seconds=0.1)
    job = job_when(result.name, finished, timeout=60)
    assert (job.status, job.exit_code, job.attempt) == ("failed", 137, 3)
    attempts = metadata(job)["execution_status"]["supervisor"]["attempts"]
    assert [(a["attempt"], a["signal"]) for a in attempts] == [(1, "SIGKILL"), (2, "SIGKILL"), (3, "SIGKILL")]
    assert result.log_file.read_text().count("attempt\n") == 3
    row = next(r for r in json.loads(run_main("tmux", "list", "--json").stdout) if r["name"] == result.name)
    assert (row["status"], row["exit_code"], row["attempt"], row["max_retries"]) == ("failed", 137, 3, 2)


def test_kill_matches_exact_names_and_all_spares_foreign_sessions(tmux_socket: str, isolated_home: Path,
                                                                  sample_csv: Path) -> None:
    first = launch(isolated_home, Path("unused"), sample_csv, ["sleep", "300"], name="sleepy-long")
    second = launch(isolated_home, Path("unused"), sample_csv, ["sleep", "300"], name="other")
    for foreign in ("scratch", "llmtool"):
        assert tmux(tmux_socket, "new-session", "-d", "-s", foreign, "sleep", "300").returncode == 0
    for started in (first, second):  # both supervisors up (a SIGTERM before Python set its handlers just ends it)
        job_when(started.name, lambda j: j.status == "running")

    proc = run_main("tmux", "kill", "llmtool-sleepy")  # a prefix of a real name: never matched
    assert proc.returncode == 2 and "exactly" in proc.stderr
    proc = run_main("tmux", "kill", "scratch")
    assert proc.returncode == 2 and "not created by llm-tool" in proc.stderr
    assert set(session_names(tmux_socket)) == {"scratch", "llmtool", first.name, second.name}

    proc = run_main("tmux", "kill", "--all", "--grace", "20")
    assert proc.returncode == 0, proc.stderr
    assert set(session_names(tmux_socket)) == {"scratch", "llmtool"}
    for result in (first, second):
        status = read_json(result.session_path)["execution_status"]
        assert status["status"] == "interrupted" and status["exit_code"] == 128 + signal.SIGTERM
        assert status["supervisor"]["state"] == "interrupted"


def test_monitor_once_shows_every_session(tmux_socket: str, isolated_home: Path, sample_csv: Path) -> None:
    done = launch(isolated_home, Path("unused"), sample_csv, [sys.executable, "-c", "print('hello from the job')"])
    running = launch(isolated_home, Path("unused"), sample_csv, ["sleep", "300"])
    job_when(done.name, finished)
    job_when(running.name, lambda j: j.status == "running")
    for args in (["--once"], []):  # without --once, a pipe gets one snapshot too
        proc = run_main("tmux", "monitor", *args)
        assert proc.returncode == 0, proc.stderr
        for expected in (done.name, running.name, done.session_id, running.session_id, "hello from the job",
                         "completed", "running", "CPU"):
            assert expected in proc.stdout


def test_the_job_gets_the_starters_environment(tmux_socket: str, isolated_home: Path, sample_csv: Path,
                                               monkeypatch: object) -> None:
    probe = [sys.executable, "-c", "import json, os; print(json.dumps({k: os.environ.get(k) for k in "
             "('LLM_TOOL_TEST_OLD', 'LLM_TOOL_TEST_NEW', 'HF_TOKEN', 'LLM_TOOL_SUPERVISED', 'VIRTUAL_ENV')}), "
             "os.getcwd())"]
    monkeypatch.setenv("LLM_TOOL_TEST_OLD", "first")  # type: ignore[attr-defined]
    first = launch(isolated_home, Path("unused"), sample_csv, probe)  # starts the tmux server with OLD set
    job_when(first.name, finished)
    monkeypatch.delenv("LLM_TOOL_TEST_OLD")  # type: ignore[attr-defined]
    monkeypatch.setenv("LLM_TOOL_TEST_NEW", "second")  # type: ignore[attr-defined]
    monkeypatch.setenv("HF_TOKEN", "hf_secret")  # type: ignore[attr-defined]
    folder = isolated_home / "start $here;"
    folder.mkdir()
    second = launch(isolated_home, Path("unused"), sample_csv, probe, start_dir=folder)
    job_when(second.name, finished)
    line = next(x for x in second.log_file.read_text().splitlines() if x.startswith("{"))
    seen, cwd = json.loads(line[:line.rindex("}") + 1]), line[line.rindex("}") + 2:]
    assert seen["LLM_TOOL_TEST_OLD"] is None and seen["LLM_TOOL_TEST_NEW"] == "second"
    assert seen["HF_TOKEN"] == "hf_secret" and seen["LLM_TOOL_SUPERVISED"] == "1"
    assert cwd == str(folder)
    shown = tmux(tmux_socket, "show-environment", "-t", f"={second.name}").stdout
    assert "hf_secret" not in shown  # secrets travel in a private file, not on the tmux command line
    assert not list(isolated_home.glob("logs/training_sessions/.locks/*.env.json"))


def test_dry_run_starts_nothing(tmux_socket: str, isolated_home: Path, tiny_model: Path, sample_csv: Path) -> None:
    config = make_config(isolated_home.parent / "dry run", "dry.json", tiny_model, sample_csv)
    proc = run_main("tmux", "start", "--config", str(config), "--dry-run", "--max-retries", "1", "--timeout", "2")
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "would start" in out and "llmtool-dry-" in out and "llm_tool.dispatch.supervisor" in out
    assert str(config.parent) in out and "--timeout-hours 2.0" in out
    assert session_files(isolated_home) == [] and session_names(tmux_socket) == []


def test_without_tmux_it_says_how_to_install(isolated_home: Path, tiny_model: Path, sample_csv: Path) -> None:
    config = make_config(isolated_home / "cfg", "c.json", tiny_model, sample_csv)
    proc = run_main("tmux", "start", "--config", str(config), env=env_without_tmux())
    assert proc.returncode == 2
    assert "apt-get install tmux" in proc.stderr and "brew install tmux" in proc.stderr
    assert "llm-tool train CONFIG" in proc.stderr
    assert session_files(isolated_home) == []


def test_attach_without_a_terminal_lists_the_names(tmux_socket: str, isolated_home: Path, sample_csv: Path) -> None:
    result = launch(isolated_home, Path("unused"), sample_csv, ["sleep", "300"], config_stem="same.cfg")
    twin = launch(isolated_home, Path("unused"), sample_csv, ["sleep", "300"], config_stem="same.cfg")
    assert result.name.startswith("llmtool-same_cfg-")
    if twin.name[-9:] == result.name[-9:] or twin.name.endswith("-2"):  # unless the minute changed in between
        assert twin.name == f"{result.name}-2"
    proc = run_main("tmux", "attach")
    assert proc.returncode == 2 and result.name in proc.stderr
    proc = run_main("tmux", "attach", result.name)
    assert proc.returncode == 2 and f"attach -t '={result.name}'" in proc.stderr
    proc = run_main("tmux", "attach", "llmtool-nope")
    assert proc.returncode == 2 and "exactly" in proc.stderr


def test_start_takes_a_session_name_like_train(tmux_socket: str, isolated_home: Path, tiny_model: Path,
                                               sample_csv: Path) -> None:
    config = make_config(isolated_home / "cfg", "c.json", tiny_model, sample_csv, rows=40, epochs=1)
    proc = run_main("tmux", "start", "--config", str(config), "--session-name", "night run", "--auto-confirm")
    assert proc.returncode == 0, proc.stderr
    (path,) = session_files(isolated_home)
    assert read_json(path)["training_session"]["session_name"] == "night run"
    shown = run_main("sessions", "show", "night run")
    assert shown.returncode == 0, shown.stderr  # the name resolves
    bad = run_main("tmux", "start", "--config", str(config), "--session-name", "12", "--auto-confirm")
    assert bad.returncode == 2 and "row number" in bad.stderr
