"""The token memo: what the splits are made of equals the tokenizer's own output, and tokenizers are told apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tool.data.splits import Split
from llm_tool.training.features import token_lengths, tokenize_split
from llm_tool.training.token_memo import TokenMemo


@pytest.fixture
def tokenizer(tiny_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))


def test_truncated_rows_equal_the_tokenizers_own_truncation(tokenizer, monkeypatch) -> None:
    from llm_tool.training import token_memo

    monkeypatch.setattr(token_memo, "MEMO", TokenMemo())
    texts = ["great " * 40 + "awful", "fine", "the food was cold and the service slow " * 3, "great " * 40 + "awful"]
    split = Split(texts=texts, labels=["positive", "negative", "negative", "positive"])
    dataset = tokenize_split(split, tokenizer, ["negative", "positive"], False, max_length=16)
    own = tokenizer(texts, truncation=True, max_length=16)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert dataset[name] == own[name]
    assert dataset["length"] == [len(ids) for ids in own["input_ids"]] and max(dataset["length"]) == 16
    assert token_lengths(tokenizer, texts) == [len(ids) for ids in tokenizer(texts)["input_ids"]]
    assert token_memo.MEMO.tokenized == 3  # the repeated text and the second call came from the memo


def test_another_vocabulary_is_not_served_from_the_memo(tokenizer, tmp_path: Path) -> None:
    from transformers import BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"]) + "\n")
    other = BertTokenizerFast(vocab_file=str(vocab))
    memo = TokenMemo()
    mine, _ = memo.full(tokenizer, ["good bad"])
    theirs, _ = memo.full(other, ["good bad"])
    assert theirs == other(["good bad"])["input_ids"] and mine == tokenizer(["good bad"])["input_ids"]
    assert mine != theirs and memo.tokenized == 2


def test_the_memo_is_bounded(tokenizer) -> None:
    memo = TokenMemo(max_tokens=20)
    first, _ = memo.full(tokenizer, ["great " * 10])  # 12 tokens: kept
    memo.full(tokenizer, ["awful " * 10])  # 12 more: over the bound, the older text is forgotten
    again, _ = memo.full(tokenizer, ["great " * 10])
    assert again == first and memo.tokenized == 3
