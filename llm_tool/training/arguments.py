"""TrainingArguments and the loss for a ModelConfig: one place where every training setting maps to the Trainer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.config import ModelConfig
from llm_tool.training.ranks import world_size

if TYPE_CHECKING:
    from transformers import TrainingArguments

    from llm_tool.training.environment import PrecisionFlags

# model_config.optimizer -> the Trainer's `optim` (and `optim_args`). adamw passes nothing: the Trainer's default
# (transformers 5: torch's fused AdamW, `adamw_torch_fused`), exactly as before the setting existed.
OPTIMIZERS: dict[str, dict[str, Any]] = {
    "adamw": {},
    "adafactor": {"optim": "adafactor"},  # the Trainer's Adafactor: fixed learning rate, no parameter scaling
    "sgd": {"optim": "sgd", "optim_args": "momentum=0.9"},
}


def training_arguments(cfg: ModelConfig, output_dir: Path, *, precision: PrecisionFlags, steps_per_epoch: int,
                       use_cpu: bool, run_name: str | None = None, project: str | None = None) -> TrainingArguments:
    """``run_name``/``project``: the trackers' run and project (``cfg.report_to``; none: nothing is reported)."""
    from transformers import TrainingArguments

    trackers: dict[str, Any] = {"report_to": list(cfg.report_to), "run_name": run_name} if cfg.report_to else \
        {"report_to": "none"}
    if project and "trackio" in cfg.report_to:
        trackers["project"] = project

    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size or cfg.batch_size * 2,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        **OPTIMIZERS[cfg.optimizer],
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float below 1 is a ratio of all steps
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=cfg.save_total_limit,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        restore_callback_states_from_checkpoint=True,  # early-stopping patience survives a resume
        logging_strategy="steps",
        logging_steps=max(1, min(50, steps_per_epoch // 10)),
        seed=cfg.seed,
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        length_column_name="length",
        use_cpu=use_cpu,
        **trackers,
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=not use_cpu,
        log_level="error",
        ddp_backend="gloo" if use_cpu and world_size() > 1 else None,  # torchrun on CPU
        **precision,
    )


def class_weight_vector(setting: str | dict[str, float] | None, label_names: list[str], labels: list[Any],
                        multi_label: bool) -> list[float] | None:
    """Per-class loss weights: 'balanced' = n / (k * count); a dict names them; None/'none' = unweighted."""
    if setting in (None, "none"):
        return None
    if isinstance(setting, dict):
        unknown = [k for k in setting if k not in label_names]
        if unknown:
            from llm_tool.errors import ConfigError

            raise ConfigError(f"model_config.class_weights names unknown label {unknown[0]!r}; labels: {label_names}")
        return [float(setting.get(name, 1.0)) for name in label_names]
    counts = [0] * len(label_names)
    index = {n: i for i, n in enumerate(label_names)}
    for row in labels:
        for name in (row if multi_label else [row]):
            counts[index[name]] += 1
    total = len(labels)
    if multi_label:  # pos_weight: negatives per positive
        return [(total - c) / c if c else 1.0 for c in counts]
    return [total / (len(label_names) * c) if c else 1.0 for c in counts]


def weighted_loss(weights: list[float], multi_label: bool) -> Any:
    import torch

    tensor = torch.tensor(weights, dtype=torch.float32)

    def compute(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        if multi_label:
            loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=tensor.to(logits.device))
            return loss_fn(logits, labels.to(logits.dtype))
        return torch.nn.functional.cross_entropy(logits, labels, weight=tensor.to(logits.device).to(logits.dtype))

    return compute
