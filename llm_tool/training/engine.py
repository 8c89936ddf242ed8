"""Run one training session end to end: data, model, Trainer, checkpoints, resume, evaluation, saved model."""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.atomic import HeldLock
from llm_tool.config import parse_config
from llm_tool.data.prepare import PreparedData, prepare
from llm_tool.errors import ExitCode, LlmToolError, SessionError
from llm_tool.model_folder import TRAINING_ARGS_FILE, metrics_path, new_label_mapping, write_label_mapping
from llm_tool.results.history import TIMING_KEYS, epoch_history
from llm_tool.sessions import transitions
from llm_tool.sessions.lifecycle import now_iso, process_identity
from llm_tool.sessions.schema import ExecutionStatus, SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.training import ranks, run_end
from llm_tool.training.analyse_step import analyse, recorded_long_text
from llm_tool.training.budget import BUDGET_REASON
from llm_tool.training.environment import Device, RunDevice
from llm_tool.training.events import EventHandler, TrainingEvent, ignore
from llm_tool.training.long_text import LongText
from llm_tool.training.settings_step import prepare_settings
from llm_tool.training.signals import GracefulStop, StopRequested
from llm_tool.training.trainer import build_trainer

EXIT_COMPLETED, EXIT_FAILED, EXIT_USER_ERROR, EXIT_INTERRUPTED = (ExitCode.OK, ExitCode.FAILED, ExitCode.USER_ERROR,
                                                                  ExitCode.INTERRUPTED)


@dataclass
class TrainingOutcome:
    session_id: str
    status: str  # completed | interrupted
    model_dir: Path | None
    metrics: dict[str, Any] | None
    reason: str | None = None


class Run:
    """State shared by the steps of one run (kept small: the session file is the real record)."""

    def __init__(self, store: SessionStore, path: Path, on_event: EventHandler,
                 meta: SessionMetadata | None = None) -> None:
        self.store, self.path = store, path
        self._on_event: EventHandler | None = on_event
        self.meta = meta if meta is not None else store.read(path)  # the caller's: the file is parsed once
        self.sid = self.meta.session_id
        self.config = parse_config(self.meta.to_dict(), source=path.name)
        self.model_dir, self.checkpoints_dir = store.output_dirs(self.meta)  # always inside the home
        self.started = time.monotonic()
        self.writer = ranks.is_writer()  # under torchrun only rank 0 writes; the other ranks keep it in memory
        if not self.writer:
            self._on_event = None

    def end_segment(self, meta: SessionMetadata) -> None:
        """Record this part of the run's time; the duration is the sum over every part (resumes included)."""
        segments = meta.execution_status.extra.setdefault("segment_seconds", [])
        segments.append(round(time.monotonic() - self.started, 2))
        meta.execution_status.duration_seconds = round(sum(s for s in segments if isinstance(s, (int, float))), 2)

    def on_event(self, event: TrainingEvent) -> None:
        """Report progress; a display that cannot be written to any more (a lost pipe, a full disk) never stops
        the training: the session file keeps recording progress."""
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except OSError:
            self._on_event = None

    def stage(self, message: str) -> None:
        self.on_event(TrainingEvent(kind="stage", message=message))

    def update(self, change: Any) -> SessionMetadata:
        if not self.writer:
            change(self.meta)
            return self.meta
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
                log_to_file: bool = True, meta: SessionMetadata | None = None) -> TrainingOutcome:
    """Train (or resume) the session in ``path``; the session file records every state change. ``meta``: the
    session as this process already read it (else it is read here)."""
    run = Run(store, path, on_event, meta)
    lock = HeldLock(store.run_lock_path(run.sid))
    if run.writer and not lock.acquire():
        raise SessionError(f"session {run.sid} is already being trained by another process")
    try:  # a refused resume changes nothing: no status, no file
        plan = run_end.plan_resume(run.meta, run.model_dir, run.checkpoints_dir, run.stage,
                                    move_aside=run.writer) if resume else None
    except BaseException:
        if run.writer:
            lock.release()
        raise
    stop = GracefulStop()
    stop.install()
    started = time.monotonic()
    frozen_before = gc.get_freeze_count()
    try:
        if plan is not None and plan.action == "finish":
            return _complete_saved(run, plan.metrics or {})
        checkpoint = plan.checkpoint if plan is not None else None
        return _run_locked(run, plan is not None and plan.action == "checkpoint", checkpoint, stop, started)
    except StopRequested as exc:
        _mark_interrupted(run, str(exc))
        return TrainingOutcome(run.sid, "interrupted", None, None, str(exc))
    except BaseException as exc:
        if not run.writer:
            raise
        if ranks.peer_lost(exc):  # another rank died (kill -9, out of memory): the group stopped, resumable
            reason = "another training process of the group died (torchrun): resume with the same --nproc"
            _mark_interrupted(run, reason)
            return TrainingOutcome(run.sid, "interrupted", None, None, reason)
        full = run_end.disk_full(exc)
        if full is None:
            _mark_failed(run, exc, log_to_file)
            raise
        _mark_disk_full(run, full, log_to_file)
        raise run_end.disk_full_error(full, run.sid, run.model_dir,
                                      run_end.existing_checkpoint(run.checkpoints_dir)) from exc
    finally:
        stop.restore()
        if not frozen_before:  # a notebook's next runs may free this run's objects again
            gc.unfreeze()
        if run.writer:
            lock.release()


