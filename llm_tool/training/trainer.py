"""The Trainer of one run: tokenized splits, arguments, callbacks (progress, early stopping), weighted loss."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from llm_tool.data.prepare import PreparedData
    from llm_tool.training.environment import RunDevice
    from llm_tool.training.long_text import LongText
    from llm_tool.training.run_view import RunView
    from llm_tool.training.sampler import SessionTrainer
    from llm_tool.training.signals import GracefulStop
    from llm_tool.training.trackers import Tracking


def build_trainer(run: RunView, data: PreparedData, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel,
                  max_length: int, device: RunDevice, stop: GracefulStop,
                  tracking: Tracking | None = None, plan: LongText | None = None) -> SessionTrainer:
    import numpy as np
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback

    from llm_tool.results.metrics import summary_metrics
    from llm_tool.training.analysis import steps_per_epoch
    from llm_tool.training.arguments import class_weight_vector, training_arguments, weighted_loss
    from llm_tool.training.callbacks import SessionCallback
    from llm_tool.training.environment import precision_flags
    from llm_tool.training.features import tokenize_split
    from llm_tool.training.sampler import SessionTrainer

    cfg = run.config.model
    run.stage("tokenizing")
    train = tokenize_split(data.splits["train"], tokenizer, data.label_names, data.multi_label, max_length, plan=plan)
    every_window = dataclasses.replace(plan, max_windows=None) if plan is not None else None
    validation = tokenize_split(data.splits["validation"], tokenizer, data.label_names, data.multi_label,
                                max_length, sort_by_length=True, plan=every_window)
    per_epoch = steps_per_epoch(len(train), cfg.batch_size, cfg.gradient_accumulation_steps)
    flags = precision_flags(device.precision, cfg.precision, device)
    args = training_arguments(cfg, run.checkpoints_dir, precision=flags, steps_per_epoch=per_epoch,
                              use_cpu=not device.cuda, run_name=tracking.run_name if tracking else None,
                              project=tracking.project if tracking else None)
    callbacks: list[Any] = [SessionCallback(on_event=run.on_event, write_progress=run.write_progress, stop=stop,
                                 save_steps=cfg.save_steps, checkpoints_dir=run.checkpoints_dir,
                                 total_epochs=cfg.epochs)]
    if tracking is not None:
        from llm_tool.training.trackers import SESSION_KEY, recorder

        callbacks.append(recorder(tracking, lambda found: run.update(
            lambda meta: meta.training_session.extra.update({SESSION_KEY: found}))))
    if cfg.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    weights = class_weight_vector(cfg.class_weights, data.label_names, data.splits["train"].labels, data.multi_label)
    multi = data.multi_label
    chunked = plan is not None and plan.strategy == "chunks"
    score = _per_text_scores(validation["position"], len(data.splits["validation"]), multi) if chunked else \
        (lambda p: summary_metrics(np.asarray(p.predictions), np.asarray(p.label_ids), multi))
    trainer = SessionTrainer(
        model=model, args=args, train_dataset=train, eval_dataset=validation, processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=score,
        compute_loss_func=weighted_loss(weights, multi) if weights else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # our callback reports progress; no raw log dicts on stdout
    if tracking is not None:
        from llm_tool.training.trackers import quiet_callbacks

        quiet_callbacks(trainer.callback_handler.callbacks)
    trainer.sequential_eval = chunked  # predictions in dataset order: each window's text is known
    return trainer


def _per_text_scores(owner: list[int], texts: int, multi: bool) -> Callable[[Any], dict[str, float]]:
    """Validation metrics per text (best epoch, early stopping): each text's windows averaged first."""
    import numpy as np

    from llm_tool.results.metrics import summary_metrics
    from llm_tool.training.long_text import per_text

    def score(p: Any) -> dict[str, float]:
        logits, labels = per_text(np.asarray(p.predictions), np.asarray(p.label_ids), owner, texts, multi)
        return summary_metrics(logits, np.asarray(labels), multi)
    return score
