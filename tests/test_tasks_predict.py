"""One prediction for all tasks of a tasks run: infer, evaluate and report on the parent, per-language routing."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from llm_tool.config import DatasetConfig
from llm_tool.data.tasks import child_dataset_config, discover_tasks, with_tasks
from llm_tool.model_folder import read_label_mapping
from llm_tool.sessions import SessionStore
from llm_tool.sessions.create import create_session
from llm_tool.sessions.task_parent import WORKFLOW, TaskEntry, write_task_entries
from tests.conftest import SAMPLE_CSV
from tests.helpers import read_json, run_main, sample_rows, session_files, write_csv

pytestmark = pytest.mark.xdist_group("tasks_predict")
ROWS = 60


TOPICS = (["food"], ["service"], ["food", "service"])


def _annotation(i: int, row: dict[str, str]) -> dict[str, object]:
    """sentiment on every row but each 5th; length (short/long) on every row but each 4th; topics (multi-label)
    on even rows."""
    out: dict[str, object] = {}
    if i % 5:
        out["sentiment"] = row["label"]
    if i % 4 != 1:
        out["length"] = "short" if len(row["text"]) < 60 else "long"
    if i % 2 == 0:
        out["topics"] = TOPICS[(i // 2) % 3]
    return out


def _language(i: int) -> str:
    return "fr" if i % 3 == 0 else "en"


def write_tasks_csv(path: Path, sample_csv: Path) -> Path:
    rows = sample_rows(sample_csv, ROWS)
    return write_csv(path, [{"id": i, "text": r["text"], "lang": _language(i),
                             "annotation": json.dumps(_annotation(i, r))} for i, r in enumerate(rows)])


@dataclass(frozen=True)
class Run:
    home: Path
    data: Path
    config: dict[str, object]
    children: dict[str, str]  # "sentiment", "length", "length-en" -> session id

    def env(self) -> dict[str, str]:
        return {"LLM_TOOL_HOME": str(self.home)}


def _train_child(home: Path, raw: dict[str, object], name: str) -> str:
    path = home / f"{name}.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    result = run_main("train", str(path), "--session-name", name, env={"LLM_TOOL_HOME": str(home)}, cwd=home)
    assert result.returncode == 0, result.stderr[-3000:]
    (found,) = [p for p in session_files(home) if read_json(p)["training_session"]["session_name"] == name]
    return str(read_json(found)["training_session"]["session_id"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Run:
    """Four children trained once (1 epoch of the tiny BERT): sentiment, length and topics (multi-label) on every
    language, and length on the English rows only."""
    home = tmp_path_factory.mktemp("tasks_predict") / "home"
    home.mkdir()
    data = write_tasks_csv(home / "coded.csv", SAMPLE_CSV)
    cfg = DatasetConfig(primary_file=str(data), annotation_column="annotation", language_column="lang")
    infos = {info.name: info for info in discover_tasks(cfg, home)}
    model = {"selected_model": str(tiny_model), "epochs": 1, "batch_size": 8, "learning_rate": 3e-3,
             "early_stopping": False, "training_mode": "quick", "num_threads": 1}
    dataset = with_tasks(cfg, list(infos.values()))
    children = {}
    for name, task, language in (("sentiment", "sentiment", None), ("length", "length", None),
                                 ("length-en", "length", "EN"), ("topics", "topics", None)):
        raw = {"dataset_config": child_dataset_config(dataset, infos[task], language), "model_config": model}
        children[name] = _train_child(home, raw, name)
    config = {"dataset_config": {"primary_file": str(data), "text_column": "text", "annotation_column": "annotation",
                                 "language_column": "lang"}, "model_config": model}
    return Run(home, data, config, children)


def _parent(run: Run, name: str, entries: list[TaskEntry], **fields: object) -> str:
    store = SessionStore(run.home)
    path, _ = create_session(store, run.config, base_dir=run.home, session_name=name, workflow=WORKFLOW)
    store.update(path, lambda meta: write_task_entries(meta, entries, **fields))
    return str(store.read(path).session_id)


def _multilingual(run: Run, name: str = "both") -> str:
    return _parent(run, name, [TaskEntry("sentiment", run.children["sentiment"], classes=["negative", "positive"]),
                               TaskEntry("length", run.children["length"], classes=["long", "short"]),
                               TaskEntry("topics", run.children["topics"], multi_label=True,
                                         classes=["food", "service"])])


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _infer(run: Run, ref: str, source: Path, out: Path, *extra: str) -> list[dict[str, str]]:
    result = run_main("infer", ref, "--input", str(source), "--output", str(out), "--backend", "torch", *extra,
                      env=run.env(), cwd=run.home)
    assert result.returncode == 0, result.stderr[-3000:]
    return _read_csv(out)


def test_infer_parent_writes_every_tasks_columns_equal_to_each_childs_own(run: Run, tmp_path: Path) -> None:
    parent = _multilingual(run)
    combined = _infer(run, parent, run.data, tmp_path / "all.csv")
    for task in ("sentiment", "length", "topics"):
        own = _infer(run, run.children[task], run.data, tmp_path / f"{task}.csv")
        labels = [name[len("prob_"):] for name in own[0] if name.startswith("prob_")]
        assert [row[f"{task}_label"] for row in combined] == [row["predicted_label"] for row in own]
        for label in labels:
            assert [row[f"{task}_prob_{label}"] for row in combined] == [row[f"prob_{label}"] for row in own]
    thresholds = read_label_mapping(run.home / "models" / run.children["topics"])["thresholds"]
    for row in combined:  # multi-label: each label at or above its threshold tuned on validation
        for label in ("food", "service"):
            probability = float(row[f"topics_prob_{label}"])  # rounded to 6 decimals: a tie is not decided here
            if abs(probability - thresholds[label]) > 1e-6:
                assert (label in row["topics_label"].split("|")) == (probability >= thresholds[label]), row
    assert list(combined[0])[:4] == ["id", "text", "lang", "annotation"]  # the input's columns first, unchanged
    assert not any(name.endswith("_routed") for name in combined[0])  # one model per task: nothing routed
    assert len(combined) == ROWS


def test_per_language_rows_go_to_their_model_and_the_others_to_the_fallback_said_so(run: Run,
                                                                                  tmp_path: Path) -> None:
    entries = [TaskEntry("sentiment", run.children["sentiment"]), TaskEntry("length", run.children["length"]),
               TaskEntry("length", run.children["length-en"], language="EN")]
    parent = _parent(run, "by-language", entries, language_strategy="per_language",
                     language_model_mapping={"length": {"EN": run.children["length-en"]}},
                     fallback={"length": run.children["length"], "sentiment": run.children["sentiment"]})
    rows = _read_csv(run.data)[:12]
    for i, row in enumerate(rows):  # a language no model has: German
        row["lang"] = "de" if i % 4 == 2 else row["lang"]
    source = write_csv(tmp_path / "mixed.csv", rows)
    combined = _infer(run, parent, source, tmp_path / "out.csv")
    english = _infer(run, run.children["length-en"], source, tmp_path / "en.csv")
    every = _infer(run, run.children["length"], source, tmp_path / "all.csv")
    for row, en_row, all_row in zip(combined, english, every, strict=True):
        expected = "en" if row["lang"] == "en" else "fallback"
        assert row["length_routed"] == expected
        chosen = en_row if expected == "en" else all_row
        assert row["length_label"] == chosen["predicted_label"]
        assert row["length_prob_short"] == chosen["prob_short"]
    assert {r["length_routed"] for r in combined} == {"en", "fallback"}
    assert sum(r["lang"] == "de" for r in combined) == 3  # German rows predicted (fallback), never skipped
    assert "sentiment_routed" not in combined[0]  # sentiment has one model for every language
    scored = run_main("evaluate", parent, "--data", str(source), "--json", "--backend", "torch", env=run.env(),
                      cwd=run.home)
    assert scored.returncode == 0, scored.stderr[-3000:]
    length = json.loads(scored.stdout)["tasks"]["length"]
    annotated = [r for r in combined if "length" in json.loads(r["annotation"])]
    assert length["routed"] == {"en": sum(r["lang"] == "en" for r in annotated),
                                "fallback": sum(r["lang"] != "en" for r in annotated)}
    assert length["rows_used"] == len(annotated)


def test_infer_parent_on_texts_prints_every_task_and_writes_jsonl(run: Run, tmp_path: Path) -> None:
    parent = _multilingual(run, "texts")
    texts = ["Great phone, works well.", "Terrible, it broke after a day and the seller never answered me."]
    result = run_main("infer", parent, "--text", texts[0], "--text", texts[1], "--json", "--backend", "torch",
                      env=run.env(), cwd=run.home)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert [row["text"] for row in printed] == texts
    assert all(row["sentiment_label"] in ("negative", "positive") and row["length_label"] in ("long", "short")
               for row in printed)
    source = write_csv(tmp_path / "two.csv", [{"text": t} for t in texts])
    result = run_main("infer", parent, "--input", str(source), "--output", str(tmp_path / "out.jsonl"),
                      "--backend", "torch", env=run.env(), cwd=run.home)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines == printed  # the same flat keys as the printed rows


def _annotated(task: str) -> list[int]:
    key = {"sentiment": lambda i: i % 5 != 0, "length": lambda i: i % 4 != 1, "topics": lambda i: i % 2 == 0}[task]
    return [i for i in range(ROWS) if key(i)]


def test_evaluate_parent_scores_each_task_on_its_annotated_rows_only(run: Run, tmp_path: Path) -> None:
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    parent = _multilingual(run, "scored")
    result = run_main("evaluate", parent, "--data", str(run.data), "--json", "--backend", "torch", env=run.env(),
                      cwd=run.home)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    truth = _read_csv(run.data)
    for task in ("sentiment", "length"):
        rows = _annotated(task)
        scores = found["tasks"][task]
        assert scores["rows_used"] == len(rows) and scores["rows_not_annotated"] == ROWS - len(rows)
        assert scores["evaluation"]["num_samples"] == len(rows)
        own = _infer(run, run.children[task], run.data, tmp_path / f"{task}.csv")
        y = [json.loads(truth[i]["annotation"])[task] for i in rows]
        p = [own[i]["predicted_label"] for i in rows]
        assert scores["evaluation"]["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    topics = found["tasks"]["topics"]
    assert (topics["rows_used"], topics["rows_not_annotated"], topics["multi_label"]) == (30, 30, True)
    own = _infer(run, run.children["topics"], run.data, tmp_path / "topics.csv")
    binary = MultiLabelBinarizer(classes=["food", "service"])
    y = binary.fit_transform([json.loads(truth[i]["annotation"])["topics"] for i in _annotated("topics")])
    p = binary.transform([own[i]["predicted_label"].split("|") if own[i]["predicted_label"] else []
                          for i in _annotated("topics")])
    assert topics["evaluation"]["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    assert (ROWS - len(_annotated("sentiment")), ROWS - len(_annotated("length"))) == (12, 15)
    saved = Path(found["result_file"])
    assert saved.is_file() and saved.parent.parent.name == parent
    meta = read_json(SessionStore(run.home).path_for_id(parent))
    assert meta["evaluations"][-1]["tasks"]["sentiment"]["rows_used"] == len(_annotated("sentiment"))


def test_report_parent_writes_a_section_per_task_with_each_childs_numbers(run: Run) -> None:
    parent = _parent(run, "reported", [TaskEntry("sentiment", run.children["sentiment"]),
                                       TaskEntry("length", run.children["length"])])
    result = run_main("report", parent, env=run.env(), cwd=run.home)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = run.home / "models" / parent / "report"
    index = (folder / "index.html").read_text(encoding="utf-8")
    for n, task in enumerate(("sentiment", "length"), start=1):
        metrics = read_json(run.home / "models" / run.children[task] / "metrics.json")
        section = (folder / f"{n:02d}_{task}" / "report.html").read_text(encoding="utf-8")
        expected = f"{metrics['test']['macro_f1']:.4f}"
        assert expected in section and f"Task {task}" in section
        row = re.search(rf"<a href='{n:02d}_{task}/report.html'>{task}</a>.*?</tr>", index)
        assert row is not None and expected in row.group(0)


def test_a_task_without_a_saved_model_is_one_line_and_nothing_written(run: Run, tmp_path: Path) -> None:
    store = SessionStore(run.home)
    pending, _ = create_session(store, run.config, base_dir=run.home, session_name="unfinished")
    waiting = store.read(pending).session_id
    parent = _parent(run, "half-done", [TaskEntry("sentiment", run.children["sentiment"]),
                                        TaskEntry("length", waiting)])
    out = tmp_path / "out.csv"
    result = run_main("infer", parent, "--input", str(run.data), "--output", str(out), env=run.env(), cwd=run.home)
    assert result.returncode == 2
    assert "task 'length' has no saved model yet" in result.stderr and f"sessions resume {parent}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_an_input_that_already_has_a_tasks_column_is_refused_before_any_model_loads(run: Run,
                                                                                      tmp_path: Path) -> None:
    parent = _multilingual(run, "clash")
    first = [{**row, "sentiment_label": "positive"} for row in _read_csv(run.data)]
    source = write_csv(tmp_path / "again.csv", first)  # an earlier prediction file given as input
    out = tmp_path / "twice.csv"
    result = run_main("infer", parent, "--input", str(source), "--output", str(out), env=run.env(), cwd=run.home)
    assert result.returncode == 2 and "already has a column 'sentiment_label'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
