"""Attacks on a run's files and processes: foreign output paths, kill -9 at start-up and clean-up, a refused
resume, a killed supervisor, a full disk, errors after the model loads, config errors under --max-retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llm_tool import paths
from llm_tool.cli import main
from llm_tool.errors import UnsafePathError
from llm_tool.sessions import SessionStore
from tests.helpers import read_json, run_main, sample_rows, session_files, wait_until, write_config, write_csv

OTHER = "train_20250101_000000"


def _config(folder: Path, tiny_model: Path, sample_csv: Path, rows: int = 40, **model_config: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = write_csv(folder / "data.csv", sample_rows(sample_csv, rows))
    model_config.setdefault("num_threads", 1)
    return write_config(folder / "cfg.json", data, tiny_model, **model_config)


def _status(path: Path) -> dict[str, Any]:
    return read_json(path)["execution_status"]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _other_session_model(home: Path) -> Path:
    """A completed session's model folder (the target of the attacks): weights, metrics, a checkpoint."""
    folder = home / "models" / OTHER
    (folder / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"precious weights")
    (folder / "metrics.json").write_text(json.dumps({"session_id": OTHER}))
    (folder / "checkpoints" / "checkpoint-4" / "optimizer.pt").write_bytes(b"state")
    return folder


def _train(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "llm_tool", "train", str(config), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _first_session(home: Path) -> Path:
    return wait_until(lambda: (session_files(home) or [None])[0], timeout=60, what="a session file")


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


# ----- 1. nothing outside models/<own id>/ ------------------------------------------------------------------
def test_the_guarded_removal_refuses_everything_outside_the_own_folder(isolated_home: Path) -> None:
    own, other = paths.session_model_dir("train_20250102_000000"), _other_session_model(isolated_home)
    (own / "checkpoints").mkdir(parents=True)
    before = _snapshot(other)
    for target in (other, other / "checkpoints", own / ".." / OTHER / "checkpoints", isolated_home, Path("/")):
        with pytest.raises(UnsafePathError):
            paths.remove_session_tree(target, "train_20250102_000000")
    with pytest.raises(UnsafePathError):  # the own folder itself only when asked for (delete --with-model)
        paths.remove_session_tree(own, "train_20250102_000000")
    with pytest.raises(UnsafePathError):
        paths.session_model_dir("../../etc")
    (own / "checkpoints" / "link").symlink_to(other)  # a link inside the own folder: only the link goes
    assert paths.remove_session_tree(own / "checkpoints", "train_20250102_000000")
    (isolated_home / "models" / "train_20250103_000000").symlink_to(other)  # a session folder that is a link
    with pytest.raises(UnsafePathError):
        paths.remove_session_tree(isolated_home / "models" / "train_20250103_000000" / "checkpoints",
                                  "train_20250103_000000")
    assert _snapshot(other) == before


def test_output_paths_naming_another_sessions_model_are_ignored(isolated_home: Path, tiny_model: Path,
                                                                sample_csv: Path, capsys: Any) -> None:
    other = _other_session_model(isolated_home)
    before = _snapshot(other)
    config = _config(isolated_home / "cfg", tiny_model, sample_csv)
    from llm_tool.config import load_config_file
    from llm_tool.sessions.create import create_session

    store = SessionStore()
    path, _ = create_session(store, load_config_file(config), base_dir=config.parent)
    raw = read_json(path)
    raw["output_paths"].update(model_dir=str(other), checkpoints_dir=str(other / "checkpoints"),
                               metrics_file=str(other / "metrics.json"), models_dir=str(other))
    raw["execution_status"]["status"] = "interrupted"
    path.write_text(json.dumps(raw), encoding="utf-8")
    sid = raw["training_session"]["session_id"]

    assert main(["sessions", "resume", sid]) == 0  # trains and tidies up in models/<its own id> only
    assert (isolated_home / "models" / sid / "model.safetensors").is_file()
    assert not (isolated_home / "models" / sid / "checkpoints").exists()
    assert _snapshot(other) == before
    assert main(["sessions", "delete", sid, "--yes", "--with-model"]) == 0
    assert not (isolated_home / "models" / sid).exists()
    assert _snapshot(other) == before
    capsys.readouterr()


# ----- 2. kill -9 at clean-up and at start-up; a refused resume changes nothing ----------------------------
def test_kill_9_after_the_final_save_then_resume_marks_it_completed(isolated_home: Path, tiny_model: Path,
                                                                    sample_csv: Path, capsys: Any) -> None:
    config = _config(isolated_home / "cfg", tiny_model, sample_csv, save_steps=1)
    proc = _train(config)
    path = _first_session(isolated_home)
    sid = SessionStore().read(path).session_id
    model = isolated_home / "models" / sid
    wait_until(lambda: (model / "metrics.json").exists() or proc.poll() is not None, timeout=240,
                what="the final model saved")
    _kill(proc)  # right after metrics.json: the clean-up (marking, checkpoint removal) is cut short
    assert main(["sessions", "resume", sid]) in (0, 2)  # 2 only when it had already been marked completed
    status = _status(path)
    assert status["status"] == "completed" and status["best_f1"] is not None, status
    assert (model / "model.safetensors").is_file()

    # the exact state of a kill during the checkpoint removal, before the session was marked completed
    (model / "checkpoints" / "checkpoint-3").mkdir(parents=True, exist_ok=True)
    (model / "checkpoints" / "checkpoint-3" / "config.json").write_text("{}")
    raw = read_json(path)
    raw["execution_status"].update(status="running", pid=proc.pid, completed_at=None, best_f1=None, exit_code=None)
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert main(["sessions", "resume", sid]) == 0
    status = _status(path)
    assert status["status"] == "completed" and status["best_f1"] == read_json(model / "metrics.json")[
        "best_validation_macro_f1"]
    assert status["last_checkpoint"] is None and not (model / "checkpoints").exists()
    capsys.readouterr()


@pytest.mark.parametrize("moment", ["file written", "marked running"])
def test_kill_9_in_the_first_seconds_then_resume_starts_it(moment: str, isolated_home: Path, tiny_model: Path,
                                                           sample_csv: Path, capsys: Any) -> None:
    config = _config(isolated_home / "cfg", tiny_model, sample_csv)
    proc = _train(config)
    path = _first_session(isolated_home)
    if moment == "marked running":
        wait_until(lambda: _status(path)["status"] == "running", timeout=60, what="status running")
    _kill(proc)
    assert main(["sessions", "resume", "1"]) == 0
    assert _status(path)["status"] == "completed"
    out = capsys.readouterr().out
    assert "completed" in out


def test_a_refused_resume_never_changes_the_session(isolated_home: Path, tiny_model: Path, sample_csv: Path,
                                                    capsys: Any) -> None:
    from llm_tool.config import load_config_file
    from llm_tool.sessions.create import create_session

    config = _config(isolated_home / "cfg", tiny_model, sample_csv)
    store = SessionStore()
    for status, expected in (("interrupted", "no complete checkpoint"), ("completed", "already completed")):
        path, _ = create_session(store, load_config_file(config), base_dir=config.parent)
        raw = read_json(path)
        raw["execution_status"].update(status=status, current_step=7)
        path.write_text(json.dumps(raw), encoding="utf-8")
        before = path.read_bytes()
        assert main(["sessions", "resume", raw["training_session"]["session_id"]]) == 2
        assert expected in capsys.readouterr().err
        assert path.read_bytes() == before
        assert not (isolated_home / "models" / raw["training_session"]["session_id"]).exists()


# ----- 3. a supervisor killed with -9 -------------------------------------------------------------------------
def test_a_supervisor_killed_with_9_leaves_the_training_running(isolated_home: Path, tiny_model: Path,
                                                                 sample_csv: Path) -> None:
    from llm_tool.config import load_config_file
    from llm_tool.sessions.create import create_session
    from llm_tool.sessions.lifecycle import pid_alive

    config = _config(isolated_home / "cfg", tiny_model, sample_csv, rows=160, epochs=2, save_steps=2,
                     save_total_limit=1, keep_checkpoints=True)
    store = SessionStore()
    path, _ = create_session(store, load_config_file(config), base_dir=config.parent)
    log = store.log_path(SessionStore().read(path).session_id)
    supervisor = subprocess.Popen([sys.executable, "-m", "llm_tool.dispatch.supervisor", "--session", str(path),
                                   "--log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_until(lambda: (_status(path).get("current_step") or 0) >= 1 and _status(path)["status"] == "running",
                timeout=240, what="training steps")
    supervisor.kill()  # SIGKILL, and the pane (our pipe) goes away with it
    supervisor.wait(timeout=30)
    assert supervisor.stdout is not None
    supervisor.stdout.close()
    trainer = _status(path)["pid"]
    assert pid_alive(trainer)
    status = wait_until(lambda: (s := _status(path))["status"] != "running" and s, timeout=300,
                         what="the orphaned training to end")
    assert status["status"] == "completed", status
    assert status["last_checkpoint"] and Path(status["last_checkpoint"]).is_dir()
    assert "Traceback" not in log.read_text(errors="replace")


# ----- 4. a full disk -----------------------------------------------------------------------------------------
def _small_disk(folder: Path, size: str) -> bool:
    """A tmpfs of ``size`` at ``folder`` (needs root and mount rights); False when it cannot be made."""
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True,
                          check=False)
    return proc.returncode == 0


def test_a_full_disk_fails_with_one_line_keeping_the_last_checkpoint(tmp_path: Path, tiny_model: Path,
                                                                     sample_csv: Path) -> None:
    config = _config(tmp_path / "cfg", tiny_model, sample_csv, save_steps=1)
    disk = tmp_path / "disk"
    mounted = _small_disk(disk, "1600k")  # one checkpoint (~1.1 MB) fits, the second does not
    env = {**os.environ, "LLM_TOOL_HOME": str(disk)}
    limit = None
    if not mounted:  # a file-size limit gives EFBIG, the same path through the code (the first checkpoint fails)
        import resource

        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))
    try:
        proc = subprocess.run([sys.executable, "-m", "llm_tool", "train", str(config)], capture_output=True,
                              text=True, env=env, preexec_fn=limit, timeout=300, check=False)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-3000:]
        assert lines[0].startswith("error: the disk is full") and str(disk / "models") in lines[0]
        assert "unexpected" not in lines[0]
        [path] = session_files(disk)
        status = _status(path)
        assert status["status"] == "failed" and status["error_message"].startswith("the disk is full")
        if mounted:
            last = Path(status["last_checkpoint"])
            assert last.name == "checkpoint-1" and (last / "llm_tool_checkpoint_complete").exists()
            assert [p.name for p in last.parent.iterdir()] == ["checkpoint-1"]  # the cut-short save is removed
            subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
            resumed = run_main("sessions", "resume", "1", env={"LLM_TOOL_HOME": str(disk)})  # in process
            assert resumed.returncode == 0, resumed.stderr[-3000:]
            assert "resuming from checkpoint-1" in resumed.stdout and _status(path)["status"] == "completed"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=False)


