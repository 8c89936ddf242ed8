"""Per-language models of a tasks run: which (task x language) children are planned, which are skipped and why."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from llm_tool.config import DatasetConfig
from llm_tool.data.languages_plan import MIN_TRAIN_ROWS, plan_children, table_fields
from llm_tool.data.tasks import discover_tasks
from llm_tool.sessions import SessionStore
from llm_tool.sessions.task_parent import TaskEntry, task_entries
from tests.conftest import SAMPLE_CSV
from tests.helpers import run_main, sample_rows, session_files, write_csv

LANGUAGES = (["en"] * 5 + ["fr"] * 4 + ["de"]) * 14  # 70 en, 56 fr, 14 de (about 11 training rows: too few)


def _data(path: Path) -> Path:
    rows = sample_rows(SAMPLE_CSV, len(LANGUAGES))
    out = []
    for i, (row, lang) in enumerate(zip(rows, LANGUAGES, strict=True)):
        annotation = {"sentiment": row["label"]}
        if lang == "en" or i % 2:  # length: every English row, half of the others (fr: 28 rows, too few)
            annotation["length"] = "short" if len(row["text"]) < 60 else "long"
        out.append({"text": row["text"], "lang": lang, "annotation": json.dumps(annotation)})
    return write_csv(path, out)


def _config(tmp_path: Path) -> DatasetConfig:
    return DatasetConfig(primary_file=str(_data(tmp_path / "coded.csv")), annotation_column="annotation",
                         language_column="lang")


def test_per_language_plans_a_child_per_language_with_enough_rows_and_says_why_the_others_are_skipped(
        tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    infos = discover_tasks(cfg, tmp_path)
    plan = plan_children(cfg, infos, tmp_path, "per_language")
    assert [(c.task.name, c.language) for c in plan.children] == [
        ("sentiment", None), ("sentiment", "EN"), ("sentiment", "FR"), ("length", None), ("length", "EN")]
    skipped = {(s.task, s.language): s.reason for s in plan.skipped}
    assert set(skipped) == {("sentiment", "DE"), ("length", "FR"), ("length", "DE")}
    assert all(f"needs {MIN_TRAIN_ROWS}" in reason for reason in skipped.values())
    assert all(re.match(r"\d+ annotated training rows", reason) for reason in skipped.values())

    ids = iter(f"train_20260101_00000{n}" for n in range(1, 10))
    entries = [TaskEntry(c.task.name, next(ids), language=c.language) for c in plan.children]
    fields = table_fields(plan, entries)
    assert fields["language_strategy"] == "per_language"
    assert fields["language_model_mapping"] == {
        "sentiment": {"EN": "train_20260101_000002", "FR": "train_20260101_000003"},
        "length": {"EN": "train_20260101_000005"}}
    assert fields["fallback"] == {"sentiment": "train_20260101_000001", "length": "train_20260101_000004"}
    assert {"task": "length", "language": "FR", "reason": skipped[("length", "FR")]} in fields["skipped"]


def test_multilingual_plans_one_child_per_task_and_reads_no_language(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    infos = discover_tasks(cfg, tmp_path)
    plan = plan_children(cfg, infos, tmp_path)
    assert [(c.task.name, c.language) for c in plan.children] == [("sentiment", None), ("length", None)]
    assert plan.skipped == [] and table_fields(plan, []) == {"language_strategy": "multilingual"}


def test_a_per_language_run_trains_each_language_and_routes_the_others_to_the_fallback(
        isolated_home: Path, tiny_model: Path) -> None:
    """`train` on per_language: a dry run lists the models and the skipped language, the run trains the fallback and
    one model per language, records the mapping, and `infer` routes each row (German: the fallback, said so)."""
    rows = sample_rows(SAMPLE_CSV, 110)
    codes = (["en"] * 5 + ["fr"] * 5 + ["de"]) * 10  # 50 en, 50 fr, 10 de
    data = write_csv(isolated_home / "coded.csv", [
        {"text": r["text"], "lang": code, "annotation": json.dumps({"sentiment": r["label"]})}
        for r, code in zip(rows, codes, strict=True)])
    config = isolated_home / "config.json"
    config.write_text(json.dumps({
        "dataset_config": {"primary_file": data.name, "annotation_column": "annotation", "language_column": "lang"},
        "model_config": {"selected_model": str(tiny_model), "epochs": 1, "batch_size": 16, "learning_rate": 3e-3,
                         "early_stopping": False, "training_mode": "quick", "num_threads": 1,
                         "language_strategy": "per_language"}}), encoding="utf-8")
    dry = run_main("train", str(config), "--dry-run", env={"COLUMNS": "200"})
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Models per language" in dry.stdout and "annotated training rows" in dry.stdout
    assert session_files(isolated_home) == []  # a dry run creates nothing

    result = run_main("train", str(config), "--session-name", "langs")
    assert result.returncode == 0, result.stderr[-3000:]
    store = SessionStore()
    parent = store.read(store.resolve("langs"))
    table = parent.extra["tasks"]
    ids = {(e.task, e.language): e.session_id for e in task_entries(parent)}
    assert set(ids) == {("sentiment", None), ("sentiment", "EN"), ("sentiment", "FR")}
    assert table["language_model_mapping"] == {"sentiment": {"EN": ids[("sentiment", "EN")],
                                                             "FR": ids[("sentiment", "FR")]}}
    assert table["fallback"] == {"sentiment": ids[("sentiment", None)]}
    assert [(s["task"], s["language"]) for s in table["skipped"]] == [("sentiment", "DE")]
    french = store.read(store.path_for_id(ids[("sentiment", "FR")])).dataset_config
    assert french["language"] == "FR" and french["rows_used"] == 50

    out = isolated_home / "out.csv"
    inferred = run_main("infer", "langs", "--input", str(data), "--output", str(out), "--backend", "torch")
    assert inferred.returncode == 0, inferred.stderr[-3000:]
    with out.open(encoding="utf-8", newline="") as handle:
        routed = [(row["lang"], row["sentiment_routed"]) for row in csv.DictReader(handle)]
    assert sorted(set(routed)) == [("de", "fallback"), ("en", "en"), ("fr", "fr")]
    shown = run_main("sessions", "show", "langs", env={"COLUMNS": "200"})
    assert shown.returncode == 0 and "no DE model of sentiment (its rows go to the fallback)" in shown.stdout
    reported = run_main("report", "langs")
    assert reported.returncode == 0, reported.stderr[-3000:]
    index = (isolated_home / "models" / parent.session_id / "report" / "index.html").read_text(encoding="utf-8")
    assert "<h2>Not trained</h2>" in index and ">DE</td>" in index and "annotated training rows" in index
    assert index.count("/report.html'>sentiment</a>") == 3  # the fallback, EN and FR sections
