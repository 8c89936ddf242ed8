"""End-to-end training on the tiny model: single- and multi-label, metrics file, dry-run, infer."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import read_json, run_main, sample_rows, session_files, write_config, write_csv


def _train(tmp_path: Path, data: Path, model: Path, *args: str, **settings: object) -> tuple[dict, Path]:
    cfg = write_config(tmp_path / "config.json", data, model, **settings)
    result = run_main("train", str(cfg), *args)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = read_json(session_files(Path.cwd())[-1])
    return meta, Path(meta["output_paths"]["model_dir"])


def test_single_label_end_to_end(tmp_path, isolated_home, sample_csv, tiny_model):
    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 200))
    cfg = write_config(tmp_path / "config.json", data, tiny_model, epochs=2, class_weights="balanced")
    result = run_main("train", str(cfg), "--session-name", "first try")
    assert result.returncode == 0, result.stderr[-3000:]
    import gc

    assert gc.get_freeze_count() == 0  # the run froze the heap while it trained and handed it back (a notebook)
    assert "Results (best model)" in result.stdout and "Confusion matrix" in result.stdout
    meta = read_json(session_files(isolated_home)[-1])
    sid = meta["training_session"]["session_id"]
    assert sid.startswith("train_") and meta["training_session"]["session_name"] == "first try"
    status = meta["execution_status"]
    assert status["status"] == "completed" and status["exit_code"] == 0
    assert 0 <= status["best_f1"] <= 1 and status["test_f1"] is not None
    assert meta["dataset_config"]["total_samples"] == 200
    assert meta["dataset_config"]["category_distribution"] == {"negative": 100, "positive": 100}
    assert meta["model_config"]["class_weights"] == "balanced" and meta["model_config"]["max_length_used"] >= 8
    assert set(meta["text_analysis"]["text_length_stats"]) >= {"token_mean", "token_median", "token_p95", "token_max"}
    assert meta["language_config"]["confirmed_languages"] == ["EN"]
    assert meta["environment"]["torch"] and meta["environment"]["num_threads"] >= 1
    from llm_tool.training.environment import cpu_supports_bf16

    native = cpu_supports_bf16()  # precision "auto" on a CPU: bf16 autocast (eager attention) only where native
    assert meta["environment"]["precision"] == ("bf16" if native else "fp32")
    assert meta["environment"]["attention"] == ("eager" if native else "sdpa")

    model_dir = Path(meta["output_paths"]["model_dir"])
    assert model_dir == isolated_home / "models" / sid
    for name in ("model.safetensors", "config.json", "tokenizer_config.json", "label_mapping.json", "metrics.json"):
        assert (model_dir / name).exists(), name
    assert not (model_dir / "checkpoints").exists()  # removed after a completed run unless keep_checkpoints
    assert not list(model_dir.glob("*.bin"))
    metrics = json.loads((model_dir / "metrics.json").read_text())
    for split in ("validation", "test"):
        report = metrics[split]
        assert {"accuracy", "macro_f1", "micro_f1", "weighted_f1", "per_class", "confusion_matrix"} <= set(report)
        assert set(report["per_class"]) == {"negative", "positive"}
        assert {"precision", "recall", "f1", "support"} == set(report["per_class"]["positive"])
        assert sum(map(sum, report["confusion_matrix"]["matrix"])) == report["num_samples"] == 20
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert all("macro_f1" in h and "train_loss" in h for h in metrics["history"])
    assert json.loads((model_dir / "config.json").read_text())["id2label"] == {"0": "negative", "1": "positive"}
    log = (isolated_home / "logs" / "training_sessions" / f"{sid}.log").read_text()
    assert "validation macro-F1" in log


def test_multi_label_end_to_end(tmp_path, isolated_home, tiny_model):
    topics = [["sport"], ["politics"], ["sport", "economy"], ["economy"], ["politics", "economy"]]
    words = {"sport": "match goal team", "politics": "vote law senate", "economy": "market price bank"}
    rows = [{"text": " ".join(words[t] for t in topics[i % 5]) + f" item {i}", "labels": topics[i % 5]}
            for i in range(100)]
    data = tmp_path / "multi.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    meta, model_dir = _train(tmp_path, data, tiny_model, epochs=2,
                             dataset_config={"strategy": "multi-label", "label_column": "labels"})
    assert meta["execution_status"]["status"] == "completed"
    config = json.loads((model_dir / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["multi_label"] is True
    assert set(metrics["test"]["per_class"]) == {"economy", "politics", "sport"}
    assert set(metrics["test"]["confusion_matrix"]["sport"]) == {"tn", "fp", "fn", "tp"}

    predictions = run_main("infer", "--model-dir", str(model_dir), "--text", "match goal team", "--json")
    assert predictions.returncode == 0, predictions.stderr
    first = json.loads(predictions.stdout)[0]
    assert set(first["probabilities"]) == {"economy", "politics", "sport"}
    assert all(0 <= p <= 1 for p in first["probabilities"].values())


def test_dry_run_trains_nothing(tmp_path, isolated_home, sample_csv, tiny_model):
    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 100))
    cfg = write_config(tmp_path / "config.json", data, tiny_model, epochs=3, batch_size=8)
    result = run_main("train", str(cfg), "--dry-run")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "80 / 10 / 10" in text and "10 / 30" in text and "max_length" in text and "estimated memory" in text
    assert not session_files(isolated_home) and not (isolated_home / "models").exists()


def test_infer_batch_keeps_rows_and_order(tmp_path, trained):
    model_dir = trained.model_dir
    texts = [{"id": str(i), "text": t} for i, t in enumerate(["great phone", "awful food", "ok", "the worst"] * 5)]
    source = write_csv(tmp_path / "new.csv", texts)
    for out in (tmp_path / "pred.csv", tmp_path / "pred.jsonl"):
        result = run_main("infer", "--model-dir", str(model_dir), "--input", str(source), "--output", str(out))
        assert result.returncode == 0, result.stderr
        if out.suffix == ".csv":
            rows = list(csv.DictReader(out.open()))
            probs = [float(r["prob_negative"]) + float(r["prob_positive"]) for r in rows]
            assert all(abs(p - 1) < 1e-4 for p in probs)
        else:
            rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["id"] for r in rows] == [t["id"] for t in texts]
        assert all(r["predicted_label"] in ("negative", "positive") for r in rows)


def test_infer_rejects_folder_without_safetensors(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    result = run_main("infer", "--model-dir", str(folder), "--text", "hi")
    assert result.returncode == 2 and "only safetensors" in result.stderr


def test_help_does_not_import_torch():
    code = ("import sys; from llm_tool.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'sklearn') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "train" in result.stdout and "sessions" in result.stdout
