"""Results of a real tiny training: saved predictions, per-language metrics, model card, report, evaluate, infer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from llm_tool.cli import main
from llm_tool.results.predictions import load_predictions
from tests.helpers import build_tiny_model, read_json, session_files, write_config, write_csv
from tests.results_data import rows, write_jsonl

# one xdist worker runs this file's tests (a module-scoped training)
pytestmark = pytest.mark.xdist_group("results")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One multilingual single-label training (separate test file: 20 texts per language), shared by the tests;
    the tiny model's vocabulary comes from these texts, so that it learns something in a few steps."""
    import os

    folder = tmp_path_factory.mktemp("results")
    home = folder / "home"
    home.mkdir()
    train = write_jsonl(folder / "train.jsonl", rows(30))
    test = write_jsonl(folder / "test.jsonl", rows(20, offset=3))
    model = build_tiny_model(folder / "tiny", write_csv(folder / "corpus.csv", rows(10)))
    cfg = write_config(folder / "config.json", train, model, epochs=3, batch_size=8, learning_rate=5e-3,
                       dataset_config={"test_file": str(test), "validation_split": 0.2})
    old = os.environ.get("LLM_TOOL_HOME")
    os.environ["LLM_TOOL_HOME"] = str(home)
    try:
        assert main(["train", str(cfg), "--session-name", "mixed <b>[red]x[/red]"]) == 0
    finally:
        if old is None:
            os.environ.pop("LLM_TOOL_HOME", None)
        else:
            os.environ["LLM_TOOL_HOME"] = old
    meta = read_json(session_files(home)[-1])
    return {"home": home, "meta": meta, "model_dir": Path(meta["output_paths"]["model_dir"]), "test": test,
            "folder": folder}


@pytest.fixture
def home_of(trained, monkeypatch):
    monkeypatch.setenv("LLM_TOOL_HOME", str(trained["home"]))
    monkeypatch.chdir(trained["home"])
    return trained


def test_saved_predictions_and_per_language_metrics_match_sklearn(home_of):
    model_dir = home_of["model_dir"]
    metrics = json.loads((model_dir / "metrics.json").read_text())
    saved = load_predictions(model_dir)
    assert saved is not None and saved.label_names == ["politics", "sport"] and not saved.multi_label
    test = saved.splits["test"]
    truth = [r["language"] for r in rows(20, offset=3)]
    assert test.languages == truth  # in the file's order, each text's detected language
    predicted = test.probabilities.argmax(axis=1)
    assert len(set(predicted)) == 2  # the model learned something: a misaligned row would change the numbers
    assert metrics["test"]["macro_f1"] == pytest.approx(f1_score(test.labels, predicted, average="macro"))
    per_language = metrics["test"]["per_language"]
    assert set(per_language) == {"EN", "FR", "DE"}
    for code, values in per_language.items():
        mask = np.asarray(test.languages) == code
        assert values["num_samples"] == 20
        assert values["macro_f1"] == pytest.approx(
            f1_score(test.labels[mask], predicted[mask], average="macro", zero_division=0))
        assert values["accuracy"] == pytest.approx(accuracy_score(test.labels[mask], predicted[mask]))
    gold = [{"politics": 0, "sport": 1}[r["label"]] for r in rows(20, offset=3)]
    assert test.labels.tolist() == gold