def _run_locked(run: Run, resume: bool, checkpoint: Path | None, stop: GracefulStop,
                started: float) -> TrainingOutcome:
    _mark_running(run, resume)
    import torch
    from transformers import set_seed
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    from llm_tool.training import environment, step_cuts, trackers

    environment.quiet_libraries()
    _settle_heap()

    threads = run.config.model.num_threads or (run.meta.environment.num_threads if resume else None)
    if threads:
        torch.set_num_threads(threads)
    run.stage("reading data")
    base = Path(run.meta.dataset_config.get("primary_file", ".")).parent
    data = prepare(run.config.dataset, base, seed=run.config.model.seed)
    if resume and run.meta.dataset_config.get("fingerprint_sha256") not in (None, data.record["fingerprint_sha256"]):
        raise SessionError(f"the data file changed since {run.sid} started: relaunch it instead of resuming")
    for problem in data.record.get("split_warnings", []):  # a group/time split left a class out of a split
        run.stage(f"warning: {problem}")
    device = _numerics(run, environment.detect_device(), resume)
    run.update(lambda m: _record_environment(m, device, environment.versions()))

    from llm_tool.catalog.resolve import load_model, load_tokenizer, model_max_length

    run.stage(f"loading tokenizer {run.config.model.selected_model}")
    tokenizer = load_tokenizer(run.config.model.selected_model)
    max_length = analyse(run, data, tokenizer, resume)
    set_seed(run.config.model.seed)
    run.stage("loading model")
    id2label = dict(enumerate(data.label_names))
    model = load_model(run.config.model.selected_model, num_labels=len(data.label_names), id2label=id2label,
                       multi_label=data.multi_label, attention=device.attention)
    _settle_heap()
    attention = getattr(model.config, "_attn_implementation", None)
    run.update(lambda m: setattr(m.environment, "attention", attention))
    if max_length > model_max_length(tokenizer, model.config):
        max_length = model_max_length(tokenizer, model.config)
        run.update(lambda m: m.model_config.update({"max_length_used": max_length}))
    cuts = step_cuts.resolve_cuts(run.config.model, run.meta.environment if resume else None)
    step_cuts.apply_cuts(model, cuts)
    run.update(lambda m: step_cuts.record_cuts(m.environment, cuts))
    plan = recorded_long_text(run, tokenizer, max_length)
    budget = prepare_settings(run, data, model, max_length, device.cuda, resume, started)
    tracking = trackers.open_tracking(run.store, run.meta, run.config.model.report_to)
    with trackers.tracker_environment(tracking):  # the trackers' callbacks read it when made and when training starts
        trainer = build_trainer(run, data, tokenizer, model, max_length, device, stop, tracking, plan)
        trainer.add_callback(budget)
        run.stage("training")
        _settle_heap()
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    stop.training = False
    if stop.reason is not None and trainer.state.global_step < trainer.state.max_steps:
        _mark_interrupted(run, stop.reason)
        return TrainingOutcome(run.sid, "interrupted", None, None, stop.reason)
    outcome = _finish(run, trainer, data, tokenizer, (max_length, plan), started, budget_reached=budget.reached)
    if tracking is not None and outcome.metrics:
        trackers.log_final(tracking, outcome.metrics, trainer.state.global_step)
    return outcome


def _settle_heap() -> None:
    """Move every object made so far (the libraries' millions, the loaded model) out of the collector's sight for
    the rest of the run: the Trainer's gc.collect() calls and the automatic collections then skip them (a tiny
    run's process: 6.0 s before, 4.5 s after). ``run_session`` hands them back when the run ends."""
    gc.freeze()


