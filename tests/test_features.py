"""Tokenized splits: every row is what the tokenizer gives for its text alone, labels and positions kept."""

from __future__ import annotations

import csv

import pytest

from llm_tool.catalog.resolve import load_tokenizer
from llm_tool.data.splits import Split
from llm_tool.training.features import tokenize_split


@pytest.mark.parametrize("sort_by_length", [False, True])
def test_each_row_is_its_text_tokenized_alone(tiny_model, sample_csv, sort_by_length):
    with sample_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:200]
    split = Split(texts=[r["text"] for r in rows], labels=[r["label"] for r in rows])
    tokenizer = load_tokenizer(str(tiny_model))
    names = sorted({r["label"] for r in rows})

    dataset = tokenize_split(split, tokenizer, names, False, 12, sort_by_length=sort_by_length)

    assert len(dataset) == len(rows)
    assert {"labels", "position", "input_ids", "attention_mask", "length"} <= set(dataset.column_names)
    for row in dataset:
        alone = tokenizer(split.texts[row["position"]], truncation=True, max_length=12)
        assert row["input_ids"] == alone["input_ids"] and row["attention_mask"] == alone["attention_mask"]
        assert row["length"] == len(alone["input_ids"]) <= 12
        assert names[row["labels"]] == split.labels[row["position"]]
    positions = dataset["position"]
    assert sorted(positions) == list(range(len(rows)))
    if sort_by_length:
        assert dataset["length"] == sorted(dataset["length"])
    else:
        assert positions == list(range(len(rows)))
    assert max(dataset["length"]) == 12  # the sample has texts longer than 12 tokens: truncated
