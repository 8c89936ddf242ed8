"""Results without training: statistics, thresholds, and hostile names in the model card and the report."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from sklearn.metrics import f1_score

from llm_tool.results.model_card import model_card
from llm_tool.results.report import write_report
from llm_tool.results.stats import macro_f1, mcnemar_test, mean_sd, paired_bootstrap_diff, tied_with_best
from llm_tool.results.thresholds import tune_thresholds

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _models(n: int = 400, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    wrong = (y + 1) % 3

    def model(accuracy: float) -> np.ndarray:
        return np.where(rng.random(n) < accuracy, y, wrong)
    return y, model(0.9), model(0.9), model(0.5)


def test_bootstrap_ties_a_model_with_itself_and_separates_clearly_different_models():
    y, good, similar, poor = _models()
    assert tied_with_best(paired_bootstrap_diff(y, good, good))
    diff, low, high = paired_bootstrap_diff(y, good, similar, seed=1)
    assert low < diff < high and tied_with_best((low, high))  # two models of the same quality: a tie
    diff, low, high = paired_bootstrap_diff(y, good, poor, seed=1)
    assert 0 < low < diff < high and not tied_with_best((diff, low, high))
    assert paired_bootstrap_diff(y, good, poor, seed=1) == paired_bootstrap_diff(y, good, poor, seed=1)
    _, low_bca, high_bca = paired_bootstrap_diff(y, good, poor, seed=1, method="BCa")
    assert 0 < low_bca < high_bca


def test_mcnemar_and_mean_sd():
    y, good, similar, poor = _models()
    assert mcnemar_test(y, good, good) == 1.0
    assert mcnemar_test(y, good, similar) > 0.05
    assert mcnemar_test(y, good, poor) < 1e-6
    assert mean_sd([0.8, 0.82, 0.84]) == pytest.approx((0.82, 0.02))
    assert mean_sd([0.7]) == (0.7, 0.0)


def test_fast_macro_f1_equals_sklearn():
    y, _good, _, poor = _models()
    assert macro_f1(y, poor) == pytest.approx(f1_score(y, poor, average="macro"))
    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 2, (60, 4)), rng.integers(0, 2, (60, 4))
    truth[:, 0] = predicted[:, 0] = 0  # a label nobody has: 0 in the mean, like sklearn with zero_division=0
    assert macro_f1(truth, predicted) == pytest.approx(f1_score(truth, predicted, average="macro", zero_division=0))


def test_tuned_thresholds_never_lose_to_half_on_validation():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, (200, 3))
    scores = np.clip(truth * rng.uniform(0.2, 0.6, (200, 3)) + rng.uniform(0, 0.5, (200, 3)), 0, 1)
    scores[:, 2] = rng.random(200)  # a label the model knows nothing about
    tuned = tune_thresholds(scores, truth, ["a", "b", "c"])
    for j, name in enumerate("abc"):
        at_half = f1_score(truth[:, j], scores[:, j] >= 0.5)
        at_tuned = f1_score(truth[:, j], scores[:, j] >= tuned[name])
        assert at_tuned >= at_half
    assert tuned["a"] != 0.5  # these scores are shifted: 0.5 is not the best cut
    assert tune_thresholds(scores[:, :1], np.zeros((200, 1), dtype=int), ["none"]) == {"none": 0.5}


HOSTILE = ["ok\x1b[31m|red", "<script>alert(1)</script>", "$x^2$ **bold** [link](http://e)", "new\nline # h"]


def _metrics() -> dict:
    per_class = {name: {"precision": 0.5, "recall": 0.5, "f1": 0.5 if i else 0.0, "support": 3}
                 for i, name in enumerate(HOSTILE)}
    report = {"accuracy": 0.5, "macro_f1": 0.375, "micro_f1": 0.5, "weighted_f1": 0.4, "num_samples": 12,
              "per_class": per_class, "confusion_matrix": {"labels": HOSTILE, "matrix": [[3, 0, 0, 0]] * 4}}
    return {"session_id": "train_20260101_000000", "model": "bert-base-uncased", "labels": HOSTILE,
            "multi_label": False, "test": report, "validation": report,
            "log_history": [{"loss": 0.7, "step": 1, "epoch": 0.5}, {"eval_loss": 0.6, "eval_macro_f1": 0.4,
                                                                      "step": 2, "epoch": 1.0}]}


def _session() -> dict:
    return {"training_session": {"session_name": "name\x07<img src=x>", "tool_version": "1.0"},
            "dataset_config": {"primary_file": "/data/we\u202eird|file<>.csv", "fingerprint_sha256": "ab" * 32,
                               "split_sizes": {"train": 10}, "category_distribution": {HOSTILE[0]: 3}},
            "language_config": {"confirmed_languages": ["EN", "x: y"]}, "model_config": {"epochs": 2}}


def test_hostile_names_stay_inert_in_the_model_card():
    card = model_card(_metrics(), _session())
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["base_model"] == "bert-base-uncased" and meta["language"] == ["en"]
    assert "\x1b" not in card and "\x07" not in card and "\u202e" not in card
    assert "<script>" not in card and "<img" not in card and "&lt;script&gt;" in card
    rows = [line for line in body.split("### Per class (test)")[1].split("###")[0].splitlines() if line.startswith("|")]
    assert len(rows) == 2 + len(HOSTILE)  # header, rule, one row per label: no '|' or newline split a row
    assert all(line.count(" | ") == 4 for line in rows[2:])
    assert "| ok \\[31m\\|red | 0.5000 | 0.5000 | 0.0000 | 3 |" in body


def test_hostile_names_stay_inert_in_the_report_and_a_zero_f1_is_drawn(tmp_path):
    report = write_report(tmp_path, _metrics(), _session(), title="t<b>")
    page = report.html.read_text()
    assert "<script>" not in page and "<img src=x>" not in page and "&lt;script&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in report.images)
    plotted = report.plotted["per_class_f1_test"]
    assert list(plotted.values()) == [0.0, 0.5, 0.5, 0.5]  # the class at 0 is there, as 0
    assert report.plotted["training_curves"] == {"train_loss": ([1.0], [0.7]), "validation_loss": ([2.0], [0.6]),
                                                 "validation_macro_f1": ([1.0], [0.4])}


def test_an_evaluation_that_ended_an_epoch_early_is_drawn_at_the_epoch_the_log_gives_it(tmp_path):
    """A time budget stopped the first epoch at 0.527: the run's log calls that evaluation 'epoch 1', and so does
    the report's curve (not 0.527), its label saying it covers 53% of the epoch."""
    from llm_tool.results.history import epoch_history
    from llm_tool.results.plots import curve_series, plot_curves

    log = [{"loss": 0.9, "step": 5, "epoch": 0.26}, {"loss": 0.7, "step": 10, "epoch": 0.527},
           {"eval_loss": 0.6, "eval_macro_f1": 0.61, "step": 10, "epoch": 0.527}]
    epochs, f1s = curve_series({"log_history": log})["validation_macro_f1"]
    assert (epochs, f1s) == ([1.0], [0.61])
    assert [row["epoch"] for row in epoch_history(log)] == [1]
    resumed = [*log, {"eval_loss": 0.5, "eval_macro_f1": 0.7, "step": 19, "epoch": 1.0},
               {"eval_loss": 0.4, "eval_macro_f1": 0.8, "step": 38, "epoch": 1.9999999}]
    assert curve_series({"log_history": resumed})["validation_macro_f1"][0] == [1.0, 1.0, 2.0]
    assert plot_curves({"log_history": log}, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_evaluations_made_before_a_resume_are_marked_as_an_earlier_attempt(tmp_path):
    from llm_tool.results.history import epoch_history, mark_earlier_attempts
    from llm_tool.results.plots import plot_curves

    log = [{"eval_macro_f1": 0.5, "step": 10, "epoch": 1.0}]
    mark_earlier_attempts(log)  # the first resume
    log.append({"eval_macro_f1": 0.6, "step": 20, "epoch": 2.0})
    mark_earlier_attempts(log)  # the second resume
    log.append({"eval_macro_f1": 0.7, "step": 30, "epoch": 3.0})
    assert [e.get("earlier_attempt") for e in log] == [1, 2, None]
    assert [row.get("earlier_attempt") for row in epoch_history(log)] == [1, 2, None]
    assert plot_curves({"log_history": log}, tmp_path / "curves.png")
