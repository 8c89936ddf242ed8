"""Several annotation dimensions in one data set: tasks found, rows not annotated left out, one split for all."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from llm_tool.config import DatasetConfig
from llm_tool.data.prepare import prepare
from llm_tool.data.tasks import child_dataset_config, discover_tasks, is_multi_task, read_task_labels, with_tasks
from llm_tool.errors import DatasetError
from tests.helpers import write_csv

STANCES = ("pro", "contra", "neutral")
SENTIMENTS = ("positive", "negative")
TOPICS = ("economy", "health", "climate", "migration")


def _annotation(i: int) -> dict[str, object]:
    """Row i: stance on every row, sentiment on rows not divisible by 3, topics (a list) on even rows, and
    the string "null" as the sentiment of every 7th row (not annotated unless null_as_class)."""
    out: dict[str, object] = {"stance": STANCES[i % 3]}
    if i % 3:
        out["sentiment"] = "null" if i % 7 == 0 else SENTIMENTS[i % 2]
    if i % 2 == 0:
        out["topics"] = [TOPICS[i % 4], TOPICS[(i // 2) % 4]] if i % 4 else [TOPICS[(i // 4) % 4]]
    return out


def _text(i: int) -> str:
    return f"speech {i} on {TOPICS[i % 4]} sounds {SENTIMENTS[i % 2]} and {STANCES[i % 3]}"


def write_json_csv(path: Path, rows: int = 60, dict_strings: bool = False) -> Path:
    """A CSV of texts with an annotation column of JSON objects (or Python-dict strings, as LLM_Tool writes)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "annotation"])
        for i in range(rows):
            cell = str(_annotation(i)) if dict_strings else json.dumps(_annotation(i))
            writer.writerow([i, _text(i), cell])
    return path


def _config(path: Path, **extra: object) -> DatasetConfig:
    return DatasetConfig(primary_file=str(path), annotation_column="annotation", **extra)  # type: ignore[arg-type]


def _expected_counts(rows: int) -> dict[str, int]:
    annotated = {"stance": rows, "sentiment": 0, "topics": 0}
    for i in range(rows):
        annotated["sentiment"] += bool(i % 3) and i % 7 != 0
        annotated["topics"] += i % 2 == 0
    return annotated


@pytest.mark.parametrize("dict_strings", [False, True], ids=["json", "python-dict"])
def test_tasks_are_found_with_classes_and_coverage(tmp_path, dict_strings):
    path = write_json_csv(tmp_path / "speeches.csv", dict_strings=dict_strings)
    cfg = _config(path)
    assert is_multi_task(cfg)
    infos = discover_tasks(cfg, tmp_path)
    expected = _expected_counts(60)
    assert [i.name for i in infos] == ["stance", "topics", "sentiment"]  # in order of first appearance
    assert {i.name: i.rows_annotated for i in infos} == expected
    assert {i.name: i.rows_not_annotated for i in infos} == {k: 60 - v for k, v in expected.items()}
    by_name = {i.name: i for i in infos}
    assert by_name["stance"].classes == {"contra": 20, "neutral": 20, "pro": 20}
    assert set(by_name["sentiment"].classes) == set(SENTIMENTS)  # "null" is not a class by default
    assert by_name["topics"].multi_label and not by_name["stance"].multi_label
    assert set(by_name["topics"].classes) == set(TOPICS)
    assert discover_tasks(_config(path, tasks=["topics", "stance"]), tmp_path)[0].name == "topics"


def test_cells_of_every_spelling_are_read_and_code_never_runs():
    from llm_tool.data.annotations import parse_cell

    assert parse_cell("{'a': 'x', 'b': None, 'c': ['p', 'q']}", "f.csv", 2, "c") == {"a": "x", "b": None,
                                                                                      "c": ["p", "q"]}
    assert parse_cell(json.dumps(json.dumps({"a": "x"})), "f.csv", 2, "c") == {"a": "x"}  # encoded twice
    assert parse_cell("  ", "f.csv", 2, "c") is None and parse_cell(float("nan"), "f.csv", 2, "c") is None
    with pytest.raises(DatasetError, match="row 7: 'c' holds"):
        parse_cell("{'a': __import__('os').system('echo hacked')}", "f.csv", 7, "c")


def test_null_as_class_makes_the_string_null_a_label(tmp_path):
    path = write_json_csv(tmp_path / "speeches.csv")
    sentiment = {i.name: i for i in discover_tasks(_config(path, null_as_class=True), tmp_path)}["sentiment"]
    nulls = sum(1 for i in range(60) if i % 3 and i % 7 == 0)
    assert sentiment.classes["null"] == nulls
    assert sentiment.rows_annotated == _expected_counts(60)["sentiment"] + nulls


