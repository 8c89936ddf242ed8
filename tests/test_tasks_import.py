"""An LLM_Tool v2.0 `llm-json` session imported as tasks and relaunched on the user's CSV; a relaunch on another
file reads that file in its own format, never the one recorded for the old file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from llm_tool.config import parse_config
from llm_tool.sessions import SessionStore
from llm_tool.sessions.operations import relaunch_config
from llm_tool.training.plan import make_task_plans
from tests.helpers import read_json, run_main, session_files
from tests.test_tasks_data import _annotation, _text

KEYS = ["stance", "sentiment", "topics"]


def _user_csv(path: Path, rows: int = 60) -> Path:
    """The user's CSV as LLM_Tool's annotator writes it: a `sentence` column, Python-dict annotations, a language."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence_id", "sentence", "annotation", "lang"])
        for i in range(rows):
            writer.writerow([i, _text(i), str(_annotation(i)), "fr" if i % 5 == 0 else "en"])
    return path


def llm_tool_session(source_file: str) -> dict[str, object]:
    """A v2.0 training_metadata.json of LLM_Tool's Training Arena for an llm-json CSV, as its MetadataManager
    writes it: the derived JSONL as primary_file (with that file's format_type), the CSV as source_file."""
    stamp = "20260112_101530"
    derived = f"training_data/multilabel_all_keys_{stamp}.jsonl"
    return {
        "metadata_version": "2.0", "created_at": "2026-01-12T10:15:30", "last_updated": "2026-01-12T11:02:11",
        "training_session": {"session_id": f"training_session_{stamp}", "timestamp": stamp,
                             "tool_version": "LLMTool v2.3.1", "workflow": "Training Arena - Quick", "mode": "quick",
                             "python_version": "3.11.7", "platform": "Linux-6.5", "hostname": "alice-gpu",
                             "user": "alice"},
        "dataset_config": {
            "primary_file": derived, "format_type": "jsonl", "format": "jsonl", "strategy": "multi-label",
            "text_column": "text", "label_column": "labels", "total_samples": 0, "has_validation": False,
            "has_test": False, "encoding": "utf-8",
            "training_files": {"stance": f"training_data/multiclass_stance_{stamp}.jsonl", "multilabel": derived},
            "num_categories": 0, "categories": [], "category_distribution": {}, "source_file": source_file,
            "annotation_column": "annotation", "training_approach": "hybrid", "original_strategy": "single-label",
            "multiclass_keys": ["stance", "sentiment"], "onevsall_keys": ["topics"],
            "key_strategies": {"stance": "multi-class", "sentiment": "multi-class", "topics": "one-vs-all"},
            "files_per_key": {"stance": f"training_data/multiclass_stance_{stamp}.jsonl",
                              "sentiment": f"training_data/multiclass_sentiment_{stamp}.jsonl",
                              "onevsall_multilabel": f"training_data/onevsall_keys_{stamp}.jsonl"},
            "all_keys_values": {"stance": ["pro", "contra", "neutral"]},
            "value_counts_by_key": {"stance": {"pro": 20, "contra": 20, "neutral": 20}}},
        "language_config": {"confirmed_languages": ["EN", "FR"], "language_distribution": {"EN": 48, "FR": 12},
                            "model_strategy": "per-language", "language_model_mapping": {"EN": "bert-base-uncased",
                                                                                          "FR": "bert-base-uncased"},
                            "per_language_training": True, "language_detection_method": "column"},
        "text_analysis": {"text_length_stats": {"token_mean": 14}}, "split_config": {}, "label_config": {},
        "model_config": {"training_mode": "quick", "selected_model": None, "epochs": 10, "batch_size": 16,
                         "learning_rate": 2e-05, "early_stopping": True, "validation_split": 0.2, "test_split": 0.1,
                         "models_by_language": {"EN": "bert-base-uncased", "FR": "bert-base-uncased"},
                         "train_by_language": True, "selected_models": [], "stage_models": {}},
        "training_params": {"epochs": 10}, "reinforced_learning_config": {},
        "execution_status": {"status": "completed_with_errors", "models_trained": ["stance_EN", "stance_FR"],
                             "best_f1": 0.71},
        "output_paths": {"models_dir": f"models/training_session_{stamp}"}, "preprocessing": {},
        "advanced_settings": {}, "checkpoints": {}, "training_context": {},
    }


