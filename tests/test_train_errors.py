"""Bad input: one line naming the problem and the fix, exit code 2, never a traceback, nothing trained."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import entry_point, run_main, write_config


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error:"), result.stderr
    text = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in text, text


def _csv(tmp_path: Path, body: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


GOOD = "text,label\n" + "".join(f"sentence {i},{'a' if i % 2 else 'b'}\n" for i in range(20))


def test_missing_data_file(tmp_path, tiny_model):
    result = run_main("train", str(write_config(tmp_path / "c.json", tmp_path / "nope.csv", tiny_model)))
    _assert_one_line_error(result, "data file not found", "nope.csv")


def test_the_installed_command_prints_one_line_and_exits_2(tmp_path, tiny_model):
    """The real `llm-tool` program (a process of its own): what a user's terminal gets."""
    config = write_config(tmp_path / "c.json", tmp_path / "nope.csv", tiny_model)
    result = subprocess.run([*entry_point(), "train", str(config)], capture_output=True, text=True, timeout=300)
    _assert_one_line_error(result, "data file not found", "nope.csv")


def test_unreadable_data_file(tmp_path, tiny_model):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01\x02" * 100)
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "looks binary")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path, tiny_model):
    path = _csv(tmp_path, GOOD)
    path.chmod(0)
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "permission denied")


def test_missing_column_lists_the_columns(tmp_path, tiny_model):
    path = _csv(tmp_path, GOOD)
    cfg = write_config(tmp_path / "c.json", path, tiny_model, dataset_config={"text_column": "body"})
    _assert_one_line_error(run_main("train", str(cfg)), "column 'body' not found", "columns are: text, label")


def test_empty_texts_are_counted(tmp_path, tiny_model):
    path = _csv(tmp_path, GOOD + ",a\n  ,b\n")
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "2 rows 22, 23", "empty 'text'")


def test_label_with_one_example(tmp_path, tiny_model):
    path = _csv(tmp_path, GOOD + "lonely text,c\n")
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "label 'c' has only 1 example")


def test_one_class_only(tmp_path, tiny_model):
    path = _csv(tmp_path, "text,label\n" + "".join(f"s {i},a\n" for i in range(10)))
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "only one class ('a')")


def test_nan_labels_say_how_many_rows(tmp_path, tiny_model):
    path = _csv(tmp_path, GOOD + "no label,\nnone either,\nthird,\n")
    _assert_one_line_error(run_main("train", str(write_config(tmp_path / "c.json", path, tiny_model))),
                           "3 rows", "no 'label' label")


def test_unknown_model_name_offline(tmp_path):
    path = _csv(tmp_path, GOOD)
    cfg = write_config(tmp_path / "c.json", path, "no-such-org/no-such-model")
    _assert_one_line_error(run_main("train", str(cfg)), "cannot load model 'no-such-org/no-such-model'",
                           "HF_HUB_OFFLINE")


def test_unknown_config_key_is_named(tmp_path, tiny_model):
    cfg = write_config(tmp_path / "c.json", _csv(tmp_path, GOOD), tiny_model, epoch=3)
    _assert_one_line_error(run_main("train", str(cfg)), "unknown key 'model_config.epoch'", "did you mean 'epochs'")


def test_bad_value_and_bad_override(tmp_path, tiny_model):
    cfg = write_config(tmp_path / "c.json", _csv(tmp_path, GOOD), tiny_model)
    _assert_one_line_error(run_main("train", str(cfg), "--set", "model_config.epochs=zero"),
                           "model_config.epochs must be a whole number")
    _assert_one_line_error(run_main("train", str(cfg), "--set", "model_config.batch_sizes=4"),
                           "unknown key 'model_config.batch_sizes'")
    _assert_one_line_error(run_main("train", str(cfg), "--set", "epochs"), "--set needs key=value")


def test_config_not_json(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{not json")
    _assert_one_line_error(run_main("train", str(path)), "is not valid JSON (line 1")


def test_failed_run_is_recorded_with_traceback_in_log(tmp_path, isolated_home):
    cfg = write_config(tmp_path / "c.json", _csv(tmp_path, GOOD), "no-such-org/no-such-model")
    run_main("train", str(cfg))
    meta_path = next((isolated_home / "logs" / "training_sessions").glob("training_metadata_*.json"))
    meta = json.loads(meta_path.read_text())
    assert meta["execution_status"]["status"] == "failed"
    assert "cannot load model" in meta["execution_status"]["error_message"]
    log = (isolated_home / "logs" / "training_sessions" / f"{meta['training_session']['session_id']}.log").read_text()
    assert "Traceback" in log and "ModelError" in log


def test_unknown_model_without_a_connection_fails_at_once(tmp_path, isolated_home):
    """No HF_HUB_OFFLINE, no way to the hub: one quick probe, then one line naming `llm-tool models add`, instead
    of a minute of 'Retrying in 8s [Retry 5/5]' lines from huggingface_hub."""
    cfg = write_config(tmp_path / "c.json", _csv(tmp_path, GOOD), "camembert-base")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY",
                                                              "https_proxy")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9",  # nothing listens there: the hub cannot be reached
               HF_HOME=str(tmp_path / "hf"), LLM_TOOL_HOME=str(isolated_home))
    started = time.monotonic()
    result = subprocess.run([*entry_point(), "train", str(cfg)], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    assert time.monotonic() - started < 20
    _assert_one_line_error(result, "cannot load model 'camembert-base'", "the hub cannot be reached",
                           "llm-tool models add camembert-base")
    assert len(result.stderr.strip().splitlines()) == 1 and "Retry" not in result.stderr
