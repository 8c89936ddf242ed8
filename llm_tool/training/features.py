"""Tokenize splits into datasets.Dataset objects with a length column (for length-grouped batches)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llm_tool.data.splits import Split

if TYPE_CHECKING:
    import datasets
    from transformers import PreTrainedTokenizerBase

    from llm_tool.training.long_text import Encoded, LongText


def encode_labels(labels: list[Any], label_names: list[str], multi_label: bool) -> list[Any]:
    index = {name: i for i, name in enumerate(label_names)}
    if multi_label:
        out = []
        for row in labels:
            vector = [0.0] * len(label_names)
            for name in row:
                vector[index[name]] = 1.0
            out.append(vector)
        return out
    return [index[name] for name in labels]


def token_lengths(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[int]:
    """Tokens per text with the special tokens (the memo keeps them for the splits that follow)."""
    from llm_tool.training.token_memo import MEMO

    return [len(ids) for ids in MEMO.full(tokenizer, texts)[0]]


def default_max_length(lengths: list[int], model_limit: int) -> int:
    """The data's p95 token length rounded up to a multiple of 8, capped by what the model accepts."""
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else model_limit
    return max(8, min(model_limit, ((p95 + 7) // 8) * 8))


def encode_long(texts: list[str], tokenizer: PreTrainedTokenizerBase, max_length: int, plan: LongText) -> Encoded:
    """Every token of each text (one call of the fast tokenizer for the texts not tokenized yet in this process),
    then the rows ``plan`` makes of them."""
    from llm_tool.training.long_text import encode
    from llm_tool.training.token_memo import MEMO

    ids, masks = MEMO.full(tokenizer, texts)
    return encode(ids, masks, max_length, plan)


def tokenize_split(split: Split, tokenizer: PreTrainedTokenizerBase, label_names: list[str], multi_label: bool,
                   max_length: int, *, sort_by_length: bool = False, plan: LongText | None = None) -> datasets.Dataset:
    """A datasets.Dataset with labels, position (row in the split), input_ids, attention_mask (token_type_ids
    where the model has them) and length, sorted by length for evaluation. Each text is tokenized once per process
    (`token_memo`: the length analysis and every task of a tasks run on this tokenizer reuse it), in one call of
    the fast tokenizer; ``plan`` makes the rows (truncate: the head and the closing special tokens, as the
    tokenizer's own truncation; head_tail; chunks: a row per window, ``position`` its text)."""
    import datasets

    from llm_tool.training.long_text import LongText

    datasets.disable_progress_bars()
    labels = encode_labels(split.labels, label_names, multi_label)
    rows = encode_long(split.texts, tokenizer, max_length, plan or LongText())
    columns: dict[str, list[Any]] = {"labels": [labels[i] for i in rows.owner], "position": rows.owner,
                                     "input_ids": rows.ids, "attention_mask": [[1] * len(r) for r in rows.ids]}
    if "token_type_ids" in tokenizer.model_input_names:
        columns["token_type_ids"] = [[0] * len(r) for r in rows.ids]
    lengths = [len(ids) for ids in rows.ids]
    columns["length"] = lengths
    dataset = datasets.Dataset.from_dict(columns)
    if sort_by_length:
        order = sorted(range(len(dataset)), key=lengths.__getitem__)
        dataset = dataset.select(order)
    return dataset