# ----- 5. errors after the model loads; 7. config errors are never retried ----------------------------------
def test_an_error_after_the_model_loads_leaves_no_empty_folder(isolated_home: Path, tiny_model: Path,
                                                               sample_csv: Path, monkeypatch: Any,
                                                               capsys: Any) -> None:
    from llm_tool.training.sampler import SessionTrainer

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        assert Path(self.args.output_dir).is_dir()  # the Trainer made models/<id>/checkpoints already
        raise RuntimeError("boom after the model loaded")

    monkeypatch.setattr(SessionTrainer, "train", broken)
    config = _config(isolated_home / "cfg", tiny_model, sample_csv)
    assert main(["train", str(config)]) == 1
    [path] = session_files(isolated_home)
    assert _status(path)["status"] == "failed"
    assert not (isolated_home / "models").exists() or list((isolated_home / "models").iterdir()) == []
    capsys.readouterr()


def test_a_data_error_under_max_retries_is_tried_once(isolated_home: Path, tiny_model: Path,
                                                      sample_csv: Path) -> None:
    from llm_tool.config import load_config_file
    from llm_tool.sessions.create import create_session

    config = _config(isolated_home / "cfg", tiny_model, sample_csv)
    path, _ = create_session(SessionStore(), load_config_file(config), base_dir=config.parent)
    (config.parent / "data.csv").write_text("text,label\n", encoding="utf-8")  # header only: a data error
    proc = subprocess.run([sys.executable, "-m", "llm_tool.dispatch.supervisor", "--session", str(path),
                           "--max-retries", "3", "--backoff", "0.05", "--log", str(path.with_suffix(".log"))],
                          capture_output=True, text=True, timeout=120, check=False)
    status = _status(path)
    assert proc.returncode == 2 and (status["status"], status["exit_code"]) == ("failed", 2), status
    assert [a["attempt"] for a in status["supervisor"]["attempts"]] == [1]
