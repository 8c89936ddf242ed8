"""The honest leaderboard from synthetic metrics.json + predictions.npz: seeds grouped (mean ± sd), paired
bootstrap intervals to the best, ties, McNemar, the parent benchmark session, and the 80-column table."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from llm_tool.cli import main
from llm_tool.results.predictions import SplitPredictions, save_predictions
from llm_tool.results.stats import macro_f1
from llm_tool.sessions import SessionStore
from llm_tool.sweeps import benchmark
from llm_tool.sweeps.ranking import format_plain, ranking
from llm_tool.sweeps.state import ParentSession
from llm_tool.sweeps_ui.tables import leaderboard_table
from tests.helpers import read_json
from tests.sweep_helpers import fake_finished_session, fake_state

LABELS = ["negative", "neutral", "positive"]
N = 240
GOLD = np.random.default_rng(7).integers(0, 3, N)
LONG_A = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
LONG_B = "sentence-transformers/all-MiniLM-L6-v2"


def predictions(accuracy: float, seed: int, gold: np.ndarray = GOLD) -> np.ndarray:
    """Probabilities whose argmax is right on about ``accuracy`` of the rows."""
    rng = np.random.default_rng(seed)
    predicted = np.where(rng.random(len(gold)) < accuracy, gold, rng.integers(0, 3, len(gold)))
    probabilities = np.full((len(gold), 3), 0.1)
    probabilities[np.arange(len(gold)), predicted] = 0.8
    return probabilities


def scored_job(store: SessionStore, data: Path, model: str, probabilities: np.ndarray,
               gold: np.ndarray = GOLD) -> tuple[Path, str]:
    """A finished session whose metrics.json holds the macro-F1 of ``probabilities`` and whose predictions.npz
    holds them (test rows 0..N-1)."""
    predicted = probabilities.argmax(axis=1)
    score = macro_f1(gold, predicted)
    per_class = {name: float(np.mean(predicted[gold == i] == i)) for i, name in enumerate(LABELS)}
    path, sid = fake_finished_session(store, data, model=model, macro_f1=score, per_class=per_class)
    split = SplitPredictions(probabilities=probabilities, labels=gold, rows=np.arange(len(gold)))
    save_predictions(store.home / "models" / sid, LABELS, False, {"test": split})
    return path, sid


@pytest.fixture
def data(isolated_home: Path) -> Path:
    path = isolated_home / "data.csv"
    path.write_text("text,label\ngood,positive\nbad,negative\n", encoding="utf-8")
    return path


def seeded(store: SessionStore, data: Path, plan: list[tuple[str, str, float, int]]) -> tuple[list, list]:
    """Jobs (title, model, accuracy, seed) with `model_config.seed` overrides: grouped by model."""
    sessions, overrides = [], []
    for title, model, accuracy, seed in plan:
        path, sid = scored_job(store, data, model, predictions(accuracy, seed * 31 + len(model)))
        sessions.append((path, sid, title))
        overrides.append({"model_config.selected_model": model, "model_config.seed": seed})
    return sessions, overrides


def test_a_model_against_itself_is_tied(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    probabilities = predictions(0.8, 1)
    sessions = [(*scored_job(store, data, "org/a", probabilities), "a"),
                (*scored_job(store, data, "org/same", probabilities.copy()), "same")]
    configs = ranking(fake_state(isolated_home, "self", sessions), store)
    best, same = configs
    assert best.best and best.rank == 1 and best.diff == 0.0
    assert same.tied and same.rank == 1 and same.ci_low is not None and same.ci_high is not None
    assert same.ci_low <= 0.0 <= same.ci_high and same.diff == 0.0 and same.p_value == 1.0


def test_clearly_different_models_do_not_tie(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    sessions = [(*scored_job(store, data, "org/weak", predictions(0.35, 2)), "weak"),
                (*scored_job(store, data, "org/strong", predictions(0.9, 3)), "strong"),
                (*scored_job(store, data, "org/close", predictions(0.89, 3)), "close")]
    configs = ranking(fake_state(isolated_home, "diff", sessions), store)
    assert [(c.title, c.rank, c.tied) for c in configs] == [("strong", 1, None), ("close", 1, True),
                                                             ("weak", 3, False)]
    weak = configs[2]
    assert weak.ci_high is not None and weak.ci_high < 0 and weak.p_value is not None and weak.p_value < 1e-6
    assert weak.diff == pytest.approx(weak.mean - configs[0].mean)  # Δ is the difference of the reported means
    assert "2 tied" not in format_plain(configs) and "1 tied" in format_plain(configs)


def test_seeds_grouped_mean_sd_equal_numpy(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    sessions, overrides = seeded(store, data, [("m_seed42", "org/m", 0.7, 42), ("m_seed43", "org/m", 0.8, 43),
                                               ("m_seed44", "org/m", 0.75, 44), ("w_seed42", "org/w", 0.4, 42),
                                               ("w_seed43", "org/w", 0.45, 43)])
    configs = ranking(fake_state(isolated_home, "seeds", sessions, overrides=overrides), store)
    assert [(c.title, c.model, len(c.scores), c.seeds) for c in configs] == [("m", "org/m", 3, [42, 43, 44]),
                                                                             ("w", "org/w", 2, [42, 43])]
    for config, members in zip(configs, (sessions[:3], sessions[3:]), strict=True):
        scores = [read_json(store.home / "models" / sid / "metrics.json")["test"]["macro_f1"] for _, sid, _ in members]
        assert config.scores == scores
        assert config.mean == pytest.approx(np.mean(scores)) and config.sd == pytest.approx(np.std(scores, ddof=1))
    best, weak = configs
    assert best.best_session_id == sessions[1][1]  # its best seed
    assert weak.tied is False and weak.ci_high is not None and weak.ci_high < 0


def test_rows_that_do_not_align_give_no_interval(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    other_gold = np.roll(GOLD, 1)
    sessions = [(*scored_job(store, data, "org/a", predictions(0.9, 4)), "a"),
                (*scored_job(store, data, "org/b", predictions(0.5, 5, other_gold), other_gold), "b")]
    configs = ranking(fake_state(isolated_home, "misaligned", sessions), store)
    assert [(c.title, c.rank) for c in configs] == [("a", 1), ("b", 2)]
    assert configs[1].ci_low is None and configs[1].tied is None and "not paired" in (configs[1].note or "")


def test_parent_benchmark_session_records_the_leaderboard(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    sessions, overrides = seeded(store, data, [("a42", LONG_A, 0.85, 42), ("a43", LONG_A, 0.9, 43),
                                               ("b42", LONG_B, 0.4, 42), ("b43", LONG_B, 0.45, 43)])
    state = fake_state(isolated_home, "bench", sessions, kind="benchmark", overrides=overrides)
    path, sid = benchmark.create_parent(store, {"dataset_config": {"primary_file": str(data)}, "model_config": {}},
                                        base_dir=isolated_home, name="bench", models=[LONG_A, LONG_B])
    state.parent_session = ParentSession(session_id=sid, session_file=str(path))
    top = benchmark.finalize(state, store)
    status = read_json(path)["execution_status"]
    board = status["leaderboard"]
    assert top is not None and (status["best_model"], status["best_f1"]) == (LONG_A, top.mean)
    assert status["status"] == "completed" and status["best_session"] == top.best_session_id
    assert [(e["model"], e["rank"], e["n_seeds"], e["tied"]) for e in board] == [(LONG_A, 1, 2, None),
                                                                                 (LONG_B, 2, 2, False)]
    scores = board[1]["seed_scores"]
    assert board[1]["macro_f1"] == pytest.approx(np.mean(scores))
    assert board[1]["macro_f1_sd"] == pytest.approx(np.std(scores, ddof=1))
    assert board[1]["ci_low"] < board[1]["diff_to_best"] < board[1]["ci_high"] < 0 and board[1]["mcnemar_p"] < 0.01


def render(configs: list, width: int) -> str:
    out = StringIO()
    Console(width=width, file=out, color_system=None).print(leaderboard_table(configs, title="Leaderboard of b",
                                                                              width=width))
    return out.getvalue()


def test_table_fits_80_columns_with_readable_names(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    sessions, overrides = seeded(store, data, [
        ("paraphrase-multilingual-MiniLM-L12-v2_seed42", LONG_A, 0.85, 42),
        ("paraphrase-multilingual-MiniLM-L12-v2_seed43", LONG_A, 0.9, 43),
        ("all-MiniLM-L6-v2_seed42", LONG_B, 0.86, 42), ("all-MiniLM-L6-v2_seed43", LONG_B, 0.87, 43),
        ("weak-model", "org/weak-model", 0.3, 42)])
    configs = ranking(fake_state(isolated_home, "b", sessions, kind="benchmark", overrides=overrides), store)
    narrow = render(configs, 80)
    (isolated_home.parent / "leaderboard_80.txt").write_text(narrow, encoding="utf-8")
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) <= 80, narrow
    rows = [line for line in lines if "MiniLM" in line or "weak-model" in line]
    assert len(rows) == 3, narrow  # one line per configuration, no wrapped cells
    assert "-MiniLM-L12-v2" in rows[0] and "…" in rows[0] and "all-MiniLM-L6-v2" in narrow
    assert "org/weak-model" in rows[2] and "1 tied" in narrow and "±" in rows[0] and "[" in rows[2]
    assert "F1 neutral" not in narrow  # per-class columns go before the names do
    wide = render(configs, 200)
    assert LONG_A in wide and configs[0].best_session_id in wide and "McNemar p" in wide, wide
    assert max(len(line) for line in wide.splitlines()) <= 200
    assert "F1 neutral" in render(configs, 260)  # per-class columns when there is room


def test_status_json_and_report_carry_the_statistics(isolated_home: Path, data: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    store = SessionStore(isolated_home)
    sessions, overrides = seeded(store, data, [("s_seed1", "org/s", 0.9, 1), ("s_seed2", "org/s", 0.85, 2),
                                               ("w_seed1", "org/w", 0.3, 1), ("w_seed2", "org/w", 0.35, 2)])
    fake_state(isolated_home, "rep", sessions, overrides=overrides)
    assert main(["sweep", "status", "rep", "--json"]) == 0
    data_ = json.loads(capsys.readouterr().out)
    board = data_["leaderboard"]
    assert [(e["title"], e["rank"], e["n_seeds"]) for e in board] == [("s", 1, 2), ("w", 2, 2)]
    assert board[1]["ci_high"] < 0 and board[1]["tied"] is False and len(data_["runs"]) == 4
    assert main(["sweep", "report", "rep", "-o", str(isolated_home / "out")]) == 0
    text = (isolated_home / "out" / "rep.md").read_text(encoding="utf-8")
    assert "| rank | configuration | model | seeds |" in text and "paired bootstrap" in text
    line = next(x for x in text.splitlines() if x.startswith("| 2 | w |"))
    assert "±" in line and "[" in line
    assert (isolated_home / "out" / "rep_scores.png").read_bytes()[:4] == b"\x89PNG"



def test_sweep_of_one_model_shows_whole_configuration_names_at_80(isolated_home: Path, data: Path) -> None:
    store = SessionStore(isolated_home)
    plan = [(f"lr{lr}_bs{bs}", lr, bs, acc) for lr, bs, acc in (("2e-5", 16, 0.86), ("2e-5", 32, 0.85),
                                                                ("5e-5", 16, 0.8), ("5e-5", 32, 0.5))]
    sessions, overrides = [], []
    for number, (title, lr, bs, acc) in enumerate(plan):
        for seed in (42, 43):
            path, sid = scored_job(store, data, LONG_A, predictions(acc, number * 100 + seed))
            sessions.append((path, sid, f"{title}_seed{seed}"))
            overrides.append({"model_config.learning_rate": float(lr), "model_config.batch_size": bs,
                              "model_config.seed": seed})
    configs = ranking(fake_state(isolated_home, "grid", sessions, overrides=overrides), store)
    narrow = render(configs, 80)
    (isolated_home.parent / "sweep_80.txt").write_text(narrow, encoding="utf-8")
    assert max(len(line) for line in narrow.splitlines()) <= 80, narrow
    for title, *_ in plan:  # what tells the rows apart is whole; the common model goes below the table
        assert sum(title in line for line in narrow.splitlines()) == 1, narrow
    assert f"model: {LONG_A}" in narrow and "seeds" in narrow and configs[-1].title == "lr5e-5_bs32"


def test_jobs_on_another_label_column_are_ranked_apart(isolated_home: Path, data: Path) -> None:
    """A sweep over dataset_config.label_column: a topic model's F1 says nothing against a sentiment model's, so
    each task is ranked on its own (rank 1 in each) and every rendering says so."""
    from llm_tool.sweeps.report import write_report

    store = SessionStore(isolated_home)
    sessions = [(*scored_job(store, data, "org/a", predictions(0.9, 1)), "labsentiment_a"),
                (*scored_job(store, data, "org/b", predictions(0.5, 2)), "labsentiment_b"),
                (*scored_job(store, data, "org/a", predictions(0.7, 3)), "labtopic_a"),
                (*scored_job(store, data, "org/b", predictions(0.95, 4)), "labtopic_b")]
    for path, _, _ in sessions[2:]:
        store.update(path, lambda m: m.dataset_config.update({"label_column": "topic"}))
    state = fake_state(isolated_home, "tasks", sessions)
    configs = ranking(state, store)
    assert [(c.title, c.rank, c.group) for c in configs] == [
        ("labtopic_b", 1, "label=topic"), ("labtopic_a", 2, "label=topic"),
        ("labsentiment_a", 1, "label=label"), ("labsentiment_b", 2, "label=label")]
    assert configs[2].best and configs[2].diff == 0.0  # compared only with its own task's jobs
    plain = format_plain(configs)
    assert "1 (label=topic)" in plain and "1 (label=label)" in plain and "ranked within each group" in plain
    markdown = write_report(state, configs, isolated_home / "report")[0]
    assert "ranked within each group, never across" in markdown.read_text(encoding="utf-8")
