"""Attacks with bad values and bad data: each is one exit-2 line before any training, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attack_helpers import cli, config, data_file, one_error, session_files

BAD_MODEL_VALUES = [
    ("learning_rate", float("inf"), "finite"),
    ("learning_rate", float("nan"), "finite"),
    ("learning_rate", -0.001, "above 0"),
    ("learning_rate", 0, "above 0"),
    ("learning_rate", 5, "below 1"),
    ("learning_rate", 10**400, "too large"),
    ("epochs", 0, "at least 1"),
    ("epochs", 10**9, "at most"),
    ("epochs", 1e300, "at most"),
    ("batch_size", 10**12, "at most 4096"),
    ("batch_size", -8, "at least 1"),
    ("eval_batch_size", -1, "at least 1"),
    ("num_threads", -2, "at least 1"),
    ("num_threads", 0, "at least 1"),
    ("seed", -1, "at least 0"),
    ("seed", 2**70, "at most 4294967295"),
    ("save_steps", -1, "at least 1"),
    ("save_steps", 0, "at least 1"),
    ("warmup_ratio", 1.5, "below 1"),
    ("warmup_ratio", -0.1, "at least 0"),
    ("weight_decay", float("-inf"), "finite"),
    ("weight_decay", -1, "at least 0"),
    ("gradient_accumulation_steps", 0, "at least 1"),
    ("early_stopping_patience", 0, "at least 1"),
    ("max_length", 3, "at least 8"),
    ("max_length", 10**9, "at most"),
    ("save_total_limit", 0, "at least 1"),
    ("class_weights", {"0": -1.0, "1": 1.0}, "above 0"),
    ("class_weights", {"0": float("inf"), "1": 1.0}, "above 0"),
    ("class_weights", {"0": "heavy"}, "above 0"),
    ("epochs", "three", "whole number"),
    ("epochs", "9" * 5000, "whole number"),
]


@pytest.mark.parametrize(("key", "value", "needle"), BAD_MODEL_VALUES, ids=lambda v: str(v)[:20])
def test_bad_numbers_are_one_line_before_any_session(capsys, isolated_home, tmp_path, key, value, needle):
    path = config(tmp_path, data_file(tmp_path), **{key: value})
    line = one_error(cli(capsys, "train", str(path)), f"model_config.{key}", needle)
    assert len(line) < 400
    assert session_files(isolated_home) == []  # refused before a session was written


@pytest.mark.parametrize(("key", "value"), [("validation_split", -0.1), ("test_split", 0.7),
                                            ("validation_split", float("nan")), ("sheet", -3)])
def test_bad_dataset_values(capsys, tmp_path, key, value):
    path = config(tmp_path, data_file(tmp_path), dataset={key: value})
    one_error(cli(capsys, "train", str(path), "--dry-run"), f"dataset_config.{key}")


@pytest.mark.parametrize("option", ["model_config.learning_rate=NaN", "model_config.batch_size=1e12",
                                    "model_config.seed=" + "7" * 5000, "model_config.epochs=" + "[" * 10000])
def test_bad_overrides(capsys, tmp_path, option):
    path = config(tmp_path, data_file(tmp_path))
    one_error(cli(capsys, "train", str(path), "--set", option, "--dry-run"), "model_config.")


def test_config_file_not_utf8(capsys, tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'{"dataset_config": {"primary_file": "caf\xe9.csv"}}')
    one_error(cli(capsys, "train", str(path)), "not UTF-8", "c.json")


def test_config_nested_very_deep(capsys, tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    one_error(cli(capsys, "train", str(path)), "nests deeper")


def test_config_with_a_huge_integer(capsys, tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"model_config": {"seed": ' + "9" * 10_000 + "}}")
    one_error(cli(capsys, "train", str(path)), "c.json")


def test_config_is_a_fifo_or_huge(capsys, tmp_path):
    import os

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    one_error(cli(capsys, "train", str(fifo)), "not a regular file")
    big = tmp_path / "big.json"
    big.write_text('{"x": "' + "a" * (6 * 2**20) + '"}')
    one_error(cli(capsys, "train", str(big)), "MiB")


def test_over_long_path_and_model_name_keep_the_line_short(capsys, tmp_path):
    path = config(tmp_path, "/" + "d" * 20_000 + ".csv")
    one_error(cli(capsys, "train", str(path), "--dry-run"))
    path = config(tmp_path, data_file(tmp_path), model="m" * 100_000)
    one_error(cli(capsys, "train", str(path), "--dry-run"))


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_column_names_are_refused(capsys, tmp_path):
    data = _csv(tmp_path, "text,label,label\n" + "".join(f"t {i},{i % 2},{1 - i % 2}\n" for i in range(20)))
    one_error(cli(capsys, "train", str(config(tmp_path, data)), "--dry-run"), "two columns named 'label'")


def test_header_only_csv_says_no_rows(capsys, tmp_path):
    line = one_error(cli(capsys, "train", str(config(tmp_path, _csv(tmp_path, "text,label\n"))), "--dry-run"),
                     "no rows")
    assert "one class" not in line


def test_list_labels_in_single_label_data(capsys, tmp_path):
    rows = [{"text": f"t {i}", "label": ["negative"] if i % 2 else ["positive"]} for i in range(20)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    one_error(cli(capsys, "train", str(config(tmp_path, data)), "--dry-run"), "multi-label", "rows 1, 2")


def test_multi_label_file_without_any_label(capsys, tmp_path):
    rows = [{"text": f"t {i}", "label": []} for i in range(20)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = config(tmp_path, data, dataset={"strategy": "multi-label"})
    line = one_error(cli(capsys, "train", str(path), "--dry-run"), "no row has a label")
    assert "nothing" not in line


def test_data_file_that_is_a_fifo_or_a_folder(capsys, tmp_path):
    import os

    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    one_error(cli(capsys, "train", str(config(tmp_path, fifo)), "--dry-run"), "not a regular file")
    one_error(cli(capsys, "train", str(config(tmp_path, tmp_path)), "--dry-run"), "is a folder")


def test_deeply_nested_jsonl_line(capsys, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a", "label": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    one_error(cli(capsys, "train", str(config(tmp_path, data)), "--dry-run"), "line 1")
