"""The history table (`sessions list`, the studio's resume and inference menus) at 80, 100 and 120 columns over
realistic sessions: each row shows what tells it apart from the others, rows never read the same, the label column
is shown, and a model such as camembert-base stays whole."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from llm_tool.sessions import SessionStore
from llm_tool.sessions.summaries import list_rows
from llm_tool.ui.distinct import cut_all, need, shared_parts
from llm_tool.ui.history import history_table
from tests.helpers import fake_session, run_main

T0 = datetime(2026, 12, 4, 9, 0)


def _session(store: SessionStore, minutes: int, *, name: str | None = None, label: str = "sentiment",
             **kwargs: object) -> None:
    path = fake_session(store, T0 + timedelta(minutes=minutes), **kwargs)  # type: ignore[arg-type]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["training_session"]["session_name"] = name
    data["dataset_config"]["label_column"] = label
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    """Two sweep jobs sharing a long name prefix, two sessions on data files that differ only mid-name, one on
    another task (label column) of the same file; camembert-base and a hub model with an organisation."""
    store = SessionStore(tmp_path)
    _session(store, 0, dataset="/data/tweets_english_sample_train.csv", model="camembert-base")
    _session(store, 1, dataset="/data/tweets_french_sample_train.csv", model="camembert-base")
    _session(store, 2, dataset="/data/tweets_french_sample_train.csv", model="camembert-base", label="topic")
    _session(store, 3, name="sweep_dims-lr2e-5_bs16", dataset="/data/tweets_french_sample_train.csv",
             model="sentence-transformers/all-MiniLM-L6-v2", status="running")
    _session(store, 4, name="sweep_dims-lr3e-5_bs16", dataset="/data/tweets_french_sample_train.csv",
             model="sentence-transformers/all-MiniLM-L6-v2", status="running")
    return store


def _render(rows: list[dict[str, object]], width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(history_table(rows, "Training sessions", width=width))
    return console.export_text().splitlines()


def _row_lines(lines: list[str], count: int) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("─")) + 1
    return lines[start:start + count]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_every_row_is_identifiable(store: SessionStore, width: int) -> None:
    rows = list_rows(store, limit=20, status=None, model=None, dataset=None)
    lines = _render(rows, width)
    assert all(len(line) <= width for line in lines)
    table = _row_lines(lines, 5)
    by_number = {line.split()[0]: line for line in table}
    sweep_2e, sweep_3e, topic, french, english = (by_number[str(n)] for n in range(1, 6))
    assert "lr3e-5" in sweep_2e and "lr2e-5" in sweep_3e  # the newest is #1
    assert "english" in english and "french" in french
    assert "topic" in topic and "sentiment" in french  # the task is shown
    assert "camembert-base" in english and "camembert-base" in topic  # whole, not …embert-base
    assert "all-MiniLM" in sweep_2e
    cells = [line.split(None, 3)[3] for line in table]  # without number and date
    assert len(set(cells)) == len(cells)


def test_a_column_the_same_on_every_row_is_named_below_when_it_does_not_fit(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    for i, name in enumerate(("sweep_dims-lr2e-5_bs16", "sweep_dims-lr3e-5_bs16", "sweep_dims-lr5e-5_bs16")):
        _session(store, i, name=name, dataset="/data/customer_reviews_2026_cleaned.csv", model="camembert-base",
                 label="star_rating")
    rows = list_rows(store, limit=20, status=None, model=None, dataset=None)
    lines = _render(rows, 80)
    body = _row_lines(lines, 3)
    assert ["5e-5" in body[0], "3e-5" in body[1], "2e-5" in body[2]] == [True] * 3
    assert all("camembert-base" in line for line in body)
    shown = "\n".join(lines)
    assert "star_rating" in shown and "customer_reviews_2026_cleaned.csv" in shown


def test_sessions_list_at_80_columns(store: SessionStore) -> None:
    result = run_main("sessions", "list", env={"LLM_TOOL_HOME": str(store.home), "COLUMNS": "80"}, cwd=store.home)
    assert result.returncode == 0, result.stderr
    assert "lr2e-5" in result.stdout and "lr3e-5" in result.stdout and "english" in result.stdout
    assert "Label" in result.stdout and "camembert-base" in result.stdout


def test_cutting_keeps_the_distinguishing_part() -> None:
    names = ["sweep_dims-lr2e-5_bs16", "sweep_dims-lr3e-5_bs16"]
    assert shared_parts(names) == (len("sweep_dims-"), len("_bs16"))
    assert cut_all(names, 12) == ["…lr2e-5_bs16", "…lr3e-5_bs16"]
    assert cut_all(names, need(names)) == ["…lr2e-5…", "…lr3e-5…"]
    files = ["tweets_english_sample_train.csv", "tweets_french_sample_train.csv"]
    assert [text.strip("…_") for text in cut_all(files, 9)] == ["english", "french"]
    models = ["camembert-base", "sentence-transformers/all-MiniLM-L6-v2"]
    assert cut_all(models, 18, keep_tail=True) == ["camembert-base", "…/all-MiniLM-L6-v2"]
