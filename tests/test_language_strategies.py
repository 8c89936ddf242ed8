"""`benchmark CONFIG --language-strategies multilingual,per_language`: both strategies trained on one split and
compared on the same test rows (overall, per language, paired bootstrap), and the bad inputs refused."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llm_tool.sessions import SessionStore
from llm_tool.sessions.task_parent import task_entries
from tests.conftest import SAMPLE_CSV
from tests.helpers import run_main, sample_rows, session_files, write_csv

pytestmark = pytest.mark.xdist_group("language_strategies")
CODES = (["en"] * 5 + ["fr"] * 5 + ["de"]) * 12  # 60 en, 60 fr, 12 de (too few for a German model)


def write_data(folder: Path, codes: list[str] | tuple[str, ...] = CODES) -> Path:
    rows = sample_rows(SAMPLE_CSV, len(codes))
    return write_csv(folder / "coded.csv", [
        {"text": r["text"], "lang": code, "annotation": json.dumps({"sentiment": r["label"]})}
        for r, code in zip(rows, codes, strict=True)])


def write_config(folder: Path, data: Path, model: Path, **dataset: Any) -> Path:
    config = folder / "config.json"
    config.write_text(json.dumps({
        "dataset_config": {"primary_file": data.name, "annotation_column": "annotation", "language_column": "lang",
                           "validation_split": 0.1, "test_split": 0.3, **dataset},
        "model_config": {"selected_model": str(model), "epochs": 1, "batch_size": 16, "learning_rate": 3e-3,
                         "early_stopping": False, "num_threads": 1}}), encoding="utf-8")
    return config


@dataclass(frozen=True)
class Compared:
    home: Path
    data: Path
    parent: str  # the benchmark's parent session
    arms: dict[str, str]  # strategy -> its tasks parent
    record: dict[str, Any]

    def env(self) -> dict[str, str]:
        return {"LLM_TOOL_HOME": str(self.home)}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Compared:
    """Both arms created as `benchmark --language-strategies` creates them, each run here with `sessions resume`
    (foreground, in process: its children one after another), then compared: 4 trainings of the tiny BERT."""
    from llm_tool.sweeps import strategies, strategy_record

    home = tmp_path_factory.mktemp("language_strategies") / "home"
    home.mkdir()
    data = write_data(home)
    raw = json.loads(write_config(home, data, tiny_model).read_text(encoding="utf-8"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLM_TOOL_HOME", str(home))
        patch.chdir(home)
        store = SessionStore(home)
        plan = strategies.plan_strategies(raw, ["multilingual", "per_language"], base_dir=home)
        made = strategies.create(store, plan, "cmp")
        for run in made.arms.values():
            result = run_main("sessions", "resume", run.session_id, env={"LLM_TOOL_HOME": str(home)}, cwd=home)
            assert result.returncode == 0, result.stderr[-3000:]
        record = strategy_record.record_comparison(store, made.path, final=True)
    assert record is not None
    return Compared(home, data, made.session_id, {s: r.session_id for s, r in made.arms.items()}, record)


def answers(c: Compared) -> list[dict[str, str]]:
    (path,) = c.record["answers"].values()
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_both_strategies_are_scored_on_the_same_test_rows(compared: Compared) -> None:
    """The comparison's rows are the multilingual model's test rows, and exactly the per_language models' test rows
    (the fallback's, which are every language's): same texts, same order."""
    from llm_tool.config import parse_config
    from llm_tool.data.task_split import prepare_task

    store = SessionStore(compared.home)

    def test_texts(session_id: str) -> list[str]:
        meta = store.read(store.path_for_id(session_id))
        config = parse_config({"dataset_config": meta.dataset_config, "model_config": meta.model_config})
        return prepare_task(config.dataset, compared.home, seed=config.model.seed).splits["test"].texts

    arms = {s: store.read(store.path_for_id(sid)) for s, sid in compared.arms.items()}
    multi = {e.language: e.session_id for e in task_entries(arms["multilingual"])}
    per = {e.language: e.session_id for e in task_entries(arms["per_language"])}
    assert set(multi) == {None} and set(per) == {None, "EN", "FR"}  # German: too few rows, left to the fallback
    rows = answers(compared)
    texts = [row["text"] for row in rows]
    assert texts == test_texts(multi[None]) == test_texts(per[None])
    assert len(set(r["row"] for r in rows)) == len(rows) == compared.record["tasks"][0]["test_rows"]
    for code in ("EN", "FR"):
        assert [r["text"] for r in rows if r["language"] == code] == test_texts(per[code])
    assert {r["routed"] for r in rows if r["language"] == "DE"} == {"fallback"}
    assert {r["routed"] for r in rows if r["language"] in ("EN", "FR")} == {"en", "fr"}


def test_overall_and_per_language_scores_equal_sklearn_on_the_saved_answers(compared: Compared) -> None:
    from sklearn.metrics import f1_score

    (task,) = compared.record["tasks"]
    rows = answers(compared)

    def f1(subset: list[dict[str, str]], arm: str) -> float:
        return float(f1_score([r["gold"] for r in subset], [r[arm] for r in subset], average="macro",
                              zero_division=0))

    for arm in ("multilingual", "per_language"):
        assert task["macro_f1"][arm] == pytest.approx(f1(rows, arm))
    languages = {lang["language"]: lang for lang in task["languages"]}
    assert set(languages) == {"EN", "FR", "DE"}
    for code, lang in languages.items():
        subset = [r for r in rows if r["language"] == code]
        assert lang["support"] == len(subset)
        assert lang["multilingual_macro_f1"] == pytest.approx(f1(subset, "multilingual"))
        assert lang["per_language_macro_f1"] == pytest.approx(f1(subset, "per_language"))
    assert languages["DE"]["support"] < 10 and languages["DE"]["conclusion"].startswith("too few test rows")
    assert languages["DE"]["answered_by"] == "fallback" and languages["EN"]["answered_by"] == "en"


def test_the_paired_bootstrap_difference_is_recorded_with_its_interval(compared: Compared) -> None:
    from llm_tool.results.stats import macro_f1, paired_bootstrap_diff
    from llm_tool.results.strategy_comparison import encode

    (task,) = compared.record["tasks"]
    rows = answers(compared)
    y, (per_language, multilingual) = encode([r["gold"] for r in rows], [r["per_language"] for r in rows],
                                             [r["multilingual"] for r in rows])
    diff, low, high = paired_bootstrap_diff(y, per_language, multilingual, macro_f1)
    recorded = task["difference"]
    assert recorded["diff"] == pytest.approx(task["macro_f1"]["per_language"] - task["macro_f1"]["multilingual"])
    assert (recorded["diff"], recorded["ci_low"], recorded["ci_high"]) == pytest.approx((diff, low, high))
    assert recorded["ci_low"] <= recorded["diff"] <= recorded["ci_high"]
    word = "per_language is better" if low > 0 else "multilingual is better" if high < 0 else "no clear difference"
    assert recorded["conclusion"].startswith(word)
    parent = SessionStore(compared.home).read(SessionStore(compared.home).resolve(compared.parent))
    assert parent.execution_status.status == "completed" and parent.extra["language_comparison"]["final"] is True
    shown = run_main("sessions", "show", compared.parent, env={**compared.env(), "COLUMNS": "220"})
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "Language strategies" in shown.stdout and "too few test rows to conclude" in shown.stdout
    assert f"{recorded['diff']:+.3f}" in shown.stdout
    reported = run_main("report", compared.parent, "-o", str(compared.home / "reports"), "--force",
                        env=compared.env())
    assert reported.returncode == 0, reported.stderr[-2000:]
    text = (compared.home / "reports" / "cmp.md").read_text(encoding="utf-8")
    assert f"| sentiment | all | {task['test_rows']} |" in text and "too few test rows to conclude" in text


def test_per_language_answers_are_what_infer_gives_routing_each_row(compared: Compared, tmp_path: Path) -> None:
    """`infer` on the per_language tasks run, on the test rows: each row through its language's model (German: the
    fallback, said in sentiment_routed) gives the answers the comparison scored."""
    rows = answers(compared)
    test_file = write_csv(tmp_path / "test_rows.csv", [{"text": r["text"], "lang": r["language"].lower()}
                                                       for r in rows])
    out = tmp_path / "predicted.csv"
    result = run_main("infer", compared.arms["per_language"], "--input", str(test_file), "--output", str(out),
                      "--backend", "torch", env=compared.env())
    assert result.returncode == 0, result.stderr[-3000:]
    with out.open(encoding="utf-8", newline="") as handle:
        inferred = list(csv.DictReader(handle))
    assert [r["sentiment_routed"] for r in inferred] == [r["routed"] for r in rows]
    assert [r["sentiment_label"] for r in inferred] == [r["per_language"] for r in rows]


def test_multi_label_answers_are_scored_per_label_and_per_language_as_sklearn_does() -> None:
    """A multi-label task (sets of labels): both strategies' per-language macro-F1 are sklearn's on 0/1 rows."""
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from llm_tool.results.strategy_comparison import ArmAnswers, ScoredRows, compare_task

    rng = np.random.default_rng(3)
    labels = ["food", "price", "service"]
    n = 30
    gold = [frozenset(x for x in labels if rng.random() < 0.5) for _ in range(n)]
    multi = [frozenset(x for x in labels if rng.random() < 0.5) for _ in range(n)]
    per = [g if i % 3 else frozenset() for i, g in enumerate(gold)]
    codes = ["EN" if i % 2 else "FR" for i in range(n)]
    rows = ScoredRows([f"p{i}" for i in range(n)], [f"text {i}" for i in range(n)], codes)
    record = compare_task("topics", rows, ArmAnswers(gold, multi, ["fallback"] * n),
                          ArmAnswers(gold, per, ["en" if c == "EN" else "fr" for c in codes]))
    binary = MultiLabelBinarizer(classes=labels).fit([labels])
    y, a, b = (binary.transform(v) for v in (gold, multi, per))
    assert record["multi_label"] is True
    assert record["macro_f1"]["multilingual"] == pytest.approx(f1_score(y, a, average="macro", zero_division=0))
    assert record["macro_f1"]["per_language"] == pytest.approx(f1_score(y, b, average="macro", zero_division=0))
    for lang in record["languages"]:
        mask = np.asarray(codes) == lang["language"]
        assert lang["support"] == 15 and lang["answered_by"] == lang["language"].lower()
        assert lang["per_language_macro_f1"] == pytest.approx(
            f1_score(y[mask], b[mask], average="macro", zero_division=0))
    assert record["difference"]["ci_low"] <= record["difference"]["diff"] <= record["difference"]["ci_high"]


@pytest.mark.parametrize(("args", "dataset", "message"), [
    (["--language-strategies", "multilingual,bilingual"], {}, "unknown strategy 'bilingual'"),
    (["--language-strategies", "per_language"], {}, "compares both strategies"),
    (["--language-strategies", "multilingual,per_language", "--models", "m"], {}, "leave out --models"),
    (["--language-strategies", "multilingual,per_language"], {"language_column": "langue"},
     "language column 'langue' not found"),
])
def test_bad_strategy_input_is_one_line_exit_2_and_creates_nothing(isolated_home: Path, tiny_model: Path,
                                                                    args: list[str], dataset: dict[str, Any],
                                                                    message: str) -> None:
    config = write_config(isolated_home, write_data(isolated_home), tiny_model, **dataset)
    result = run_main("benchmark", str(config), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert session_files(isolated_home) == [] and not (isolated_home / "logs" / "sweeps").exists()


def test_per_language_with_no_language_big_enough_is_refused_and_a_dry_run_plans_both_arms(
        isolated_home: Path, tiny_model: Path) -> None:
    small = write_config(isolated_home, write_data(isolated_home, ["en", "fr"] * 30), tiny_model)
    result = run_main("benchmark", str(small), "--language-strategies", "multilingual,per_language")
    assert result.returncode == 2 and "per_language would train no model of its own" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and session_files(isolated_home) == []

    config = write_config(isolated_home, write_data(isolated_home), tiny_model)
    dry = run_main("benchmark", str(config), "--language-strategies", "multilingual,per_language", "--dry-run",
                   env={"COLUMNS": "200"})
    assert dry.returncode == 0, dry.stderr[-2000:]
    for title in ("multilingual-sentiment", "per_language-sentiment", "per_language-sentiment-en",
                  "per_language-sentiment-fr"):
        assert title in dry.stdout
    assert "no DE model of sentiment" in dry.stdout and "dry run" in dry.stdout
    assert session_files(isolated_home) == []


def test_the_studio_offers_the_comparison_when_the_data_has_a_language_column(
        isolated_home: Path, interactive: None, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Benchmark mode on data with a `lang` column asks what to compare; "one model for every language vs one per
    language" asks for one model, shows the trainings of both strategies and starts them as one sweep (a stand-in
    Slurm here: the trainings themselves are the fixture's)."""
    from tests.sweep_helpers import stand_in_slurm
    from tests.wizard_helpers import Keys, pick, replace, run_studio, to_data_file

    write_data(isolated_home)
    stand_in_slurm(tmp_path / "fake-slurm", monkeypatch)
    ctx = run_studio(*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER,  # file, text, label, tasks
                     Keys.ENTER, pick(3), replace("1"), replace("8"),  # split; benchmark mode; epochs, batch size
                     pick(2),  # compare: one model for every language vs one model per language
                     Keys.UP + Keys.UP + Keys.ENTER, str(tiny_model) + Keys.ENTER,  # the model: a typed folder
                     pick(2), pick(3), pick(6))  # step 8: the Slurm cluster; then leave the studio
    asked = ctx.prompter.asked
    assert asked[asked.index("batch_size") + 1:asked.index("run_benchmark") + 1] == [
        "compare", "model", "model_name", "run_benchmark"]
    out = capsys.readouterr().out
    assert "Summary: the comparison that will run" in out and "per_language-sentiment-fr" in out
    assert "no DE model of sentiment" in out and "started the comparison of language strategies" in out
    (state_file,) = (isolated_home / "logs" / "sweeps").glob("*.json")
    state = json.loads(state_file.read_text(encoding="utf-8"))
    assert state["kind"] == "benchmark" and len(state["jobs"]) == 4
    assert {j["overrides"]["model_config.language_strategy"] for j in state["jobs"]} == {"multilingual",
                                                                                         "per_language"}
    store = SessionStore()
    parent = store.read(Path(state["parent_session"]["session_file"]))
    arms = parent.extra["benchmark"]["language_strategies"]
    for strategy, sid in arms.items():
        arm = store.read(store.path_for_id(sid))
        assert arm.training_session.workflow == "tasks" and arm.training_session.parent_session == parent.session_id
        assert arm.model_config["language_strategy"] == strategy and arm.dataset_config["language_column"] == "lang"
    assert len(session_files(isolated_home)) == 1 + 2 + 4  # the benchmark, its two tasks runs, their children


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_benchmark_runs_both_strategies_in_tmux_and_records_the_comparison(
        tmux_socket: str, isolated_home: Path, tiny_model: Path) -> None:
    """`llm-tool benchmark --language-strategies ... --wait`: the four trainings run as one sweep; its scheduler
    keeps both tasks runs' tables and records the comparison; `sweep status` (and --json), `sweep report` show it."""
    config = write_config(isolated_home, write_data(isolated_home), tiny_model)
    proc = run_main("benchmark", str(config), "--language-strategies", "multilingual,per_language", "--name", "langs",
                    "--max-parallel", "4", "--wait", env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Language strategies of langs" in proc.stdout and "too few test rows to conclude" in proc.stdout
    document = json.loads(run_main("sweep", "status", "langs", "--json").stdout)
    assert [j["status"] for j in document["jobs"]] == ["completed"] * 4
    compared = document["language_comparison"]
    (task,) = compared["tasks"]
    assert compared["final"] is True and {lang["language"] for lang in task["languages"]} == {"EN", "FR", "DE"}
    store = SessionStore()
    parent = store.read(store.path_for_id(document["sweep"]["parent_session"]))
    assert parent.execution_status.status == "completed" and parent.extra["language_comparison"] == compared
    for sid in compared["strategies"].values():  # each tasks run's table followed its children
        assert store.read(store.path_for_id(sid)).execution_status.status == "completed"
    listed = json.loads(run_main("sweep", "list", "--json").stdout)
    assert [(s["name"], s["kind"], s["best"]) for s in listed] == [("langs", "benchmark", None)]
    report = run_main("sweep", "report", "langs", "-o", str(isolated_home / "reports"))
    assert report.returncode == 0, report.stderr[-2000:]
    text = (isolated_home / "reports" / "langs.md").read_text(encoding="utf-8")
    assert "| sentiment | all |" in text and f"{task['difference']['diff']:+.3f}" in text
    (isolated_home / "coded.csv").unlink()  # the data gone: the comparison made before stays, status still works
    again = run_main("sweep", "status", "langs", env={"COLUMNS": "200"})
    assert again.returncode == 0 and "too few test rows to conclude" in again.stdout
    assert store.read(store.path_for_id(parent.session_id)).extra["language_comparison"] == compared


def test_the_studio_finds_languages_in_a_code_column_or_in_detection_and_back_returns_to_the_question(
        isolated_home: Path, interactive: None, tiny_model: Path) -> None:
    from llm_tool.data.formats import Table
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.languages_compare import language_source
    from tests.wizard_helpers import Keys, pick, replace, run_studio, to_data_file

    def table(column: str, values: list[str]) -> Table:
        return Table(["text", column], [{"text": "t", column: v} for v in values], list(range(len(values))), "csv")

    assert language_source(Draft(table=table("Lang", ["en", "fr", "pt-BR", ""]))) == (
        "Lang", "its column 'Lang'")
    assert language_source(Draft(table=table("lang", ["English", "French"]))) is None  # names, not codes
    assert language_source(Draft(table=table("lang", ["en", "en"]))) is None  # one language: nothing to compare
    detected = language_source(Draft(table=table("source", ["a", "b"]), analysis={"languages": ["EN", "FR"]}))
    assert detected is not None and detected[0] is None and "detected" in detected[1] and "EN, FR" in detected[1]

    write_data(isolated_home)  # in the studio: ← at the model question goes back to "what to compare"
    ctx = run_studio(*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER, pick(3),
                     replace("1"), replace("8"), pick(2), Keys.LEFT, pick(1))
    asked = ctx.prompter.asked
    assert asked[asked.index("batch_size") + 1:][:4] == ["compare", "model", "compare", "models"]
    assert session_files(isolated_home) == []


def test_per_language_without_a_language_column_or_a_detected_language_is_refused(isolated_home: Path,
                                                                                   tiny_model: Path) -> None:
    data = write_csv(isolated_home / "numbers.csv", [{"text": f"{i * 7919 % 100000} {i}", "label": "ab"[i % 2]}
                                                     for i in range(80)])
    config = isolated_home / "plain.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": data.name, "label_column": "label"},
                                  "model_config": {"selected_model": str(tiny_model)}}), encoding="utf-8")
    result = run_main("benchmark", str(config), "--language-strategies", "multilingual,per_language")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no text has a known language" in result.stderr and "dataset_config.language_column" in result.stderr
    assert session_files(isolated_home) == [] and not (isolated_home / "logs" / "sweeps").exists()
