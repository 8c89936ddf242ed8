"""Run one training session end to end: data, model, Trainer, checkpoints, resume, evaluation, saved model."""

from __future__ import annotations

import os
import shutil
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool.config import parse_config
from llm_tool.data.analysis import detect_languages
from llm_tool.data.prepare import PreparedData, prepare
from llm_tool.errors import LlmToolError, SessionError
from llm_tool.sessions.atomic import HeldLock, write_json_atomic
from llm_tool.sessions.lifecycle import now_iso, process_identity
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.training import checkpoints as ckpt
from llm_tool.training.events import EventHandler, TrainingEvent, ignore
from llm_tool.training.signals import GracefulStop, StopRequested

TIMING_KEYS = frozenset({"eval_runtime", "eval_samples_per_second", "eval_steps_per_second"})
EXIT_COMPLETED, EXIT_FAILED, EXIT_USER_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class TrainingOutcome:
    session_id: str
    status: str  # completed | interrupted
    model_dir: Path | None
    metrics: dict[str, Any] | None
    reason: str | None = None


class Run:
    """State shared by the steps of one run (kept small: the session file is the real record)."""

    def __init__(self, store: SessionStore, path: Path, on_event: EventHandler) -> None:
        self.store, self.path, self.on_event = store, path, on_event
        self.meta = store.read(path)
        self.sid = self.meta.session_id
        self.config = parse_config(self.meta.to_dict(), source=path.name)
        self.model_dir, self.checkpoints_dir = store.output_dirs(self.meta)  # always inside the home

    def stage(self, message: str) -> None:
        self.on_event(TrainingEvent(kind="stage", message=message))

    def update(self, change: Any) -> SessionMetadata:
        self.meta = self.store.update(self.path, change)
        return self.meta

    def write_progress(self, fields: dict[str, Any]) -> None:
        def apply(meta: SessionMetadata) -> None:
            status = meta.execution_status
            for key, value in fields.items():
                if value is not None or key == "latest_loss":
                    setattr(status, key, value)
            status.heartbeat = now_iso()
        self.update(apply)


def run_session(store: SessionStore, path: Path, *, resume: bool = False, on_event: EventHandler = ignore,
                log_to_file: bool = True) -> TrainingOutcome:
    """Train (or resume) the session in ``path``; the session file records every state change."""
    run = Run(store, path, on_event)
    lock = HeldLock(store.run_lock_path(run.sid))
    if not lock.acquire():
        raise SessionError(f"session {run.sid} is already being trained by another process")
    stop = GracefulStop()
    stop.install()
    started = time.monotonic()
    try:
        return _run_locked(run, resume, stop, started)
    except StopRequested as exc:
        _mark_interrupted(run, str(exc))
        return TrainingOutcome(run.sid, "interrupted", None, None, str(exc))
    except BaseException as exc:
        _mark_failed(run, exc, log_to_file)
        raise
    finally:
        stop.restore()
        lock.release()


def _run_locked(run: Run, resume: bool, stop: GracefulStop, started: float) -> TrainingOutcome:
    checkpoint = _resume_point(run) if resume else None
    _mark_running(run, resume)
    import torch
    from transformers import set_seed
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    _quiet_libraries()

    from llm_tool.training import environment

    threads = run.config.model.num_threads or (run.meta.environment.num_threads if resume else None)
    if threads:
        torch.set_num_threads(threads)
    run.stage("reading data")
    base = Path(run.meta.dataset_config.get("primary_file", ".")).parent
    data = prepare(run.config.dataset, base, seed=run.config.model.seed)
    if resume and run.meta.dataset_config.get("fingerprint_sha256") not in (None, data.record["fingerprint_sha256"]):
        raise SessionError(f"the data file changed since {run.sid} started: relaunch it instead of resuming")
    device = environment.detect_device()
    run.update(lambda m: _record_environment(m, device, environment.versions()))

    from llm_tool.training.models import load_model, load_tokenizer, model_max_length

    run.stage(f"loading tokenizer {run.config.model.selected_model}")
    tokenizer = load_tokenizer(run.config.model.selected_model)
    max_length = _analyse(run, data, tokenizer, resume)
    set_seed(run.config.model.seed)
    run.stage("loading model")
    id2label = dict(enumerate(data.label_names))
    model = load_model(run.config.model.selected_model, num_labels=len(data.label_names), id2label=id2label,
                       multi_label=data.multi_label)
    if max_length > model_max_length(tokenizer, model.config):
        max_length = model_max_length(tokenizer, model.config)
        run.update(lambda m: m.model_config.update({"max_length_used": max_length}))
    trainer = _build_trainer(run, data, tokenizer, model, max_length, device, stop)
    run.stage("training")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    stop.training = False
    if stop.reason is not None and trainer.state.global_step < trainer.state.max_steps:
        _mark_interrupted(run, stop.reason)
        return TrainingOutcome(run.sid, "interrupted", None, None, stop.reason)
    return _finish(run, trainer, data, tokenizer, max_length, started)


def _quiet_libraries() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module="pyarrow")
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:
        pass


