"""Step 3's split: the data's own split column or sibling files are found and used; typed files too."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tool.data.formats import read_table
from llm_tool.sessions import SessionStore
from llm_tool.wizard.detect import sibling_split_files, split_column_candidates
from tests.helpers import sample_rows, session_files, write_csv
from tests.wizard_helpers import NEW_SESSION_QUESTIONS, Keys, pick, replace, run_studio, to_data_file

STUDIO_TO_EXIT = [pick(3), pick(6)]


pytestmark = pytest.mark.usefixtures("interactive")


def _keys_after_split(model: Path) -> list[str]:
    """Quick mode, 1 epoch, batch 8, a typed model folder, save, then save only (nothing trains)."""
    return [Keys.ENTER, replace("1"), replace("8"), Keys.UP + Keys.UP + Keys.ENTER, str(model) + Keys.ENTER, "y\r",
            pick(3)]


def _rows_with_split(sample_csv: Path) -> list[dict[str, str]]:
    rows = sample_rows(sample_csv, 60)
    names = ["train"] * 40 + ["dev"] * 10 + ["test"] * 10
    return [{**row, "part": name} for row, name in zip(rows, names, strict=True)]


def test_split_column_is_detected_offered_first_and_recorded(isolated_home: Path, sample_csv: Path,
                                                              tiny_model: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(isolated_home / "data.csv", _rows_with_split(sample_csv))
    # file, text, label, task: defaults; split: Enter keeps the pre-selected official split
    ctx = run_studio(*to_data_file(), *[Keys.ENTER] * 4, Keys.ENTER, *_keys_after_split(tiny_model),
                     *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*NEW_SESSION_QUESTIONS, "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    assert "rows (train / validation / test)" in out and "40 / 10 / 10" in out
    assert "split column" in out  # the summary names the method
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert dataset["split_column"] == "part"


def test_sibling_files_are_found_and_used(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rows = sample_rows(sample_csv, 80)
    folder = isolated_home / "topics"
    folder.mkdir()
    write_csv(folder / "fr_train.csv", rows[:50])
    write_csv(folder / "fr_dev.csv", rows[50:64])
    write_csv(folder / "fr_test.csv", rows[64:])
    # data files under the home, sorted: fr_dev, fr_test, fr_train -> pick 3
    ctx = run_studio(pick(1), pick(2), pick(3), *[Keys.ENTER] * 3, Keys.ENTER, *_keys_after_split(tiny_model),
                     *STUDIO_TO_EXIT)
    assert ctx.prompter.asked[:7] == NEW_SESSION_QUESTIONS[:7]
    out = capsys.readouterr().out
    assert "50 / 14 / 16" in out and "separate validation and test files" in out
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert dataset["validation_file"] == str(folder / "fr_dev.csv")
    assert dataset["test_file"] == str(folder / "fr_test.csv")


def test_separate_files_can_be_typed(isolated_home: Path, sample_csv: Path, tiny_model: Path) -> None:
    rows = sample_rows(sample_csv, 80)
    write_csv(isolated_home / "data.csv", rows[:60])
    held_out = isolated_home / "held_out"
    held_out.mkdir()
    write_csv(held_out / "gold.csv", rows[60:])
    # split choices: 1 random, 2 separate files; validation: empty (split off); test: the typed file
    ctx = run_studio(*to_data_file(), *[Keys.ENTER] * 4, pick(2), replace(""),
                     replace(str(held_out / "gold.csv")), *_keys_after_split(tiny_model), *STUDIO_TO_EXIT)
    assert "validation_file" in ctx.prompter.asked and "test_file" in ctx.prompter.asked
    (path,) = session_files(isolated_home)
    dataset = SessionStore().read(path).dataset_config
    assert dataset["test_file"] == str(held_out / "gold.csv") and dataset.get("validation_file") is None


def test_split_detection_units(tmp_path: Path, sample_csv: Path) -> None:
    write_csv(tmp_path / "with.csv", _rows_with_split(sample_csv))
    table = read_table(tmp_path / "with.csv")
    assert split_column_candidates(table, exclude=("text", "label")) == [
        ("part", {"train": 40, "validation": 10, "test": 10})]
    assert split_column_candidates(table, exclude=("part",)) == []  # 'source' has other values
    for name in ("train.tsv", "dev.tsv", "test.tsv", "pretrain.tsv", "pretest.tsv"):
        (tmp_path / name).write_text("text\tlabel\n")
    assert sibling_split_files(tmp_path / "train.tsv") == {"validation": tmp_path / "dev.tsv",
                                                           "test": tmp_path / "test.tsv"}
    assert sibling_split_files(tmp_path / "pretrain.tsv") == {}  # "train" inside a word is not a split name
    assert sibling_split_files(tmp_path / "dev.tsv") == {}


def test_the_split_question_offers_the_official_split_first(tmp_path: Path) -> None:
    from llm_tool.wizard.split_questions import split_question

    question = split_question([("part", {"train": 40, "validation": 10, "test": 10})],
                              {"validation": tmp_path / "dev.csv", "test": tmp_path / "test.csv"}, "column:part")
    titles = [c.title for c in question.choices]
    assert titles[0] == "Use the column 'part': train 40 / validation 10 / test 10 rows"
    assert titles[1] == "Use the files beside it: dev.csv (validation), test.csv (test)"
    assert titles[2].startswith("Random stratified split 80/10/10") and titles[3].startswith("Separate")
    assert question.default == "column:part" and "official split" in question.help
    plain = split_question([], {}, "random")
    assert [c.value for c in plain.choices] == ["random", "files"] and plain.help == ""
