"""The run's text analysis step: lengths, max_length, languages and the long-text strategy, recorded in the
session (a resume reads the recorded ones)."""

from __future__ import annotations

from typing import Any

from llm_tool.data.analysis import detect_languages
from llm_tool.data.prepare import PreparedData
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.training.long_text import LongText
from llm_tool.training.run_view import RunView


def recorded_long_text(run: RunView, tokenizer: Any, max_length: int) -> LongText:
    """The recorded strategy for long texts (a session from before long_text existed: truncate)."""
    from llm_tool.training.long_text import check_stride, from_record

    plan = from_record(run.meta.model_config, run.config.model.max_chunks_per_text) or LongText()
    if plan.strategy == "chunks":
        check_stride(plan.stride, max_length, max_length - tokenizer.num_special_tokens_to_add())
    return plan


def analyse(run: RunView, data: PreparedData, tokenizer: Any, resume: bool) -> int:
    """Record data analysis in the session; returns max_length (the recorded one when resuming)."""
    from llm_tool.training.analysis import analyse_texts

    recorded = run.meta.model_config.get("max_length_used")
    if resume and recorded:
        return int(recorded)
    run.stage("analysing texts")
    analysis = analyse_texts(data.all_texts(), tokenizer, run.config.model.max_length)
    max_length, stats = analysis.max_length, analysis.stats
    languages = detect_languages(data.all_texts(), seed=run.config.model.seed)
    long_text = _long_text_record(run, analysis, tokenizer.num_special_tokens_to_add(), len(data.splits["train"]))

    def apply(meta: SessionMetadata) -> None:
        meta.dataset_config.update(data.record)
        meta.model_config.update(long_text)
        meta.model_config["max_length_used"] = max_length
        meta.model_config["num_labels"] = len(data.label_names)
        meta.text_analysis.text_length_stats = stats
        meta.text_analysis.requires_long_document_model = analysis.needs_long_document_model
        lang = meta.language_config
        lang.language_distribution = languages["language_distribution"]
        lang.confirmed_languages = languages["confirmed_languages"]
        lang.detected_on_rows = languages["detected_on_rows"]
        lang.model_strategy = languages.get("model_strategy")
    run.update(apply)
    return max_length


def _long_text_record(run: RunView, analysis: Any, specials: int, train_rows: int) -> dict[str, Any]:
    """The strategy for long texts, why, and the training rows it makes (the first ``train_rows`` texts train)."""
    from llm_tool.training.long_text import planned, train_windows

    cfg = run.config.model
    plan, why = planned(cfg.long_text, analysis.lengths, analysis.max_length, specials, cfg.chunk_stride,
                        cfg.max_chunks_per_text)
    run.stage(f"long texts: {plan.strategy} ({why})")
    record: dict[str, Any] = {"long_text_used": plan.strategy, "long_text_reason": why}
    if plan.strategy == "chunks":
        record["chunk_stride_used"] = plan.stride
        record["windows"] = train_windows(analysis.lengths[:train_rows], analysis.max_length, specials, plan)
    return record
