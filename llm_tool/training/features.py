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
    encoded = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
    return [len(ids) for ids in encoded]


def default_max_length(lengths: list[int], model_limit: int) -> int:
    """The data's p95 token length rounded up to a multiple of 8, capped by what the model accepts."""
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else model_limit
    return max(8, min(model_limit, ((p95 + 7) // 8) * 8))


def encode_long(texts: list[str], tokenizer: PreTrainedTokenizerBase, max_length: int, plan: LongText) -> Encoded:
    """Every token of each text (one call of the fast tokenizer), then the rows ``plan`` makes of them."""
    from llm_tool.training.long_text import encode

    full = tokenizer(texts, truncation=False, return_special_tokens_mask=True)
    return encode(full["input_ids"], full["special_tokens_mask"], max_length, plan)


def tokenize_split(split: Split, tokenizer: PreTrainedTokenizerBase, label_names: list[str], multi_label: bool,
                   max_length: int, *, sort_by_length: bool = False, plan: LongText | None = None) -> datasets.Dataset:
    """A datasets.Dataset with labels, position (row in the split), input_ids, attention_mask (token_type_ids
    where the model has them) and length, sorted by length for evaluation. The texts go through the fast tokenizer
    in one call: `Dataset.map` would first hash the tokenizer with dill for its cache fingerprint (a second on
    the sample, for a cache an in-memory data set never uses)."""
    import datasets

    datasets.disable_progress_bars()
    labels = encode_labels(split.labels, label_names, multi_label)
    if plan is not None and plan.strategy != "truncate":  # head_tail, chunks: a row per window, ``position`` its text
        rows = encode_long(split.texts, tokenizer, max_length, plan)
        columns: dict[str, list[Any]] = {"labels": [labels[i] for i in rows.owner], "position": rows.owner,
                                         "input_ids": rows.ids, "attention_mask": [[1] * len(r) for r in rows.ids]}
        if "token_type_ids" in tokenizer.model_input_names:
            columns["token_type_ids"] = [[0] * len(r) for r in rows.ids]
        encoded: Any = {"input_ids": rows.ids}
    else:  # the tokenizer's own truncation, as before long_text existed
        encoded = tokenizer(split.texts, truncation=True, max_length=max_length)
        columns = {"labels": labels, "position": list(range(len(split.texts)))}
        columns.update({name: list(values) for name, values in encoded.items()})
    lengths = [len(ids) for ids in encoded["input_ids"]]
    columns["length"] = lengths
    dataset = datasets.Dataset.from_dict(columns)
    if sort_by_length:
        order = sorted(range(len(dataset)), key=lengths.__getitem__)
        dataset = dataset.select(order)
    return dataset
