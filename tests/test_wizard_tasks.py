"""Step 2's tasks, with real prompts: an annotation column of JSON objects (or several label columns) is found,
its keys are shown with coverage and classes, the user ticks tasks, and the summary shows the plan per task."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from llm_tool.sessions import SessionStore
from tests.helpers import session_files, write_csv
from tests.test_tasks_data import SENTIMENTS, STANCES, TOPICS, _annotation, _text
from tests.wizard_helpers import Keys, pick, replace, run_studio, to_data_file

pytestmark = pytest.mark.usefixtures("interactive")

STUDIO_TO_EXIT = [pick(3), pick(6)]


def _after_tasks(model: Path) -> list[str]:
    """Split: random (default); quick mode, 1 epoch, batch 8; a typed model folder; save; save only."""
    return [Keys.ENTER, Keys.ENTER, replace("1"), replace("8"), Keys.UP + Keys.UP + Keys.ENTER,
            str(model) + Keys.ENTER, "y\r", pick(3)]


def test_an_annotation_column_becomes_ticked_tasks(isolated_home, tiny_model, capsys):
    with (isolated_home / "speeches.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "annotation"])
        for i in range(60):
            cell = _annotation(i)
            if i < 2:
                cell["register"] = "formal"  # a key with one class: shown, not tickable
            writer.writerow([_text(i), json.dumps(cell)])
    # file, text: defaults; label: the annotation column (the default); tasks (stance, topics, register,
    # sentiment): untick 'sentiment' (number 4)
    ctx = run_studio(*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, "4", " ", Keys.ENTER,
                     *_after_tasks(tiny_model), *STUDIO_TO_EXIT)
    asked = ctx.prompter.asked
    assert asked[asked.index("label_column") + 1] == "tasks" and "task" not in asked
    out = capsys.readouterr().out
    assert "Tasks in 'annotation'" in out and "60 of 60" in out and "100.0%" in out
    assert "2 of 60" in out and "3.3%" in out  # 'register': one class on 2 rows, shown but not tickable
    assert "Plan per task" in out and "one model each: stance, topics" in out  # topics: multi-label
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert (dataset["annotation_column"], dataset["tasks"]) == ("annotation", ["stance", "topics"])
    assert dataset["text_column"] == "text" and dataset.get("label_column") is None


def test_several_label_columns_are_ticked_as_tasks(isolated_home, tiny_model, capsys):
    rows = [{"text": _text(i), "stance": STANCES[i % 3], "sentiment": "" if i % 4 == 0 else SENTIMENTS[i % 2],
             "topic": TOPICS[i % 4]} for i in range(60)]
    write_csv(isolated_home / "columns.csv", rows)
    # label: "Several label columns" (4th: stance, sentiment, topic, several); tick sentiment (2) and topic (3)
    ctx = run_studio(*to_data_file(), Keys.ENTER, Keys.ENTER, pick(4), "2", " ", "3", " ", Keys.ENTER,
                     Keys.ENTER, *_after_tasks(tiny_model), *STUDIO_TO_EXIT)
    assert "task_columns" in ctx.prompter.asked and "tasks" in ctx.prompter.asked
    out = capsys.readouterr().out
    assert "Tasks (label columns)" in out and "45 of 60" in out and "75.0%" in out  # sentiment's empty cells
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert (dataset["label_columns"], dataset["tasks"]) == (["sentiment", "topic"], ["sentiment", "topic"])


def test_relaunching_on_another_file_switches_to_tasks_and_back(tmp_path):
    from llm_tool.config import apply_overrides, parse_config
    from llm_tool.data.tasks import is_multi_task
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.new_session import dataset_sets
    from llm_tool.wizard.tasks_step import SEVERAL_COLUMNS

    plain = {"dataset_config": {"primary_file": str(tmp_path / "a.csv"), "label_column": "label"}, "model_config": {}}
    to_tasks = Draft(data_path=tmp_path / "b.csv", text_column="text", label_column="annotation", tasks=["stance"])
    dataset = parse_config(apply_overrides(plain, dataset_sets(to_tasks))).dataset
    assert is_multi_task(dataset) and (dataset.annotation_column, dataset.tasks) == ("annotation", ["stance"])
    columns = Draft(data_path=tmp_path / "b.csv", text_column="text", label_column=SEVERAL_COLUMNS,
                    task_columns=["stance", "topic"], tasks=["topic"])
    tasks_raw = apply_overrides(plain, dataset_sets(to_tasks))
    dataset = parse_config(apply_overrides(tasks_raw, dataset_sets(columns))).dataset
    assert (dataset.annotation_column, dataset.label_columns, dataset.tasks) == (None, ["stance", "topic"], ["topic"])
    back = Draft(data_path=tmp_path / "c.csv", text_column="text", label_column="label")
    dataset = parse_config(apply_overrides(tasks_raw, dataset_sets(back))).dataset
    assert not is_multi_task(dataset) and dataset.label_column == "label" and dataset.tasks is None
