"""Status lifecycle with real training processes: running carries pid/host/heartbeat, a dead process reads as
interrupted, stop signals checkpoint first, an exception marks failed and keeps the traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from llm_tool.sessions import SessionMetadata, SessionStore
from llm_tool.sessions.lifecycle import effective_status, parse_iso
from llm_tool.training.checkpoints import incomplete_reason
from tests.helpers import (
    CliResult,
    read_json,
    run_main,
    sample_rows,
    session_files,
    start_cli,
    wait_until,
    write_config,
    write_csv,
)

# one xdist worker runs this file's tests (five trainings stopped side by side, a module fixture)
pytestmark = pytest.mark.xdist_group("lifecycle")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
TOTAL_EPOCHS = 5  # 600 rows -> 480 train rows / batch 8 = 60 steps an epoch, 300 steps: seconds of training


def _long_config(tmp_path: Path, sample_csv: Path, model: Path, **extra: Any) -> Path:
    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 600))
    settings = {"epochs": TOTAL_EPOCHS, "num_threads": 1, "learning_rate": 1e-3, **extra}
    return write_config(tmp_path / "config.json", data, model, **settings)


class Training:
    """`llm-tool train CONFIG` as a child process with its own home; its session file is polled, never slept on."""

    def __init__(self, name: str, config: Path, home: Path, logs: Path) -> None:
        self.name, self.home = name, home
        self.err_path = logs / f"{name}.stderr.txt"
        self.proc = start_cli("train", str(config), stdout=logs / f"{name}.stdout.txt", stderr=self.err_path,
                              env={**OFFLINE, "LLM_TOOL_HOME": str(home)}, cwd=home)
        self.path: Path | None = None
        self.returncode: int | None = None
        self.seen: dict[str, Any] = {}  # what the test saw while it ran

    def session(self) -> dict[str, Any] | None:
        if self.path is None:
            files = session_files(self.home)
            self.path = files[-1] if files else None
        return read_json(self.path) if self.path else None

    def stderr(self) -> str:
        return self.err_path.read_text()

    def cli(self, *args: str) -> CliResult:
        return run_main(*args, env={**OFFLINE, "LLM_TOOL_HOME": str(self.home), "COLUMNS": "200"}, cwd=self.home)


def _training_started(data: dict[str, Any] | None) -> bool:
    """The Trainer has started: on_train_begin recorded the step counts."""
    return bool(data) and data["execution_status"]["status"] == "running" and \
        data["execution_status"].get("total_steps") is not None


def _listed_status(training: Training, session_id: str) -> str:
    result = training.cli("sessions", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["session_id"]: row["status"] for row in json.loads(result.stdout)}[session_id]


def _act_on_kill9(training: Training, data: dict[str, Any]) -> bool:
    """Record pid/host/heartbeat and the listed status while it runs, wait for a refreshed heartbeat, then kill -9."""
    status = data["execution_status"]
    seen = training.seen
    if "first" not in seen:
        seen["first"] = status
        seen["listed_while_running"] = _listed_status(training, data["training_session"]["session_id"])
        return False
    if status["heartbeat"] == seen["first"]["heartbeat"] or not status.get("current_step"):
        return False
    seen["refreshed"] = status
    training.proc.send_signal(signal.SIGKILL)
    return True


def _act_with_signal(sig: signal.Signals) -> Callable[[Training, dict[str, Any]], bool]:
    def act(training: Training, data: dict[str, Any]) -> bool:
        training.proc.send_signal(sig)
        return True
    return act


def _wait_for_crash(training: Training, data: dict[str, Any]) -> bool:
    return True  # nothing to do: its model crashes the first training step


STOPS = {"SIGKILL": _act_on_kill9, "SIGTERM": _act_with_signal(signal.SIGTERM),
         "SIGINT": _act_with_signal(signal.SIGINT), "SIGHUP": _act_with_signal(signal.SIGHUP),
         "crash": _wait_for_crash}


@pytest.fixture(scope="module")
def stopped_trainings(tmp_path_factory, sample_csv_path, tiny_model) -> dict[str, Training]:
    """Five trainings run side by side (a fraction of the time of one after another): four are stopped
    once their Trainer runs, by kill -9, SIGTERM, SIGINT and SIGHUP; the fifth crashes on its own."""
    root = tmp_path_factory.mktemp("stopped")
    config = _long_config(root, sample_csv_path, tiny_model, save_steps=25)
    crash_data = write_csv(root / "small.csv", sample_rows(sample_csv_path, 40))
    crash_config = write_config(root / "crash.json", crash_data, _broken_model(root / "broken_model", tiny_model))
    runs = {}
    for name in STOPS:
        home = root / name
        home.mkdir()
        runs[name] = Training(name, crash_config if name == "crash" else config, home, root)
    pending = {name: training for name, training in runs.items() if name != "crash"}

    def all_stopped() -> bool:
        for name, training in list(pending.items()):
            if training.proc.poll() is not None:
                pytest.fail(f"{name}: training ended (exit {training.proc.returncode}) before it was stopped:"
                            f"\n{training.stderr()[-3000:]}")
            data = training.session()
            if _training_started(data) and STOPS[name](training, data):
                del pending[name]
        return not pending
    try:
        wait_until(all_stopped, timeout=300, what="every training to start, then be stopped", interval=0.02)
        for training in runs.values():
            training.returncode = training.proc.wait(timeout=120)
    finally:
        for training in runs.values():
            if training.proc.poll() is None:
                training.proc.kill()
                training.proc.wait()
    return runs


@pytest.fixture(scope="module")
def sample_csv_path() -> Path:
    from tests.conftest import SAMPLE_CSV

    return SAMPLE_CSV


def test_running_carries_pid_host_heartbeat_and_a_killed_process_reads_interrupted(stopped_trainings):
    training = stopped_trainings["SIGKILL"]
    first, refreshed = training.seen["first"], training.seen["refreshed"]
    assert first["pid"] == training.proc.pid
    assert first["host"] == socket.gethostname()
    beat = parse_iso(first["heartbeat"])
    assert beat is not None and abs(datetime.now(timezone.utc) - beat) < timedelta(minutes=5)
    assert training.seen["listed_while_running"] == "running"  # alive: shown running
    assert parse_iso(refreshed["heartbeat"]) > beat  # the trainer refreshes its heartbeat while it trains

    assert training.returncode == -signal.SIGKILL
    data = read_json(training.path)
    sid = data["training_session"]["session_id"]
    assert data["execution_status"]["status"] == "running"  # nobody could record the death...
    assert _listed_status(training, sid) == "interrupted"  # ...but every reader shows it interrupted
    for ref in (sid, "1"):
        shown = training.cli("sessions", "show", ref, "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["execution_status"]["status"] == "interrupted"
    table = training.cli("sessions", "list")
    assert "interrupted" in table.stdout and "running" not in table.stdout
    assert "interrupted" in training.cli("sessions", "show", sid).stdout


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_stop_signal_saves_a_checkpoint_then_marks_interrupted(name, stopped_trainings):
    training = stopped_trainings[name]
    assert training.returncode == 130, training.stderr()[-3000:]
    data = read_json(training.path)
    status = data["execution_status"]
    assert status["status"] == "interrupted"
    assert status["interrupt_reason"] == f"stopped by {name}"
    assert status["exit_code"] == 130
    checkpoint = Path(status["last_checkpoint"])
    assert checkpoint.parent == Path(data["output_paths"]["checkpoints_dir"])
    assert incomplete_reason(checkpoint) is None  # complete: marker, weights, optimizer, scheduler, RNG
    step = int(checkpoint.name.split("-")[1])
    assert step == status["current_step"] and 0 < step < status["total_steps"]  # saved where it stopped
    assert _listed_status(training, data["training_session"]["session_id"]) == "interrupted"
    assert "sessions resume" in training.stderr()


def _broken_model(folder: Path, tiny_model: Path) -> Path:
    """The tiny model's tokenizer with a 40-word embedding: training crashes with an IndexError."""
    from transformers import BertConfig, BertForSequenceClassification

    folder.mkdir()
    for item in tiny_model.iterdir():
        if item.name.startswith(("tokenizer", "special", "vocab")):
            shutil.copy(item, folder / item.name)
    config = BertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def test_exception_marks_failed_with_message_and_traceback_in_log(stopped_trainings):
    training = stopped_trainings["crash"]
    assert training.returncode == 1, training.stderr()[-3000:]
    data = training.session()
    status = data["execution_status"]
    assert status["status"] == "failed"
    assert status["error_message"].startswith("IndexError: index out of range")
    assert status["exit_code"] == 1 and status["completed_at"]
    sid = data["training_session"]["session_id"]
    log = training.home / "logs" / "training_sessions" / f"{sid}.log"
    assert data["output_paths"]["log_file"] == str(log)
    text = log.read_text(encoding="utf-8")
    assert "training failed" in text and "Traceback (most recent call last)" in text and "IndexError" in text
    assert _listed_status(training, sid) == "failed"


