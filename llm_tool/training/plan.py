"""Dry-run plan: validate config, data and model, and estimate steps, memory and duration without training."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.config import TrainingConfig
from llm_tool.data.prepare import prepare

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
    token_stats: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def count_parameters(model_name: str, num_labels: int) -> int:
    """Parameter count from the model's config, built on the meta device (no weights read)."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from llm_tool.training.models import _explain, resolve_model

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


def estimate_memory(parameters: int, batch_size: int, max_length: int, hidden: int = 768, layers: int = 12) -> int:
    """Process overhead + fp32 weights, grads and 2 AdamW moments (16 B/param) + activations (rough, per batch)."""
    activations = batch_size * max_length * hidden * layers * 34
    return int(RUNTIME_OVERHEAD_BYTES + parameters * 16 + activations)


def make_plan(config: TrainingConfig, base_dir: Path) -> TrainingPlan:
    import torch

    from llm_tool.training.analysis import analyse_texts, steps_per_epoch
    from llm_tool.training.models import load_tokenizer

    cfg = config.model
    data = prepare(config.dataset, base_dir, seed=cfg.seed)
    analysis = analyse_texts(data.all_texts(), load_tokenizer(cfg.selected_model), cfg.max_length)
    max_length, stats = analysis.max_length, analysis.stats
    rows = {name: len(split) for name, split in data.splits.items()}
    per_epoch = steps_per_epoch(rows["train"], cfg.batch_size, cfg.gradient_accumulation_steps)
    parameters = count_parameters(cfg.selected_model, len(data.label_names))
    tokens_per_sample = min(max_length, stats.get("token_mean", max_length))
    cuda = torch.cuda.is_available()
    work = 6 * parameters * tokens_per_sample * rows["train"] * cfg.epochs
    evals = 2 * parameters * tokens_per_sample * (rows["validation"] * cfg.epochs + rows["validation"] + rows["test"])
    seconds = (work + evals) / (GPU_FLOPS if cuda else CPU_FLOPS)
    notes = []
    if analysis.needs_long_document_model:
        notes.append(f"5% of texts are longer than {analysis.model_limit} tokens: consider a long-document model")
    return TrainingPlan(
        rows=rows, label_names=data.label_names, multi_label=data.multi_label, steps_per_epoch=per_epoch,
        total_steps=per_epoch * cfg.epochs, max_length=max_length, parameters=parameters,
        memory_bytes=estimate_memory(parameters, cfg.batch_size, max_length),
        seconds_estimate=round(seconds, 1), device="cuda" if cuda else "cpu", token_stats=stats, notes=notes,
        split_method=str(data.record.get("split_method", "")),
    )
