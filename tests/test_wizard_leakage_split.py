"""Step 3 offers a split by group (id-like columns) and by date (date columns); the choice reaches the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tool.data.formats import read_table
from llm_tool.sessions import SessionStore
from llm_tool.wizard.detect import date_column_candidates, group_column_candidates
from llm_tool.wizard.split_questions import RANDOM_SPLIT, split_question
from tests.helpers import sample_rows, session_files, write_csv
from tests.wizard_helpers import NEW_SESSION_QUESTIONS, Keys, pick, replace, run_studio, to_data_file

pytestmark = pytest.mark.usefixtures("interactive")
STUDIO_TO_EXIT = [pick(3), pick(6)]


def _rows(sample_csv: Path) -> list[dict[str, str]]:
    rows = sample_rows(sample_csv, 60)
    return [{**row, "speech_id": f"s{i // 4}", "date": f"2024-02-{1 + i // 3:02d}", "score": str(i % 5)}
            for i, row in enumerate(rows)]


def test_id_like_and_date_columns_are_detected(tmp_path: Path, sample_csv: Path) -> None:
    table = read_table(write_csv(tmp_path / "data.csv", _rows(sample_csv)))
    dates = date_column_candidates(table, ("text", "label"))
    assert dates == [("date", "2024-02-01", "2024-02-20")]
    groups = group_column_candidates(table, ("text", "label", "date"))
    assert groups[0] == ("speech_id", 15)  # the id-like name first; 'score' repeats its 5 values too
    assert ("score", 5) in groups
    question = split_question([], {}, RANDOM_SPLIT, groups=groups[:1], dates=dates)
    assert [(c.title, c.value) for c in question.choices][:2] == [
        ("Keep each 'speech_id' in one split (15 groups)", "group:speech_id"),
        ("Split by date 'date' (2024-02-01 … 2024-02-20): train on the oldest", "time:date")]


@pytest.mark.parametrize(("choice", "key", "column", "method"), [
    (1, "split_group_column", "speech_id", "group split by 'speech_id'"),
    (3, "split_time_column", "date", "time split by 'date'"),
])
def test_the_split_step_offers_group_and_date_splits(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                                      capsys: pytest.CaptureFixture[str], choice: int, key: str,
                                                      column: str, method: str) -> None:
    write_csv(isolated_home / "data.csv", _rows(sample_csv))
    after = [Keys.ENTER, replace("1"), replace("8"), Keys.UP + Keys.UP + Keys.ENTER, str(tiny_model) + Keys.ENTER,
             "y\r", pick(3)]
    ctx = run_studio(*to_data_file(), *[Keys.ENTER] * 4, pick(choice), *after, *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*NEW_SESSION_QUESTIONS, "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    assert method in out  # the summary names the split
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert dataset[key] == column
    other = {"split_group_column", "split_time_column"} - {key}
    assert dataset.get(other.pop()) is None