def _mark_running(run: Run, resume: bool) -> None:
    pid, created = process_identity()
    host = socket.gethostname()
    run.update(lambda meta: transitions.mark_running(meta, pid=pid, pid_create_time=created, host=host,
                                                     resume=resume))


def _numerics(run: Run, device: Device, resume: bool) -> RunDevice:
    """The device plus the precision and attention kernels of this run: a resume keeps the recorded ones (exact)."""
    from llm_tool.training.environment import attention_kernels, resolve_precision, with_numerics

    env, cfg = run.meta.environment, run.config.model
    if resume and env.precision:
        return with_numerics(device, env.precision, env.attention)
    if resume:  # started before precision was recorded: a CPU ran fp32 then, with the library's attention
        device = replace(device, bf16=device.bf16 and device.cuda)
    precision = resolve_precision(cfg.precision, device)
    return with_numerics(device, precision, attention_kernels(cfg.attention, precision, device))


def _record_environment(meta: SessionMetadata, device: RunDevice, versions: dict[str, str]) -> None:
    import torch

    env = meta.environment
    env.python, env.torch, env.transformers = versions["python"], versions["torch"], versions["transformers"]
    env.datasets, env.platform, env.device = versions["datasets"], versions["platform"], device.name
    env.num_threads = torch.get_num_threads()
    env.world_size = int(os.environ.get("WORLD_SIZE", "1"))
    env.precision = device.precision


def _finish(run: Run, trainer: Any, data: PreparedData, tokenizer: Any, encoding: tuple[int, LongText],
            started: float, *, budget_reached: bool = False) -> TrainingOutcome:
    from llm_tool.results.metrics import full_report
    from llm_tool.training.features import tokenize_split
    from llm_tool.training.long_text import per_text

    max_length, plan = encoding
    run.stage("evaluating the best model")
    reports: dict[str, Any] = {}
    outputs: dict[str, Any] = {}  # issue 11: raw predictions for llm_tool.results
    trainer.args.train_sampling_strategy = "random"  # issue 11: evaluation batches in dataset order, not shuffled
    trainer.compute_metrics = None  # the reports are made below, per text (chunks: the metric knows validation only)
    for name in ("validation", "test"):
        split = data.splits[name]
        if len(split) == 0:
            continue
        dataset = trainer.eval_dataset if name == "validation" else tokenize_split(
            split, tokenizer, data.label_names, data.multi_label, max_length, sort_by_length=True,
            plan=replace(plan, max_windows=None))
        output = trainer.predict(dataset)
        logits, labels, positions = output.predictions, output.label_ids, dataset["position"]
        if plan.strategy == "chunks":  # one row per text: the mean of its windows' probabilities
            logits, labels = per_text(logits, labels, positions, len(split), data.multi_label)
            positions = list(range(len(split)))
        outputs[name] = (logits, labels, positions)
        reports[name] = full_report(logits, labels, data.label_names, data.multi_label)
    if not run.writer:  # the other ranks took part in the evaluation above; rank 0 saves and writes
        return TrainingOutcome(run.sid, "completed", None, None)
    state = trainer.state
    history = epoch_history(state.log_history)
    train_stats: dict[str, Any] = next((e for e in reversed(state.log_history) if "train_runtime" in e), {})
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
    metrics["warnings"] = run_end.diagnosis(metrics, run.config.model.class_weights, data)
    run.stage(f"saving the model to {run.model_dir}")
    run.model_dir.mkdir(parents=True, exist_ok=True)
    metrics_path(run.model_dir).unlink(missing_ok=True)  # written again last: it marks a complete save
    trainer.save_model(str(run.model_dir))  # safetensors weights + config (id2label) + tokenizer
    write_label_mapping(run.model_dir, new_label_mapping(data.label_names, data.multi_label, max_length,
                                                         long_text=plan.record()))
    (run.model_dir / TRAINING_ARGS_FILE).unlink(missing_ok=True)  # a pickle: never kept in a model folder
    from llm_tool.results.after_training import write_results  # thresholds, per-language metrics, metrics.json last

    run.stage("writing results (predictions, thresholds, model card)")
    texts = {name: data.splits[name].texts for name in outputs}
    for problem in write_results(run.model_dir, metrics, outputs, texts, run.meta.to_dict()):
        run.stage(f"warning: {problem}")
    best = state.best_metric if state.best_metric is not None else reports.get("validation", {}).get("macro_f1")

    def apply(meta: SessionMetadata) -> None:
        status = _mark_completed(run, meta)
        status.best_f1 = best
        status.test_f1 = reports.get("test", {}).get("macro_f1")
        run.end_segment(meta)
        status.train_samples_per_second = train_stats.get("train_samples_per_second")
        status.current_step, status.total_steps = state.global_step, state.max_steps
        status.last_checkpoint = run_end.existing_checkpoint(run.checkpoints_dir) if keep else None
        status.extra["warnings"] = metrics["warnings"]
        status.extra["completion_reason"] = BUDGET_REASON if budget_reached else None
    keep = run.config.model.keep_checkpoints or budget_reached  # a run stopped by its budget can continue
    run.update(apply)  # completed first, checkpoints removed after: a kill in between loses nothing
    if not keep:
        paths.remove_session_tree(run.checkpoints_dir, run.sid, run.store.home)
    return TrainingOutcome(run.sid, "completed", run.model_dir, metrics, BUDGET_REASON if budget_reached else None)


