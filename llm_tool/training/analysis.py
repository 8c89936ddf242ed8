"""The one analysis step of dry runs and trainings: token lengths → statistics → max_length → steps per epoch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llm_tool.data.analysis import token_length_stats

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class TextAnalysis:
    """Token lengths of every text, their statistics, the model's limit and the max_length to train with."""

    lengths: list[int]
    stats: dict[str, float]
    model_limit: int
    max_length: int

    @property
    def needs_long_document_model(self) -> bool:
        return self.stats.get("token_p95", 0) > self.model_limit


def analyse_texts(texts: list[str], tokenizer: PreTrainedTokenizerBase,
                  requested_max_length: int | None) -> TextAnalysis:
    """Tokenize once to measure; max_length is the requested one, else the data's p95 capped by the model."""
    from llm_tool.catalog.resolve import model_max_length
    from llm_tool.training.features import default_max_length, token_lengths

    lengths = token_lengths(tokenizer, texts)
    limit = model_max_length(tokenizer)
    max_length = requested_max_length or default_max_length(lengths, limit)
    return TextAnalysis(lengths, token_length_stats(lengths), limit, max_length)


def steps_per_epoch(train_rows: int, batch_size: int, gradient_accumulation_steps: int) -> int:
    """Optimizer steps in one epoch (the last, partial batch counts)."""
    return max(1, -(-train_rows // (batch_size * gradient_accumulation_steps)))