def _resume_point(run: Run) -> Path:
    status = run.meta.execution_status.status
    if status == "completed":
        raise SessionError(f"{run.sid} already completed: use `llm-tool sessions relaunch {run.sid}` for a new run")
    found, skipped = ckpt.last_complete(run.checkpoints_dir)
    for folder, reason in skipped:
        run.stage(f"skipping {folder.name}: {reason}")
    if found is None:
        raise SessionError(f"{run.sid} has no complete checkpoint to resume from: relaunch it instead")
    ckpt.set_aside(skipped)
    run.stage(f"resuming from {found.name}")
    return found


def _mark_running(run: Run, resume: bool) -> None:
    pid, created = process_identity()

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.status = "running"
        status.pid, status.pid_create_time, status.host = pid, created, socket.gethostname()
        status.heartbeat = now_iso()
        status.error_message = status.interrupt_reason = None
        if resume:
            meta.execution_status.extra.setdefault("resumed_at", []).append(now_iso())
        else:
            status.started_at = now_iso()
    run.update(apply)


def _record_environment(meta: SessionMetadata, device: dict[str, Any], versions: dict[str, Any]) -> None:
    import torch

    env = meta.environment
    env.python, env.torch, env.transformers = versions["python"], versions["torch"], versions["transformers"]
    env.datasets, env.platform, env.device = versions["datasets"], versions["platform"], device["device"]
    env.num_threads = torch.get_num_threads()
    env.world_size = int(os.environ.get("WORLD_SIZE", "1"))


def _analyse(run: Run, data: PreparedData, tokenizer: Any, resume: bool) -> int:
    """Record data analysis in the session; returns max_length (the recorded one when resuming)."""
    from llm_tool.training.analysis import analyse_texts

    recorded = run.meta.model_config.get("max_length_used")
    if resume and recorded:
        return int(recorded)
    run.stage("analysing texts")
    analysis = analyse_texts(data.all_texts(), tokenizer, run.config.model.max_length)
    max_length, stats = analysis.max_length, analysis.stats
    languages = detect_languages(data.all_texts(), seed=run.config.model.seed)

    def apply(meta: SessionMetadata) -> None:
        meta.dataset_config.update(data.record)
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


def _build_trainer(run: Run, data: PreparedData, tokenizer: Any, model: Any, max_length: int,
                   device: dict[str, Any], stop: GracefulStop) -> Any:
    from transformers import DataCollatorWithPadding, EarlyStoppingCallback, PrinterCallback

    from llm_tool.training.analysis import steps_per_epoch
    from llm_tool.training.arguments import class_weight_vector, training_arguments, weighted_loss
    from llm_tool.training.callbacks import SessionCallback
    from llm_tool.training.environment import precision_flags
    from llm_tool.training.features import tokenize_split
    from llm_tool.training.metrics import summary_metrics
    from llm_tool.training.sampler import SessionTrainer

    cfg = run.config.model
    run.stage("tokenizing")
    train = tokenize_split(data.splits["train"], tokenizer, data.label_names, data.multi_label, max_length)
    validation = tokenize_split(data.splits["validation"], tokenizer, data.label_names, data.multi_label,
                                max_length, sort_by_length=True)
    per_epoch = steps_per_epoch(len(train), cfg.batch_size, cfg.gradient_accumulation_steps)
    args = training_arguments(cfg, run.checkpoints_dir, precision=precision_flags(cfg.precision, device),
                              steps_per_epoch=per_epoch, use_cpu=not device["cuda"])
    callbacks = [SessionCallback(on_event=run.on_event, write_progress=run.write_progress, stop=stop,
                                 save_steps=cfg.save_steps, checkpoints_dir=run.checkpoints_dir,
                                 total_epochs=cfg.epochs)]
    if cfg.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=cfg.early_stopping_patience))
    weights = class_weight_vector(cfg.class_weights, data.label_names, data.splits["train"].labels, data.multi_label)
    multi = data.multi_label
    trainer = SessionTrainer(
        model=model, args=args, train_dataset=train, eval_dataset=validation, processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=lambda p: summary_metrics(p.predictions, p.label_ids, multi),
        compute_loss_func=weighted_loss(weights, multi) if weights else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # our callback reports progress; no raw log dicts on stdout
    return trainer


def _finish(run: Run, trainer: Any, data: PreparedData, tokenizer: Any, max_length: int,
            started: float) -> TrainingOutcome:
    from llm_tool.training.features import tokenize_split
    from llm_tool.training.metrics import full_report

    run.stage("evaluating the best model")
    reports: dict[str, Any] = {}
    outputs: dict[str, Any] = {}  # issue 11: raw predictions for llm_tool.results
    trainer.args.train_sampling_strategy = "random"  # issue 11: evaluation batches in dataset order, not shuffled
    for name in ("validation", "test"):
        split = data.splits[name]
        if len(split) == 0:
            continue
        dataset = trainer.eval_dataset if name == "validation" else tokenize_split(
            split, tokenizer, data.label_names, data.multi_label, max_length, sort_by_length=True)
        output = trainer.predict(dataset)
        outputs[name] = (output.predictions, output.label_ids, dataset["position"])
        reports[name] = full_report(output.predictions, output.label_ids, data.label_names, data.multi_label)
    state = trainer.state
    history = epoch_history(state.log_history)
    train_stats = next((e for e in reversed(state.log_history) if "train_runtime" in e), {})
    metrics = {
        "session_id": run.sid,
        "model": run.config.model.selected_model,
        "labels": data.label_names,
        "multi_label": data.multi_label,
        "best_checkpoint_step": state.best_global_step,
        "best_validation_macro_f1": state.best_metric,
        "global_step": state.global_step,
        "epochs_trained": state.epoch,
        "train_runtime_seconds": train_stats.get("train_runtime"),
        "train_samples_per_second": train_stats.get("train_samples_per_second"),
        **reports,
        "history": history,
        "log_history": [{k: v for k, v in e.items() if k not in TIMING_KEYS}
                        for e in state.log_history if "loss" in e or "eval_macro_f1" in e],
    }
    run.stage(f"saving the model to {run.model_dir}")
    run.model_dir.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(run.model_dir))  # safetensors weights + config (id2label) + tokenizer
    write_json_atomic(run.model_dir / "label_mapping.json",
                      {"labels": data.label_names, "multi_label": data.multi_label,
                       "max_length": max_length, "threshold": 0.5 if data.multi_label else None})
    write_json_atomic(run.model_dir / "metrics.json", metrics)
    # issue 11: predictions, tuned thresholds, per-language metrics, model card (rewrites metrics.json)
    from llm_tool.results.finalize import write_results

    run.stage("writing results (predictions, thresholds, model card)")
    for warning in write_results(run.model_dir, metrics, outputs, {n: data.splits[n].texts for n in outputs},
                                 run.meta.to_dict()):
        run.stage(f"warning: {warning}")
    for leftover in ("training_args.bin",):
        (run.model_dir / leftover).unlink(missing_ok=True)
    if not run.config.model.keep_checkpoints:
        shutil.rmtree(run.checkpoints_dir, ignore_errors=True)
    best = state.best_metric if state.best_metric is not None else reports.get("validation", {}).get("macro_f1")

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.status = "completed"
        status.completed_at = now_iso()
        status.models_trained = [run.config.model.selected_model]
        status.best_model = str(run.model_dir)
        status.best_f1 = best
        status.test_f1 = reports.get("test", {}).get("macro_f1")
        status.duration_seconds = round(time.monotonic() - started, 2)
        status.train_samples_per_second = train_stats.get("train_samples_per_second")
        status.current_step, status.total_steps = state.global_step, state.max_steps
        status.last_checkpoint = None if not run.config.model.keep_checkpoints else status.last_checkpoint
        status.exit_code = EXIT_COMPLETED
    run.update(apply)
    return TrainingOutcome(run.sid, "completed", run.model_dir, metrics)


