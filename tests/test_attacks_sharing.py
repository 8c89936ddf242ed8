"""Shared session files: export keeps only a whitelist; import takes settings from any tool, nothing else."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from llm_tool.atomic import HeldLock
from llm_tool.sessions import SessionStore
from tests.attack_helpers import ROOT, cli, data_file, one_error, session_files, tree, write_session

V2 = ROOT / "tests" / "data" / "reference_training_metadata_v2.json"
V1 = ROOT / "tests" / "data" / "reference_training_metadata.json"
MACHINE = {"host", "pid", "pid_create_time", "heartbeat", "supervisor", "tmux", "python", "platform", "log_file",
           "last_checkpoint", "best_model", "error_message", "resolved_model_path", "primary_file_relative"}


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _machine_session(home: Path, data: Path, status: str = "failed") -> Path:
    return write_session(home, "20250101_000001", {
        "training_session": {"session_id": "train_20250101_000001", "schema_version": 2, "notes": ["hello"]},
        "dataset_config": {"primary_file": str(data), "text_column": "text", "label_column": "label",
                           "primary_file_relative": "data.csv", "fingerprint_sha256": "0" * 64},
        "model_config": {"selected_model": str(home / "models" / "base"), "epochs": 2,
                         "resolved_model_path": "/opt/x"},
        "execution_status": {"status": status, "pid": 4242, "pid_create_time": 1.5, "host": "laptop.local",
                             "heartbeat": "2025-01-01T00:00:00+00:00", "error_message": f"boom in {home}",
                             "supervisor": {"pid": 9, "python": "/usr/bin/python3"}, "best_f1": 0.5,
                             "last_checkpoint": str(home / "models" / "x" / "checkpoint-9")},
        "output_paths": {"model_dir": str(home / "models" / "other"), "log_file": str(home / "l.log")},
        "environment": {"python": "/home/me/.venv/bin/python", "platform": "Linux-6", "torch": "2.5"},
        "tmux": {"session": "llmtool-x", "socket": "/tmp/tmux-0/llm"},
        "supervisor": {"pid": 77},
    })


def test_export_keeps_only_the_whitelist(capsys, isolated_home):
    data = data_file(isolated_home)
    _machine_session(isolated_home, data)
    rc, out, err = cli(capsys, "sessions", "export", "1")
    assert rc == 0, err
    exported = json.loads(out)
    assert not (_keys(exported) & MACHINE), _keys(exported) & MACHINE
    assert str(isolated_home) not in out  # no absolute path of this machine
    assert exported["dataset_config"]["primary_file"] == "data.csv"
    assert exported["model_config"]["selected_model"] == "models/base"
    assert exported["output_paths"] == {} and exported["environment"]["torch"] == "2.5"
    assert exported["execution_status"]["best_f1"] == 0.5


def test_exporting_a_running_session_warns(capsys, isolated_home):
    path = _machine_session(isolated_home, data_file(isolated_home), status="running")
    raw = json.loads(path.read_text())
    raw["execution_status"]["host"] = socket.gethostname()
    path.write_text(json.dumps(raw))
    lock = HeldLock(SessionStore().run_lock_path("train_20250101_000001"))
    assert lock.acquire()
    try:
        rc, _out, err = cli(capsys, "sessions", "export", "1", "-o", str(isolated_home / "x.json"))
    finally:
        lock.release()
    assert rc == 0 and "warning:" in err and "still running" in err


def test_import_without_the_data_says_how_to_point_to_it(capsys, isolated_home, tmp_path):
    shared = tmp_path / "shared.json"
    _machine_session(tmp_path, tmp_path / "gone.csv")
    shared.write_text((tmp_path / "logs/training_sessions/training_metadata_20250101_000001.json").read_text())
    rc, _out, err = cli(capsys, "sessions", "import", str(shared))
    assert rc == 0, err
    assert "not in this home" in err and "--dataset PATH" in err and "sessions relaunch" in err


def test_import_of_data_outside_the_home_asks_before_relaunch(capsys, isolated_home, tmp_path):
    outside = data_file(tmp_path, name="outside.csv")
    shared = tmp_path / "shared.json"
    shared.write_text(json.dumps({"dataset_config": {"primary_file": str(outside)}, "model_config": {}}))
    rc, _, err = cli(capsys, "sessions", "import", str(shared))
    assert rc == 0 and "outside this home" in err
    before = tree(isolated_home)
    one_error(cli(capsys, "sessions", "relaunch", "1"), "--dataset PATH", "--yes")
    one_error(cli(capsys, "sessions", "resume", "1"), "--yes")
    assert len(session_files(isolated_home)) == 1 and tree(isolated_home).keys() <= before.keys() | {
        str(p) for p in (isolated_home / "logs/training_sessions/.locks").glob("*")}


def test_import_refuses_relative_paths_out_of_the_home(capsys, isolated_home, tmp_path):
    for key in ("primary_file", "validation_file"):
        shared = tmp_path / "shared.json"
        dataset = {"primary_file": "data.csv", key: "../../../../etc/passwd"}
        shared.write_text(json.dumps({"dataset_config": dataset, "model_config": {}}))
        (isolated_home / "data.csv").write_text("text,label\n")
        one_error(cli(capsys, "sessions", "import", str(shared)), "outside")
    assert session_files(isolated_home) == []


def test_hostile_values_in_a_shared_file_are_not_used(capsys, isolated_home, tmp_path):
    data_file(isolated_home)
    shared = tmp_path / "shared.json"
    shared.write_text('{"dataset_config": {"primary_file": "data.csv"}, "model_config": {"learning_rate": '
                      'Infinity, "save_steps": -1, "class_weights": {"a": -3}, "epochs": 2}, '
                      '"execution_status": {"status": "\\u001b]0;x\\u0007running", "pid": 1}}')
    rc, _, err = cli(capsys, "sessions", "import", str(shared))
    assert rc == 0, err
    assert err.count("\n") == 1 and "learning_rate" in err and "save_steps" in err and "\x1b" not in err
    meta = SessionStore().read(session_files(isolated_home)[0])
    assert meta.model_config["learning_rate"] == "auto" and meta.model_config["save_steps"] is None  # run chooses
    assert meta.model_config["epochs"] == 2 and meta.status == "pending"


def test_reference_v1_file_still_imports(capsys, isolated_home):
    rc, _, err = cli(capsys, "sessions", "import", str(V1), "--dataset", str(data_file(isolated_home)))
    assert rc == 0, err
    meta = SessionStore().read(session_files(isolated_home)[0])
    assert meta.model_config["epochs"] == 10 and meta.model_config["selected_model"] == "camembert-base"


def test_reference_v2_file_imports_with_its_settings_and_keeps_the_rest(capsys, isolated_home):
    rc, _, err = cli(capsys, "sessions", "import", str(V2), "--dataset", str(data_file(isolated_home)))
    assert rc == 0, err
    notes = [line for line in err.splitlines() if line.startswith("warning: not used")]
    assert len(notes) == 1 and "training_params.reinforced_learning" in notes[0]
    meta = SessionStore().read(session_files(isolated_home)[0])
    model, dataset = meta.model_config, meta.dataset_config
    assert (model["epochs"], model["batch_size"], model["learning_rate"], model["seed"]) == (4, 8, 3e-5, 7)
    assert (model["warmup_ratio"], model["gradient_accumulation_steps"], model["max_length"]) == (0.06, 2, 128)
    assert model["selected_model"] == "bert-base-uncased"
    assert dataset["format"] == "auto"  # --dataset: the new file's own format, never the recorded file's
    assert (dataset["validation_split"], dataset["test_split"], dataset["label_column"]) == (0.1, 0.1, "label")
    kept = meta.extra["imported_fields"]
    assert kept["metadata_version"] == "2.0" and kept["system_info"]["hostname"] == "alice-gpu"
    assert kept["unused_settings"]["dataset_config"]["id_column"] == "review_id"
    assert meta.execution_status.extra["imported_results"]["status"] == "completed_with_errors"
    rc, out, _ = cli(capsys, "sessions", "show", "1")
    assert rc == 0 and "kept from the imported file" in out and "training_params" in out
    rc, out, _ = cli(capsys, "sessions", "show", "1", "--all")
    assert "imported_fields.training_params" in out and "imported_fields.system_info" in out


def test_reference_v2_relaunch_trains(capsys, isolated_home, tmp_path, tiny_model):
    shared = tmp_path / "v2.json"
    raw = json.loads(V2.read_text())
    outside = data_file(tmp_path, name="reviews.csv")
    raw["dataset_config"]["primary_file"] = str(outside)
    raw["dataset_config"]["primary_file_relative"] = "data/none.csv"
    shared.write_text(json.dumps(raw))
    rc, _, err = cli(capsys, "sessions", "import", str(shared))
    assert rc == 0 and "outside this home" in err
    before = {p for p in tree(tmp_path) if not p.startswith(str(isolated_home))}
    rc, _out, err = cli(capsys, "sessions", "relaunch", "1", "--yes", "--set",
                       f"model_config.selected_model={tiny_model}", "--set", "model_config.epochs=1",
                       "--set", "model_config.num_threads=1")
    assert rc == 0, err
    statuses = [json.loads(p.read_text())["execution_status"]["status"] for p in session_files(isolated_home)]
    assert sorted(statuses) == ["completed", "pending"]
    after = {p for p in tree(tmp_path) if not p.startswith(str(isolated_home))}
    assert after == before  # nothing written outside the home
    assert (isolated_home / "models").is_dir()