# ----- liveness without training (files written as another process or host would leave them) ----------------

def _running_session(store: SessionStore, **status: Any) -> SessionMetadata:
    meta = SessionMetadata(model_config={"selected_model": "m"})
    meta.execution_status.status = "running"
    for key, value in status.items():
        setattr(meta.execution_status, key, value)
    path = store.create(meta)
    return store.read(path)


def test_liveness_of_running_sessions_without_a_trainer(isolated_home):
    store = SessionStore()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = _running_session(store, pid=int(dead.stdout), pid_create_time=1.0, host=socket.gethostname())
    assert effective_status(store, gone) == "interrupted"  # same host, no run lock, dead pid
    alive = _running_session(store, pid=os.getpid(), host=socket.gethostname())  # a live pid but no run lock
    assert effective_status(store, alive) == "interrupted"  # only the trainer's lock says it runs here
    old_beat = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    elsewhere_stale = _running_session(store, pid=1, host="another-host.invalid", heartbeat=old_beat)
    assert effective_status(store, elsewhere_stale) == "interrupted"
    fresh_beat = datetime.now(timezone.utc).isoformat()
    elsewhere_fresh = _running_session(store, pid=1, host="another-host.invalid", heartbeat=fresh_beat)
    assert effective_status(store, elsewhere_fresh) == "running"
    elsewhere_silent = _running_session(store, pid=1, host="another-host.invalid")  # no heartbeat at all
    assert effective_status(store, elsewhere_silent) == "interrupted"
    no_identity = _running_session(store)  # the reference tool's 'running' with nothing to check
    assert effective_status(store, no_identity) == "interrupted"
