"""Every supported format reads every row; broken files fail loudly with the line number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_tool.config import parse_config
from llm_tool.data.formats import read_table
from llm_tool.data.prepare import prepare
from llm_tool.errors import DatasetError

TEST_DATA = Path(__file__).resolve().parent / "data"
ROWS = [{"text": f"review number {i} is {'good' if i % 2 else 'bad'}", "label": "pos" if i % 2 else "neg"}
        for i in range(20)]


def _write(tmp_path: Path, fmt: str) -> Path:
    import pandas as pd

    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"data.{ {'excel': 'xlsx', 'jsonl': 'jsonl'}.get(fmt, fmt) }".replace(" ", "")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "excel":
        frame.to_excel(path, index=False, sheet_name="reviews")
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "parquet", "excel"])
def test_each_format_reads_every_row(tmp_path, fmt):
    table = read_table(_write(tmp_path, fmt))
    assert len(table.rows) == 20
    assert [r["text"] for r in table.rows] == [r["text"] for r in ROWS]
    assert [str(r["label"]) for r in table.rows] == [r["label"] for r in ROWS]


def test_excel_sheet_by_name(tmp_path):
    path = _write(tmp_path, "excel")
    assert len(read_table(path, sheet="reviews").rows) == 20
    with pytest.raises(DatasetError, match=r"reviews|Worksheet"):
        read_table(path, sheet="missing")


def test_semicolon_delimiter_and_cp1252_encoding(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes("text;label\ncafé crème très bon;pos\nà éviter;neg\n".encode("cp1252"))
    table = read_table(path)
    assert table.details["delimiter_used"] == ";"
    assert table.details["encoding_used"] == "cp1252"
    assert table.rows[0]["text"] == "café crème très bon"


def test_imdb_file_with_unbalanced_quotes_keeps_all_1000_rows():
    # pandas with default quoting returns 748 rows for this file; every row must be read
    table = read_table(TEST_DATA / "imdb_labelled.txt", has_header=False)
    assert len(table.rows) == 1000
    assert table.details["quoting_used"] == "none"
    # U+0085 inside a sentence is not a line break
    assert all(row["column_2"] in ("0", "1") for row in table.rows)


def test_unrecoverable_quote_fails_with_line_number(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('text,label\n"fine",a\n"opens a quote,b\nnext line, with, commas,c\nlast,d\n')
    with pytest.raises(DatasetError, match=r"line 3: a quote"):
        read_table(path)


def test_wrong_field_count_names_the_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\nok,a\ntoo,many,fields\n")
    with pytest.raises(DatasetError, match="line 3: expected 2 fields, found 3"):
        read_table(path)


def test_bad_jsonl_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": \n')
    with pytest.raises(DatasetError, match="line 2 is not valid JSON"):
        read_table(path)


def _dataset(path: Path, **extra) -> object:
    return parse_config({"dataset_config": {"primary_file": str(path), **extra}}).dataset


def _multi_rows(n: int = 40) -> list[dict]:
    topics = [["sport"], ["politics"], ["sport", "economy"], ["economy"], ["politics", "economy"]]
    return [{"text": f"text {i}", "labels": topics[i % len(topics)]} for i in range(n)]


def test_multi_label_from_jsonl_lists(tmp_path):
    path = tmp_path / "multi.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _multi_rows()))
    data = prepare(_dataset(path, strategy="multi-label", label_column="labels"), tmp_path, seed=1)
    assert data.multi_label and data.label_names == ["economy", "politics", "sport"]
    assert data.record["category_distribution"]["economy"] == 24
    assert sum(len(s) for s in data.splits.values()) == 40


def test_multi_label_from_joined_csv_strings(tmp_path):
    path = tmp_path / "multi.csv"
    lines = ["text,labels"] + [f"text {i},{'|'.join(r['labels'])}" for i, r in enumerate(_multi_rows())]
    path.write_text("\n".join(lines) + "\n")
    data = prepare(_dataset(path, strategy="multi-label", label_column="labels"), tmp_path, seed=1)
    assert data.label_names == ["economy", "politics", "sport"]
    assert any(len(labs) == 2 for s in data.splits.values() for labs in s.labels)


def test_multi_label_from_binary_columns(tmp_path):
    path = tmp_path / "multi.csv"
    lines = ["text,sport,politics"] + [f"text {i},{i % 2},{(i // 2) % 2}" for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    data = prepare(_dataset(path, strategy="multi-label", label_column=None, label_columns=["sport", "politics"]),
                   tmp_path, seed=1)
    assert data.label_names == ["politics", "sport"]
    assert data.record["category_distribution"] == {"politics": 20, "sport": 20}


def test_stratified_80_10_10_split_is_seeded(tmp_path, sample_csv):
    first = prepare(_dataset(sample_csv), tmp_path, seed=7)
    again = prepare(_dataset(sample_csv), tmp_path, seed=7)
    assert first.record["split_sizes"] == {"train": 2400, "validation": 300, "test": 300}
    assert first.splits["test"].texts == again.splits["test"].texts
    assert first.splits["test"].labels.count("positive") == 150  # stratified
    assert "stratified" in first.record["split_method"]


def test_split_column_and_separate_files(tmp_path):
    rows = [{"text": f"t{i}", "label": "a" if i % 2 else "b", "part": ["train", "dev", "test"][i % 3]}
            for i in range(30)]
    path = tmp_path / "split.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    data = prepare(_dataset(path, split_column="part"), tmp_path, seed=1)
    assert data.record["split_sizes"] == {"train": 10, "validation": 10, "test": 10}

    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(json.dumps(r) for r in rows[:20]))
    test = tmp_path / "test.jsonl"
    test.write_text("\n".join(json.dumps(r) for r in rows[20:]))
    data = prepare(_dataset(train, test_file=str(test)), tmp_path, seed=1)
    assert data.record["split_sizes"]["test"] == 10
    assert data.record["split_sizes"]["train"] + data.record["split_sizes"]["validation"] == 20