def epoch_history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per epoch: mean training loss (weighted by the steps of each log window) and validation metrics."""
    rows: dict[int, dict[str, Any]] = {}
    sums: dict[int, list[float]] = {}
    last_step = 0
    for entry in log_history:
        epoch = int(-(-round(float(entry.get("epoch", 0)), 6) // 1))  # the epoch this entry closes (ceil)
        if "loss" in entry:
            steps = entry["step"] - last_step
            last_step = entry["step"]
            total = sums.setdefault(epoch, [0.0, 0])
            total[0] += float(entry["loss"]) * steps
            total[1] += steps
        if "eval_macro_f1" in entry:
            rows[epoch] = {"epoch": epoch, "step": entry["step"], "validation_loss": entry.get("eval_loss"),
                           **{k[5:]: v for k, v in entry.items() if k.startswith("eval_") and k != "eval_loss" and
                              k not in TIMING_KEYS}}
    for epoch, (loss, steps) in sums.items():
        rows.setdefault(epoch, {"epoch": epoch})["train_loss"] = round(loss / steps, 6) if steps else None
    return [rows[e] for e in sorted(rows)]


def _mark_interrupted(run: Run, reason: str) -> None:
    found, _ = ckpt.last_complete(run.checkpoints_dir)

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.status = "interrupted"
        status.interrupt_reason = reason
        status.last_checkpoint = str(found) if found else None
        status.exit_code = EXIT_INTERRUPTED
    run.update(apply)


def _mark_failed(run: Run, exc: BaseException, log_to_file: bool) -> None:
    if isinstance(exc, KeyboardInterrupt):
        _mark_interrupted(run, "stopped by Ctrl+C")
        return
    message = str(exc) if isinstance(exc, LlmToolError) else f"{type(exc).__name__}: {exc}"
    if log_to_file:
        log = run.store.log_path(run.sid)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"[{now_iso()}] training failed\n{traceback.format_exc()}\n")

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.status = "failed"
        status.error_message = message[:2000]
        status.completed_at = now_iso()
        status.exit_code = EXIT_USER_ERROR if isinstance(exc, LlmToolError) and exc.exit_code == 2 else EXIT_FAILED
    try:
        run.update(apply)
    except Exception:  # noqa: BLE001 - never hide the original error behind a bookkeeping one
        pass