def _mark_completed(run: Run, meta: SessionMetadata) -> ExecutionStatus:
    """The fields every completed session gets; returns its execution status for the caller's own fields."""
    status = transitions.mark_completed(meta, exit_code=EXIT_COMPLETED)
    status.models_trained = [run.config.model.selected_model]
    status.best_model = str(run.model_dir)
    return status


def _complete_saved(run: Run, metrics: dict[str, Any]) -> TrainingOutcome:
    """Resume of a run killed after its final model was saved: mark it completed, finish the clean-up."""
    keep = run.config.model.keep_checkpoints
    fields = run_end.completed_fields(metrics)

    def apply(meta: SessionMetadata) -> None:
        status = _mark_completed(run, meta)
        for key, value in fields.items():
            setattr(status, key, value)
        status.last_checkpoint = run_end.existing_checkpoint(run.checkpoints_dir) if keep else None
    run.update(apply)
    if not keep:
        paths.remove_session_tree(run.checkpoints_dir, run.sid, run.store.home)
    return TrainingOutcome(run.sid, "completed", run.model_dir, metrics)


def _mark_interrupted(run: Run, reason: str) -> None:
    _tidy(run, drop_incomplete=False)
    found = run_end.existing_checkpoint(run.checkpoints_dir)

    def apply(meta: SessionMetadata) -> None:
        transitions.mark_interrupted(meta, reason, exit_code=EXIT_INTERRUPTED).last_checkpoint = found
        run.end_segment(meta)
    run.update(apply)


def _tidy(run: Run, *, drop_incomplete: bool) -> None:
    if not run.writer:
        return
    with contextlib.suppress(Exception):  # tidying must never hide the error being recorded
        run_end.tidy_failed_run(run.model_dir, run.checkpoints_dir, run.sid, drop_incomplete=drop_incomplete)


def _mark_disk_full(run: Run, found: BaseException, log_to_file: bool) -> None:
    """Free what the cut-short save took (so the record can be written), then mark the session failed."""
    _tidy(run, drop_incomplete=True)
    error = run_end.disk_full_error(found, run.sid, run.model_dir, run_end.existing_checkpoint(run.checkpoints_dir))
    _mark_failed(run, error, log_to_file, tidy=False)


def _mark_failed(run: Run, exc: BaseException, log_to_file: bool, *, tidy: bool = True) -> None:
    if isinstance(exc, KeyboardInterrupt):
        _mark_interrupted(run, "stopped by Ctrl+C")
        return
    if tidy:
        _tidy(run, drop_incomplete=False)
    message = str(exc) if isinstance(exc, LlmToolError) else f"{type(exc).__name__}: {exc}"
    if log_to_file:
        with contextlib.suppress(OSError):  # the log may sit on a full disk
            log = run.store.log_path(run.sid)
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"[{now_iso()}] training failed\n{traceback.format_exc()}\n")
    found = run_end.existing_checkpoint(run.checkpoints_dir)

    code = EXIT_USER_ERROR if isinstance(exc, LlmToolError) and exc.exit_code == EXIT_USER_ERROR else EXIT_FAILED

    def apply(meta: SessionMetadata) -> None:
        transitions.mark_failed(meta, message, exit_code=code).last_checkpoint = found
        run.end_segment(meta)
    with contextlib.suppress(Exception):  # never hide the original error behind a bookkeeping one
        run.update(apply)