def test_model_card_front_matter_and_numbers_equal_metrics(home_of):
    model_dir = home_of["model_dir"]
    metrics = json.loads((model_dir / "metrics.json").read_text())
    card = (model_dir / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "text-classification"
    assert set(meta["language"]) == {"en", "fr", "de"} and "f1" in meta["metrics"]
    assert "base_model" not in meta  # a local folder is not a hub id
    for split in ("validation", "test"):
        section = body.split(f"### Per class ({split})")[1].split("###")[0]
        for name, values in metrics[split]["per_class"].items():
            row = next(line for line in section.splitlines() if line.startswith(f"| {name} |"))
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert cells[1:] == [f"{values['precision']:.4f}", f"{values['recall']:.4f}", f"{values['f1']:.4f}",
                                 str(values["support"])]
    assert f"{metrics['test']['per_language']['FR']['macro_f1']:.4f}" in body
    assert "mixed &lt;b&gt;\\[red\\]x\\[/red\\]" in body  # the session name, escaped
    assert home_of["meta"]["dataset_config"]["fingerprint_sha256"] in body


def test_report_plots_the_logged_numbers(home_of, capsys):
    from llm_tool.results.report import build_model_report
    from llm_tool.sessions import SessionStore
    from llm_tool.training.evaluate import resolve_model

    out = home_of["folder"] / "report_cli"
    assert main(["report", "1", "-o", str(out)]) == 0
    assert "report written" in capsys.readouterr().out
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5 and "<b>" not in html
    for name in ("training_curves", "confusion_test", "per_class_f1_test", "per_language_test"):
        assert (out / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE), name

    store = SessionStore()
    report = build_model_report(store, resolve_model(store, "mixed <b>[red]x[/red]"), home_of["folder"] / "r2")
    metrics = json.loads((home_of["model_dir"] / "metrics.json").read_text())
    log = metrics["log_history"]
    steps, losses = report.plotted["training_curves"]["train_loss"]
    assert losses == [e["loss"] for e in log if "loss" in e] and steps == [e["step"] for e in log if "loss" in e]
    epochs, f1s = report.plotted["training_curves"]["validation_macro_f1"]
    assert f1s == [e["eval_macro_f1"] for e in log if "eval_macro_f1" in e] and epochs == [1.0, 2.0, 3.0]
    assert report.plotted["confusion_test"]["matrix"] == metrics["test"]["confusion_matrix"]["matrix"]
    assert report.plotted["per_class_f1_test"] == {k: v["f1"] for k, v in metrics["test"]["per_class"].items()}


def test_evaluate_equals_sklearn_and_is_recorded(home_of, capsys):
    data = home_of["test"]
    assert main(["evaluate", home_of["meta"]["training_session"]["session_id"], "--data", str(data), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    result = json.loads(Path(summary["result_file"]).read_text())
    truth = [p["true"][0] for p in result["predictions"]]
    predicted = [p["predicted"][0] for p in result["predictions"]]
    assert truth == [r["label"] for r in rows(20, offset=3)]
    report = result["evaluation"]
    assert report["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro", zero_division=0))
    assert report["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    _p, _r, f, _s = precision_recall_fscore_support(truth, predicted, labels=["politics", "sport"], zero_division=0)
    assert [report["per_class"][n]["f1"] for n in ("politics", "sport")] == pytest.approx(list(f))
    # the same model on the same rows as training's test split: the same numbers
    metrics = json.loads((home_of["model_dir"] / "metrics.json").read_text())
    assert report["macro_f1"] == pytest.approx(metrics["test"]["macro_f1"], abs=1e-6)
    assert set(report["per_language"]) == {"EN", "FR", "DE"}
    # 20 rows on a CPU: the ONNX copy, or fp32 torch while the copy is being made
    assert result["inference"] in ({"backend": "onnx", "bf16": False}, {"backend": "torch", "bf16": False})
    recorded = read_json(session_files(home_of["home"])[-1])["evaluations"]
    assert recorded[-1]["data_file"] == "test.jsonl" and recorded[-1]["macro_f1"] == report["macro_f1"]


def test_evaluate_tables_report_and_unknown_labels(home_of, capsys):
    assert main(["evaluate", "1", "--data", str(home_of["test"]), "--report"]) == 0
    out = capsys.readouterr().out
    assert "Evaluation on test.jsonl" in out and "Per language" in out and "report:" in out
    reports = list((home_of["model_dir"] / "evaluations").glob("*/report.html"))
    assert reports and (reports[0].parent / "confusion_evaluation.png").read_bytes().startswith(PNG_SIGNATURE)

    bad = write_jsonl(home_of["folder"] / "bad.jsonl", [*rows(2), {"text": "x", "label": "weather\x1b[31m"},
                                                          {"text": "y", "label": "culture"}])
    assert main(["evaluate", "1", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "labels the model does not know" in err and "culture" in err and "weather" in err
    assert "\x1b" not in err


def test_infer_takes_a_session_reference(home_of, capsys):
    assert main(["infer", "mixed <b>[red]x[/red]", "--text", "Die Regierung hat ein Gesetz beschlossen",
                 "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)
    assert predictions[0]["labels"][0] in ("politics", "sport")
    assert main(["infer", "--text", "hi"]) == 2
    assert "give the model" in capsys.readouterr().err


def test_multi_label_thresholds_are_tuned_stored_applied_and_reported(tmp_path, isolated_home, capsys):
    from sklearn.metrics import average_precision_score

    from llm_tool.results.report import build_model_report
    from llm_tool.sessions import SessionStore
    from llm_tool.training.evaluate import resolve_model
    from llm_tool.training.inference import Predictor

    topics = [["sport"], ["politics"], ["sport", "economy"], ["economy"], ["politics", "economy"]]
    words = {"sport": "match goal team", "politics": "vote law senate", "economy": "market price bank"}
    records = [{"text": " ".join(words[t] for t in topics[i % 5]) + f" item {i % 7}", "labels": topics[i % 5]}
               for i in range(100)]
    data = write_jsonl(tmp_path / "multi.jsonl", records)
    model = build_tiny_model(tmp_path / "tiny", write_csv(tmp_path / "corpus.csv", [{"text": r["text"]}
                                                                                    for r in records]))
    cfg = write_config(tmp_path / "config.json", data, model, epochs=2, learning_rate=5e-3,
                       dataset_config={"strategy": "multi-label", "label_column": "labels", "test_split": 0.2})
    assert main(["train", str(cfg)]) == 0
    capsys.readouterr()
    model_dir = Path(read_json(session_files(isolated_home)[-1])["output_paths"]["model_dir"])
    metrics = json.loads((model_dir / "metrics.json").read_text())
    mapping = json.loads((model_dir / "label_mapping.json").read_text())
    names = metrics["labels"]
    assert set(mapping["thresholds"]) == set(names) and metrics["thresholds"]["values"] == mapping["thresholds"]
    cut = np.asarray([mapping["thresholds"][n] for n in names])

    saved = load_predictions(model_dir)
    validation = saved.splits["validation"]
    for j in range(len(names)):  # per label, on validation: tuned F1 >= F1 at 0.5
        truth, scores = validation.labels[:, j], validation.probabilities[:, j]
        assert f1_score(truth, scores >= cut[j], zero_division=0) >= f1_score(truth, scores >= 0.5, zero_division=0)
    assert metrics["validation_tuned"]["macro_f1"] >= metrics["validation"]["macro_f1"]
    assert metrics["validation_tuned"]["macro_f1"] == pytest.approx(
        f1_score(validation.labels, validation.probabilities >= cut, average="macro", zero_division=0))
    test = saved.splits["test"]
    assert metrics["test_tuned"]["macro_f1"] == pytest.approx(
        f1_score(test.labels, test.probabilities >= cut, average="macro", zero_division=0))

    texts = [r["text"] for r in records[:10]]
    predictor = Predictor(model_dir)
    probs = predictor.logits(texts)
    expected = [[n for j, n in enumerate(names) if row[j] >= cut[j]]
                for row in 1 / (1 + np.exp(-probs.astype(np.float64)))]
    assert [p.labels for p in predictor.predict(texts)] == expected

    store = SessionStore()
    report = build_model_report(store, resolve_model(store, "1"), tmp_path / "report")
    curves = report.plotted["pr_curves_test"]
    for j, name in enumerate(names):
        if test.labels[:, j].sum():
            assert curves[name]["ap"] == pytest.approx(average_precision_score(test.labels[:, j],
                                                                               test.probabilities[:, j]))
    assert set(report.plotted["confusion_test"]) == set(names)
    assert main(["evaluate", "1", "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["thresholds"]["values"] == mapping["thresholds"] and "evaluation_tuned" in result


def test_the_studio_evaluates_a_model_on_a_labelled_file(home_of, capsys, monkeypatch):
    from tests.wizard_helpers import Keys, pick, replace, run_studio

    monkeypatch.delenv("LLM_TOOL_NON_INTERACTIVE")
    # main menu: 4 Test a trained model → session 1 → 2 Evaluate → data file, text and label columns as trained
    ctx = run_studio(pick(4), pick(1), pick(2), replace(str(home_of["test"])), Keys.ENTER, Keys.ENTER, pick(6))
    assert ctx.prompter.asked == ["main_menu", "session", "model_action", "data_path", "text_column", "label_column",
                                  "main_menu"]
    out = capsys.readouterr().out
    assert "Evaluation on test.jsonl" in out and "evaluation saved" in out
    assert read_json(session_files(home_of["home"])[-1])["evaluations"][-1]["data_file"] == "test.jsonl"


def test_the_studio_lists_the_files_columns_for_evaluate(home_of, capsys, monkeypatch):
    from tests.wizard_helpers import Keys, pick, replace, run_studio

    monkeypatch.delenv("LLM_TOOL_NON_INTERACTIVE")
    records = [{"id": r["i"], "review": r["text"], "sentiment": r["label"], "lang": r["language"]}
               for r in rows(20, offset=3)]
    renamed = write_jsonl(home_of["folder"] / "renamed.jsonl", records)
    # no 'text' or 'label' column here: the menus list id, review, sentiment, lang with review and sentiment
    # preselected (Enter keeps them); a typed column name is no longer needed
    ctx = run_studio(pick(4), pick(1), pick(2), replace(str(renamed)), Keys.ENTER, Keys.ENTER, pick(6))
    assert ctx.prompter.asked == ["main_menu", "session", "model_action", "data_path", "text_column", "label_column",
                                  "main_menu"]
    assert "Evaluation on renamed.jsonl" in capsys.readouterr().out
    assert read_json(session_files(home_of["home"])[-1])["evaluations"][-1]["data_file"] == "renamed.jsonl"
