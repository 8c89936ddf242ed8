"""No data reader escapes the one-line data error: a generated corpus of broken files in every format and encoding
(tests/data_fuzz.py), each read in bounded time; the CLI paths that read data files say the same in one line."""

from __future__ import annotations

import time

import pytest

from llm_tool.data.formats import read_table
from llm_tool.errors import DatasetError
from tests.data_fuzz import ROWS, _delimited, _zip, corpus, run_corpus
from tests.helpers import run_main, write_config

CASE_SECONDS = 15.0  # generous: the slowest case takes under a second alone, the test machine is shared


def test_no_reader_escapes_the_data_error_on_the_corpus(tmp_path):
    rows = run_corpus(tmp_path / "fuzz", read_table, DatasetError)
    assert len(rows) == len(list(corpus())) > 500
    escaped = [r for r in rows if r["outcome"] == "escape"]
    assert not escaped, escaped[:5]
    unnamed = [r for r in rows if r["outcome"] == "expected" and str(r["name"]) not in str(r["error"])]
    assert not unnamed, unnamed[:5]
    slow = [r for r in rows if float(r["seconds"]) > CASE_SECONDS]  # type: ignore[arg-type]
    assert not slow, slow


def test_a_one_column_quoted_empty_row_is_kept_and_blank_lines_are_not(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text('text\n""\nabc\n\n   \n', encoding="utf-8")
    table = read_table(path)
    assert [row["text"] for row in table.rows] == ["", "abc"]
    assert table.row_numbers == [2, 3]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig", "cp1252"])
def test_text_with_a_byte_order_mark_or_a_legacy_encoding_is_read_as_written(tmp_path, encoding):
    path = tmp_path / "d.csv"
    text = _delimited(",").replace("€", "E") if encoding == "cp1252" else _delimited(",")
    path.write_bytes(text.encode(encoding))
    table = read_table(path)
    assert [(row["text"], row["label"]) for row in table.rows] == [
        (t.replace("€", "E") if encoding == "cp1252" else t, label) for t, label in ROWS]


def test_csv_sniffer_bait_is_read_in_bounded_time(tmp_path):
    path = tmp_path / "bait.csv"
    path.write_text("text,label\n" + ',"' * 40000 + "\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(DatasetError, match=r"bait\.csv"):
        read_table(path)
    assert time.monotonic() - started < CASE_SECONDS  # csv.Sniffer on 64 KB of this took over a minute


def _one_error_line(result, name: str) -> None:
    assert result.returncode == 2, result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and name in lines[0] and "unexpected" not in lines[0], result.stderr


def test_infer_and_evaluate_and_train_read_data_files_through_the_same_guard(trained, isolated_home):
    junk = _zip({"junk.bin": b"\x00\xff" * 100})
    (isolated_home / "broken.xlsx").write_bytes(junk)
    (isolated_home / "broken.parquet").write_bytes(b"PAR1" + b"\x01" * 64 + b"PAR1")
    _one_error_line(run_main("infer", "--model-dir", str(trained.model_dir), "--input",
                             str(isolated_home / "broken.xlsx"), "--output", str(isolated_home / "p.csv")),
                    "broken.xlsx")
    assert not (isolated_home / "p.csv").exists()
    _one_error_line(run_main("evaluate", str(trained.model_dir), "--data", str(isolated_home / "broken.parquet")),
                    "broken.parquet")
    config = write_config(isolated_home / "c.json", isolated_home / "broken.xlsx", "unused")
    _one_error_line(run_main("train", str(config), "--dry-run"), "broken.xlsx")


def test_a_reader_failure_of_an_unforeseen_type_is_one_data_error(tmp_path, monkeypatch):
    from llm_tool.data import formats

    def broken(*args, **kwargs):
        raise KeyError("xl/worksheets/sheet1.xml")  # what openpyxl raises for a workbook without its sheet

    monkeypatch.setattr(formats, "_read_jsonl", broken)
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"cannot read d.jsonl as jsonl: 'xl/worksheets/sheet1.xml'"):
        read_table(tmp_path / "d.jsonl")
