"""Dry-run plan: validate config, data and model, and estimate steps, memory and duration without training."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.config import ModelConfig, TrainingConfig
from llm_tool.config.auto import AutoChoice, choose
from llm_tool.data.prepare import prepare
from llm_tool.data.tasks import TaskInfo

# Effective training throughput used for the duration estimate, in FLOP/s (6 x params x mean tokens per sample).
# CPU: measured with benchmarks/bench_training.py (MiniLM-L6, 2,400 rows x 16.9 mean tokens in 41.8 s on the
# 2-core dev machine, about 1.2e11). GPU: not measured yet (no GPU was available); a conservative guess.
CPU_FLOPS = 1.2e11
GPU_FLOPS = 5.0e12


@dataclass
class TrainingPlan:
    rows: dict[str, int]
    label_names: list[str]
    multi_label: bool
    steps_per_epoch: int
    total_steps: int
    max_length: int
    parameters: int
    memory_bytes: int
    seconds_estimate: float
    device: str
    split_method: str = ""
    auto_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    time_budget_seconds: float | None = None
    token_stats: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    long_text: dict[str, Any] = field(default_factory=dict)  # strategy, why, texts longer, training windows

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def count_parameters(model_name: str, num_labels: int) -> int:
    """Parameter count from the model's config, built on the meta device (no weights read)."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from llm_tool.catalog.resolve import _explain, resolve_model

    try:
        config = AutoConfig.from_pretrained(resolve_model(model_name), num_labels=num_labels)
    except Exception as exc:  # noqa: BLE001
        raise _explain(model_name, exc) from None
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)
    return sum(p.numel() for p in model.parameters())


# Python + torch + transformers + datasets loaded in one process, before any model (measured: a MiniLM run peaks
# at 1.19 GiB RSS in benchmarks/bench_training.py, of which 0.53 GiB is the estimate below).
RUNTIME_OVERHEAD_BYTES = int(0.65 * 2**30)


def seconds_per_epoch(parameters: int, tokens_per_sample: float, train_rows: int, validation_rows: int,
                      cuda: bool) -> float:
    """One epoch of training plus its validation pass, from the calibrated throughput."""
    work = 6 * parameters * tokens_per_sample * train_rows + 2 * parameters * tokens_per_sample * validation_rows
    return work / (GPU_FLOPS if cuda else CPU_FLOPS)


def final_eval_seconds(parameters: int, tokens_per_sample: float, rows: int, cuda: bool) -> float:
    """Evaluating the best model on validation and test at the end."""
    return 2 * parameters * tokens_per_sample * rows / (GPU_FLOPS if cuda else CPU_FLOPS)


def budget_seconds(cfg: ModelConfig) -> float:
    """The run's time budget: ``time_budget`` when given, else its preset's (standard by default)."""
    from llm_tool.config.presets import DEFAULT_PRESET, parse_duration, preset

    if cfg.time_budget:
        return parse_duration(cfg.time_budget)
    return preset(cfg.preset or DEFAULT_PRESET).budget_seconds


def auto_choices(cfg: ModelConfig, parameters: int, train_rows: int, epoch_seconds: float) -> dict[str, AutoChoice]:
    """The automatic settings of this run (none for the settings the user gave)."""
    return choose(list(cfg.auto or []), parameters=parameters, train_rows=train_rows, preset_name=cfg.preset,
                  seconds_per_epoch=epoch_seconds, budget_seconds=budget_seconds(cfg))


def estimate_memory(parameters: int, batch_size: int, max_length: int, hidden: int = 768, layers: int = 12) -> int:
    """Process overhead + fp32 weights, grads and 2 AdamW moments (16 B/param) + activations (rough, per batch)."""
    activations = batch_size * max_length * hidden * layers * 34
    return int(RUNTIME_OVERHEAD_BYTES + parameters * 16 + activations)