def test_each_task_keeps_its_annotated_rows_of_one_shared_split(tmp_path):
    path = write_json_csv(tmp_path / "speeches.csv", rows=90)
    cfg = with_tasks(_config(path), discover_tasks(_config(path), tmp_path))
    expected = _expected_counts(90)
    split_of: dict[str, dict[str, str]] = {}
    for info in discover_tasks(cfg, tmp_path):
        child = DatasetConfig(**child_dataset_config(cfg, info))
        assert child.task == info.name and not is_multi_task(child)
        data = prepare(child, tmp_path, seed=7)
        assert data.multi_label == info.multi_label
        assert data.record["rows_used"] == expected[info.name] == sum(len(s) for s in data.splits.values())
        assert data.record["rows_not_annotated"] == 90 - expected[info.name]
        split_of[info.name] = {text: name for name, split in data.splits.items() for text in split.texts}
    stance = split_of["stance"]  # every row is annotated for stance: its split is the split of every text
    assert len(stance) == 90
    for task in ("sentiment", "topics"):
        assert all(stance[text] == name for text, name in split_of[task].items()), task
    annotated_for_all = [t for t in split_of["sentiment"] if t in split_of["topics"]]
    tests = [t for t in annotated_for_all if stance[t] == "test"]
    assert tests and all(split_of["sentiment"][t] == split_of["topics"][t] == "test" for t in tests)


def test_read_task_labels_gives_none_for_rows_not_annotated(tmp_path):
    path = write_json_csv(tmp_path / "speeches.csv", rows=12)
    texts, values = read_task_labels(path, _config(path), "sentiment")
    assert texts == [_text(i) for i in range(12)]
    assert values == [None if not i % 3 or i % 7 == 0 else SENTIMENTS[i % 2] for i in range(12)]
    _, topics = read_task_labels(path, _config(path), "topics")
    assert topics[0] == ["economy"] and topics[1] is None


def test_a_task_with_one_class_is_one_line(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,annotation\n" + "".join(f'row {i},"{{""a"": ""x"", ""b"": ""{i % 2}""}}"\n'
                                                  for i in range(6)))
    with pytest.raises(DatasetError, match=r"task 'a' has only one class \('x'\)") as caught:
        discover_tasks(_config(path), tmp_path)
    assert "\n" not in str(caught.value)


def test_several_label_columns_are_tasks_and_empty_cells_are_not_annotated(tmp_path):
    rows = [{"text": _text(i), "stance": STANCES[i % 3], "sentiment": "" if i % 4 == 0 else SENTIMENTS[i % 2],
             "topic": "null" if i % 5 == 0 else TOPICS[i % 4]} for i in range(40)]
    path = write_csv(tmp_path / "columns.csv", rows)
    cfg = DatasetConfig(primary_file=str(path), label_columns=["stance", "sentiment", "topic"])
    assert is_multi_task(cfg)
    infos = {i.name: i for i in discover_tasks(cfg, tmp_path)}
    assert (infos["sentiment"].rows_annotated, infos["topic"].rows_annotated) == (30, 32)
    child = DatasetConfig(**child_dataset_config(with_tasks(cfg, list(infos.values())), infos["sentiment"]))
    assert (child.label_column, child.task, child.label_columns) == ("sentiment", "sentiment", None)
    data = prepare(child, tmp_path, seed=1)
    assert data.record["rows_used"] == 30 and data.record["rows_not_annotated"] == 10
    assert "" not in data.label_names and data.label_names == ["negative", "positive"]


def test_jsonl_with_an_object_column_and_a_separate_test_file(tmp_path):
    def write(name: str, numbers: range) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps({"text": _text(i), "codes": _annotation(i)}) + "\n" for i in numbers))
        return path

    cfg = DatasetConfig(primary_file=str(write("train.jsonl", range(60))), annotation_column="codes",
                        test_file=str(write("test.jsonl", range(60, 84))))
    infos = discover_tasks(cfg, tmp_path)
    assert sum(i.rows_annotated + i.rows_not_annotated for i in infos) == 3 * 84
    for info in infos:
        data = prepare(DatasetConfig(**child_dataset_config(cfg, info)), tmp_path, seed=3)
        test_rows = {i for i in range(60, 84) if _annotation(i).get(info.name) not in (None, "null")}
        assert sorted(data.splits["test"].texts) == sorted(_text(i) for i in test_rows), info.name
        assert data.record["split_method"].startswith("separate test file")


def test_the_split_column_decides_for_every_task(tmp_path):
    path = tmp_path / "split.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "annotation", "split"])
        for i in range(45):
            writer.writerow([_text(i), json.dumps(_annotation(i)), ("train", "train", "validation", "test", "train")
                             [i % 5]])
    cfg = _config(path, split_column="split")
    for info in discover_tasks(cfg, tmp_path):
        data = prepare(DatasetConfig(**child_dataset_config(cfg, info)), tmp_path, seed=3)
        for name, wanted in (("validation", 2), ("test", 3)):
            assert {int(t.split()[1]) % 5 for t in data.splits[name].texts} == {wanted}


def test_a_language_child_keeps_the_rows_of_its_language_on_the_shared_split(tmp_path):
    path = tmp_path / "languages.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "annotation", "lang"])
        for i in range(80):
            writer.writerow([_text(i), json.dumps(_annotation(i)), "fr" if i % 4 == 1 else "EN"])
    cfg = _config(path, language_column="lang")
    stance = discover_tasks(cfg, tmp_path)[0]
    whole = prepare(DatasetConfig(**child_dataset_config(cfg, stance)), tmp_path, seed=5)
    english = prepare(DatasetConfig(**child_dataset_config(cfg, stance, language="en")), tmp_path, seed=5)
    assert english.record["rows_used"] == 60 and english.record["rows_not_annotated"] == 0
    for name, split in english.splits.items():
        assert set(split.texts) == {t for t in whole.splits[name].texts if int(t.split()[1]) % 4 != 1}