def _import(tmp_path: Path, data: dict[str, object], *extra: str) -> tuple[Path, dict[str, object]]:
    shared = tmp_path / "shared_session.json"
    shared.write_text(json.dumps(data))
    result = run_main("sessions", "import", str(shared), *extra)
    assert result.returncode == 0, result.stderr
    (path,) = session_files(Path.cwd())
    return path, {**read_json(path), "_stderr": result.stderr}


def test_an_llm_json_session_becomes_tasks_on_the_users_csv(tmp_path, isolated_home, tiny_model):
    csv_path = _user_csv(isolated_home / "speeches.csv")
    path, meta = _import(tmp_path, llm_tool_session("speeches.csv"))  # its source_file, found in this home
    dataset, model = meta["dataset_config"], meta["model_config"]
    assert dataset["primary_file"] == str(csv_path)
    assert (dataset["annotation_column"], dataset["tasks"], dataset["text_column"]) == ("annotation", KEYS,
                                                                                        "sentence")
    assert dataset.get("format", "auto") == "auto" and dataset["strategy"] == "single-label"
    assert dataset.get("label_column") in (None, "label")  # the derived file's "labels" is not carried over
    assert (model["language_strategy"], model["selected_model"]) == ("per_language", "bert-base-uncased")
    notes = " ".join(meta["_stderr"].split())
    assert "one-vs-all keys train one model per key" in notes and "multiclass_keys" not in notes

    raw, _ = relaunch_config(SessionStore(), path, dataset=csv_path,
                             sets=[f"model_config.selected_model={tiny_model}"])
    infos, plans = make_task_plans(parse_config(raw), isolated_home)
    assert [i.name for i in infos] == KEYS
    assert plans[0].rows["test"] == 6 and all(p.rows["train"] > 0 for p in plans)

    result = run_main("sessions", "relaunch", meta["training_session"]["session_id"],  # type: ignore[index]
                      "--dataset", str(csv_path), "--set", "dataset_config.task=sentiment",
                      "--set", f"model_config.selected_model={tiny_model}", "--set", "model_config.epochs=1",
                      "--set", "model_config.language_strategy=multilingual")
    assert result.returncode == 0, result.stderr
    child = read_json(session_files(isolated_home)[-1])
    assert child["execution_status"]["status"] == "completed"
    assert child["dataset_config"]["task"] == "sentiment" and child["dataset_config"]["format_detected"] == "csv"
    assert child["dataset_config"]["rows_used"] == sum(1 for i in range(60) if i % 3 and i % 7)


def test_a_relaunch_on_another_file_reads_it_in_its_own_format(tmp_path, isolated_home):
    old = isolated_home / "reviews.jsonl"
    old.write_text("".join(json.dumps({"text": f"text {i}", "label": "ab"[i % 2]}) + "\n" for i in range(20)))
    data = {"metadata_version": "2.0", "training_session": {"session_id": "training_session_1"},
            "dataset_config": {"primary_file": "reviews.jsonl", "format_type": "jsonl", "text_column": "text",
                               "label_column": "label", "strategy": "single-label"},
            "model_config": {"selected_model": "bert-base-uncased"}}
    path, meta = _import(tmp_path, data)
    assert meta["dataset_config"]["format"] == "jsonl"
    new = isolated_home / "reviews.csv"
    new.write_text("text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(20)))
    raw, _ = relaunch_config(SessionStore(), path, dataset=new)
    assert raw["dataset_config"]["format"] == "auto"
    same, _ = relaunch_config(SessionStore(), path, dataset=old)
    assert same["dataset_config"]["format"] == "jsonl"