def make_plan(config: TrainingConfig, base_dir: Path) -> TrainingPlan:
    import torch

    from llm_tool.catalog.resolve import load_tokenizer
    from llm_tool.training.analysis import analyse_texts, steps_per_epoch

    cfg = config.model
    data = prepare(config.dataset, base_dir, seed=cfg.seed)
    tokenizer = load_tokenizer(cfg.selected_model)
    analysis = analyse_texts(data.all_texts(), tokenizer, cfg.max_length)
    max_length, stats = analysis.max_length, analysis.stats
    rows = {name: len(split) for name, split in data.splits.items()}
    long_text = long_text_plan(cfg, analysis, tokenizer.num_special_tokens_to_add(), rows["train"])
    train_rows = long_text["windows"]["windows"]  # chunks: a row per window
    parameters = count_parameters(cfg.selected_model, len(data.label_names))
    tokens_per_sample = max_length if long_text["strategy"] == "chunks" else \
        min(max_length, stats.get("token_mean", max_length))
    cuda = torch.cuda.is_available()
    epoch_seconds = seconds_per_epoch(parameters, tokens_per_sample, train_rows, rows["validation"], cuda)
    auto = auto_choices(cfg, parameters, train_rows, epoch_seconds)
    cfg = dataclasses.replace(cfg, **{key: choice.value for key, choice in auto.items()})
    per_epoch = steps_per_epoch(train_rows, cfg.batch_size, cfg.gradient_accumulation_steps)
    seconds = epoch_seconds * cfg.epochs + final_eval_seconds(parameters, tokens_per_sample,
                                                              rows["validation"] + rows["test"], cuda)
    notes = list(data.record.get("split_warnings", []))
    if analysis.needs_long_document_model:
        notes.append(f"5% of texts are longer than {analysis.model_limit} tokens: consider a long-document model")
    return TrainingPlan(
        rows=rows, label_names=data.label_names, multi_label=data.multi_label, steps_per_epoch=per_epoch,
        total_steps=per_epoch * cfg.epochs, max_length=max_length, parameters=parameters,
        memory_bytes=estimate_memory(parameters, cfg.batch_size, max_length),
        seconds_estimate=round(seconds, 1), device="cuda" if cuda else "cpu", token_stats=stats, notes=notes,
        split_method=str(data.record.get("split_method", "")),
        auto_settings={key: {"value": c.value, "why": c.why} for key, c in auto.items()},
        settings={"epochs": cfg.epochs, "batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate,
                  "optimizer": cfg.optimizer, "early_stopping_patience": cfg.early_stopping_patience},
        time_budget_seconds=budget_seconds(cfg), long_text=long_text,
    )


def long_text_plan(cfg: ModelConfig, analysis: Any, specials: int, train_rows: int) -> dict[str, Any]:
    """The strategy for texts past max_length, why, how many exceed it, and the training rows (windows) it makes."""
    from llm_tool.training.long_text import planned, train_windows

    plan, why = planned(cfg.long_text, analysis.lengths, analysis.max_length, specials, cfg.chunk_stride,
                        cfg.max_chunks_per_text)
    longer = sum(1 for n in analysis.lengths if n > analysis.max_length)
    return {"strategy": plan.strategy, "why": why, "texts_longer": longer, "texts": len(analysis.lengths),
            "chunk_stride": plan.stride if plan.strategy == "chunks" else None,
            "windows": train_windows(analysis.lengths[:train_rows], analysis.max_length, specials, plan)}


def make_task_plans(config: TrainingConfig, base_dir: Path) -> tuple[list[TaskInfo], list[TrainingPlan]]:
    """A config of several tasks: the tasks found (checked) and the dry-run plan of each task's model."""
    from llm_tool.config import DatasetConfig
    from llm_tool.data.tasks import child_dataset_config, discover_tasks, with_tasks

    infos = discover_tasks(config.dataset, base_dir)
    dataset = with_tasks(config.dataset, infos)
    plans = [make_plan(dataclasses.replace(config, dataset=DatasetConfig(**child_dataset_config(dataset, info))),
                       base_dir) for info in infos]
    return infos, plans
