"""Tasks from the command line: the dry run's task table, a child config trained as a normal session, and bad
annotation input refused in one line with exit code 2 and nothing created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_tool.config import DatasetConfig
from llm_tool.data.tasks import child_dataset_config, discover_tasks
from tests.helpers import read_json, run_main, session_files, write_config
from tests.test_tasks_data import write_json_csv


def _tasks_config(tmp_path: Path, data: Path, model: Path, **dataset: object) -> Path:
    path = write_config(tmp_path / "tasks.json", data, model,
                        dataset_config={"annotation_column": "annotation", **dataset})
    raw = read_json(path)
    del raw["dataset_config"]["label_column"]
    path.write_text(json.dumps(raw))
    return path


def test_the_dry_run_shows_each_task_with_coverage_and_plan(tmp_path, tiny_model, isolated_home):
    data = write_json_csv(tmp_path / "speeches.csv", rows=60)
    result = run_main("train", str(_tasks_config(tmp_path, data, tiny_model)), "--dry-run", env={"COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    stance = next(line for line in lines if line.startswith("│ stance ") and "single-label" in line)
    assert "contra 20, neutral 20, pro 20" in stance and "100.0%" in stance
    topics = next(line for line in lines if line.startswith("│ topics ") and "multi-label" in line)
    assert "30 " in topics and "50.0%" in topics
    assert "shared by every task, on 'stance'" in result.stdout
    assert "valid for 3 tasks" in result.stdout
    assert session_files(isolated_home) == []


def test_a_child_config_trains_as_a_normal_session_on_its_annotated_rows(tmp_path, tiny_model, isolated_home):
    data = write_json_csv(tmp_path / "speeches.csv", rows=60)
    cfg = DatasetConfig(primary_file=str(data), annotation_column="annotation")
    sentiment = next(i for i in discover_tasks(cfg, tmp_path) if i.name == "sentiment")
    path = write_config(tmp_path / "child.json", data, tiny_model)
    raw = read_json(path)
    raw["dataset_config"] = child_dataset_config(cfg, sentiment)
    path.write_text(json.dumps(raw))
    result = run_main("train", str(path))
    assert result.returncode == 0, result.stderr
    (session,) = session_files(isolated_home)
    recorded = read_json(session)["dataset_config"]
    assert recorded["task"] == "sentiment" and recorded["strategy"] == "single-label"
    assert (recorded["rows_used"], recorded["rows_not_annotated"]) == (sentiment.rows_annotated, 60 - 34)
    assert recorded["label_names"] == ["negative", "positive"]
    listed = run_main("sessions", "list", "--json")
    assert [row["label"] for row in json.loads(listed.stdout)] == ["sentiment"]  # the task, not a label column


def _cells(tmp_path: Path, cells: list[str], name: str = "bad.csv") -> Path:
    """A CSV whose first rows carry ``cells`` as annotations, then good rows (so only the bad cell is at fault)."""
    good = [json.dumps({"stance": ("pro", "contra")[i % 2]}) for i in range(10)]
    path = tmp_path / name
    lines = ["text,annotation"] + [f'text {i},"{c.replace(chr(34), chr(34) * 2)}"'
                                   for i, c in enumerate(cells + good)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BAD_CELLS = {
    "not an object": (['["pro", "contra"]'], "row 2: 'annotation' holds", "not an object"),
    "plain text": (["pro"], "row 2: 'annotation' holds 'pro'", "not an object"),
    "control characters in a key": (['{"sta\\u001bnce": "pro"}'], "key 'sta\\x1bnce' holds control characters"),
    "one class": ([json.dumps({"topic": "economy"}), json.dumps({"topic": "economy"})],
                  "task 'topic' has only one class ('economy')"),
    "10,000 keys": ([json.dumps({f"k{i}": "x" for i in range(10_000)})], "row 2", "over 64 KiB"),
    "deep JSON": (['{"a": ' + "[" * 50 + '"x"' + "]" * 50 + "}"], "row 2", "nests deeper than 8 levels"),
    "an object as a value": ([json.dumps({"stance": {"x": "pro"}})], "task 'stance' holds", "a list of labels"),
    "a python expression": (["{'stance': __import__('os').getcwd()}"], "row 2", "not an object"),
}


@pytest.mark.parametrize("case", list(BAD_CELLS), ids=list(BAD_CELLS))
def test_bad_annotations_are_one_line_exit_2_and_nothing_created(tmp_path, tiny_model, isolated_home, case):
    cells, *fragments = BAD_CELLS[case]
    data = _cells(tmp_path, cells)
    result = run_main("train", str(_tasks_config(tmp_path, data, tiny_model)), "--dry-run")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    text = " ".join(result.stderr.split())
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in text, text
    assert "\x1b" not in result.stderr
    assert session_files(isolated_home) == []


def test_more_than_a_thousand_keys_over_the_rows_is_not_an_annotation_column(tmp_path, tiny_model, isolated_home):
    path = tmp_path / "keys.jsonl"
    path.write_text("".join(json.dumps({"text": f"t {i}", "annotation": {f"key{i}": "x"}}) + "\n"
                            for i in range(1100)))
    result = run_main("train", str(_tasks_config(tmp_path, path, tiny_model)), "--dry-run")
    assert result.returncode == 2 and "has over 1000 different keys" in result.stderr, result.stderr
    assert session_files(isolated_home) == []


def test_a_task_the_data_does_not_have_is_named_with_the_tasks_it_has(tmp_path, tiny_model):
    data = write_json_csv(tmp_path / "speeches.csv", rows=30)
    result = run_main("train", str(_tasks_config(tmp_path, data, tiny_model, tasks=["stance", "emotion"])),
                      "--dry-run")
    assert result.returncode == 2
    assert "dataset_config.tasks names 'emotion', which the data does not have: its tasks are stance, topics, " \
           "sentiment" in " ".join(result.stderr.split())


JSONL_CELLS = {
    "a list, not an object": (["pro", "contra"], "row 1: 'annotation' holds ['pro', 'contra']", "not an object"),
    "deep object": ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": "x"}}}}}}}}}, "row 1",
                    "nests deeper than 8 levels"),
}


@pytest.mark.parametrize("case", list(JSONL_CELLS), ids=list(JSONL_CELLS))
def test_bad_objects_in_jsonl_are_one_line(tmp_path, tiny_model, isolated_home, case):
    cell, *fragments = JSONL_CELLS[case]
    good = [{"text": f"t {i}", "annotation": {"stance": "ab"[i % 2]}} for i in range(10)]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [{"text": "t", "annotation": cell}, *good]))
    result = run_main("train", str(_tasks_config(tmp_path, path, tiny_model)), "--dry-run")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in " ".join(result.stderr.split())
    assert session_files(isolated_home) == []
