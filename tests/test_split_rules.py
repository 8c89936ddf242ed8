"""Leakage-safe splits: a group never lands on two sides, a time split orders by date, bad columns fail in one line."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from llm_tool.config import parse_config
from llm_tool.data.prepare import prepare
from llm_tool.errors import ConfigError, DatasetError


def _write(tmp_path: Path, rows: list[dict[str, str]], name: str = "data.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _prepare(path: Path, **dataset: object):
    return prepare(parse_config({"dataset_config": {"primary_file": str(path), **dataset}}).dataset, path.parent,
                   seed=7)


def _group_of_text(rows: list[dict[str, str]]) -> dict[str, str]:
    return {r["text"]: r["doc"] for r in rows}


@pytest.mark.parametrize("trial", range(12))
def test_group_split_never_puts_one_group_on_two_sides(tmp_path, trial):
    """Property test: random groupings (sizes, counts, labels), every group in exactly one split."""
    rng = random.Random(trial)
    n_groups = rng.randint(3, 40)
    rows = []
    for g in range(n_groups):
        for k in range(rng.randint(1, 12)):
            rows.append({"text": f"text {g}-{k} {rng.random():.6f}", "label": rng.choice("abc"), "doc": f"d{g}"})
    for lab in "abc":  # every label at least twice
        rows += [{"text": f"extra {lab} {j}", "label": lab, "doc": f"x{lab}"} for j in range(2)]
    rng.shuffle(rows)
    try:
        data = _prepare(_write(tmp_path, rows), split_group_column="doc",
                        validation_split=rng.choice([0.1, 0.2, 0.3]), test_split=rng.choice([0.0, 0.1, 0.25]))
    except DatasetError as exc:  # a label whose only groups went to validation/test
        assert "no example in the training split" in str(exc)
        return
    group = _group_of_text(rows)
    sides: dict[str, set[str]] = {}
    for name, split in data.splits.items():
        for text in split.texts:
            sides.setdefault(group[text], set()).add(name)
    assert all(len(s) == 1 for s in sides.values())
    assert sum(len(s) for s in data.splits.values()) == len(rows)
    assert data.record["split_method"].startswith(("stratified group split", "group split"))
    assert sum(data.record["split_groups"].values()) == len(sides)


def test_group_split_stratifies_and_warns_when_a_class_is_missing(tmp_path):
    rows = [{"text": f"t{g}-{k}", "label": "common", "doc": f"d{g}"} for g in range(30) for k in range(3)]
    rows += [{"text": f"rare {k}", "label": "rare", "doc": "only-rare"} for k in range(3)]
    data = _prepare(_write(tmp_path, rows), split_group_column="doc")
    assert "rare" in data.splits["train"].labels  # one group of 'rare': not in validation and test
    warnings = data.record["split_warnings"]
    assert any("validation split has no example of 'rare'" in w for w in warnings)
    assert any("test split has no example of 'rare'" in w for w in warnings)


def test_time_split_orders_by_date_and_keeps_equal_dates_together(tmp_path):
    days = [f"2024-01-{d:02d}" for d in range(1, 21)]
    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "date": days[i // 2]} for i in range(40)]
    rows[5]["date"] = "March 3, 2023"  # another format, the oldest
    random.Random(1).shuffle(rows)
    data = _prepare(_write(tmp_path, rows), split_time_column="date", validation_split=0.2, test_split=0.2)
    date_of = {r["text"]: r["date"] for r in rows}
    import pandas as pd

    stamps = {name: [pd.Timestamp(date_of[t]) for t in s.texts] for name, s in data.splits.items()}
    assert max(stamps["train"]) < min(stamps["validation"])
    assert max(stamps["validation"]) < min(stamps["test"])
    assert [len(data.splits[n]) for n in ("train", "validation", "test")] == [24, 8, 8]
    assert pd.Timestamp("2023-03-03") in stamps["train"]
    assert data.record["split_time_ranges"]["test"] == ["2024-01-17", "2024-01-20"]
    assert data.record["split_method"].startswith("time split by 'date'")


def test_time_split_boundary_tie_goes_to_the_newer_split(tmp_path):
    years = ["2019"] * 10 + ["2020"] * 5 + ["2021"] * 5
    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "date": year} for i, year in enumerate(years)]
    data = _prepare(_write(tmp_path, rows), split_time_column="date", validation_split=0.1, test_split=0.2)
    # test: the 4 newest rows, grown to all 5 of 2021 (ties stay together); validation: 2 rows, grown to all of 2020
    assert [len(data.splits[n]) for n in ("train", "validation", "test")] == [10, 5, 5]


def test_time_split_with_too_few_dates_fails(tmp_path):
    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "date": "2021-05-01"} for i in range(20)]
    with pytest.raises(DatasetError, match="leaves no training rows"):
        _prepare(_write(tmp_path, rows), split_time_column="date")


@pytest.mark.parametrize(("dataset", "message"), [
    ({"split_group_column": "doc"}, r"only 1 group: a group split needs at least 3"),
    ({"split_time_column": "doc"}, r"row 2: 'same' in 'doc' is not a date \(20 such cells\)"),
    ({"split_group_column": "nope"}, r"split column 'nope' not found"),
])
def test_bad_split_columns_are_one_line_errors(tmp_path, dataset, message):
    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "doc": "same"} for i in range(20)]
    with pytest.raises(DatasetError, match=message) as caught:
        _prepare(_write(tmp_path, rows), **dataset)
    assert "\n" not in str(caught.value)


def test_two_ways_to_split_are_a_config_error():
    with pytest.raises(ConfigError, match=r"split_column and dataset_config\.split_group_column both"):
        parse_config({"dataset_config": {"primary_file": "x.csv", "split_column": "s", "split_group_column": "g"}})


def test_cli_dry_run_with_a_text_date_column_exits_2_with_one_line(tmp_path):
    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "when": "yesterday"} for i in range(20)]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": str(_write(tmp_path, rows)),
                                                     "split_time_column": "when"}}))
    done = subprocess.run([sys.executable, "-m", "llm_tool", "train", str(config), "--dry-run"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'yesterday' in 'when' is not a date" in lines[0]


def test_sweeps_benchmarks_and_curves_keep_the_split_rule(tmp_path):
    from llm_tool.sweeps.curve import curve_from_config
    from llm_tool.sweeps.spec import benchmark_from_config, parse_sweep

    rows = [{"text": f"text {i}", "label": "ab"[i % 2], "doc": f"d{i // 3}"} for i in range(30)]
    raw = {"dataset_config": {"primary_file": str(_write(tmp_path, rows)), "split_group_column": "doc"},
           "model_config": {}}
    specs = [benchmark_from_config(raw, ["model-a", "model-b"], base_dir=tmp_path),
             curve_from_config(raw, [0.5, 1.0], base_dir=tmp_path, seeds=2),
             parse_sweep({"base": raw, "grid": {"model_config.learning_rate": [1e-5, 2e-5]}}, base_dir=tmp_path)]
    for spec in specs:
        assert spec.jobs and all(job.raw["dataset_config"]["split_group_column"] == "doc" for job in spec.jobs)


def test_a_task_of_a_tasks_run_keeps_groups_whole_and_takes_its_fraction(tmp_path):
    rows = [{"text": f"text {i}", "stance": "ab"[i % 2], "topic": "xyz"[i % 3], "doc": f"d{i // 4}"}
            for i in range(120)]
    path = _write(tmp_path, rows)
    group = {r["text"]: r["doc"] for r in rows}
    base = {"label_columns": ["stance", "topic"], "split_group_column": "doc"}
    data = {task: _prepare(path, **base, task=task) for task in ("stance", "topic")}
    for prepared in data.values():
        sides: dict[str, set[str]] = {}
        for name, split in prepared.splits.items():
            for text in split.texts:
                sides.setdefault(group[text], set()).add(name)
        assert all(len(s) == 1 for s in sides.values())
        assert prepared.record["split_method"].startswith("stratified group split by 'doc'")
    assert data["stance"].splits["test"].texts == data["topic"].splits["test"].texts  # one split for all tasks
    half = _prepare(path, **base, task="stance", train_fraction=0.5)
    assert set(half.splits["train"].texts) < set(data["stance"].splits["train"].texts)
    assert half.splits["test"].texts == data["stance"].splits["test"].texts
