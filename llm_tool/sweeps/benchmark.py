"""The parent session of a benchmark: workflow `benchmark`, its child sessions, and the best model once ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.errors import SessionError
from llm_tool.sessions import transitions
from llm_tool.sessions.create import create_session
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_status import sync_parent
from llm_tool.sweeps.queue import all_final
from llm_tool.sweeps.ranking import ConfigRow, best_config, ranking
from llm_tool.sweeps.state import SweepState

WORKFLOW = "benchmark"
CHILDREN_KEY = "child_sessions"  # training_session.child_sessions: the candidates' session ids


def create_parent(store: SessionStore, base: dict[str, Any], *, base_dir: Path, name: str,
                  models: list[str]) -> tuple[Path, str]:
    """A session that trains nothing itself: it records the benchmark (same base config) and, later, the winner."""
    path, _ = create_session(store, base, base_dir=base_dir, session_name=f"benchmark-{name}", sweep_id=name,
                             workflow=WORKFLOW)

    def apply(meta: SessionMetadata) -> None:
        meta.training_session.extra[CHILDREN_KEY] = []
        meta.extra["benchmark"] = {"sweep": name, "models": list(models),
                                   "ranked_by": "mean test macro-F1 over seeds; tied: 95% paired bootstrap interval "
                                                "of the difference to the best contains 0"}
        meta.output_paths.model_dir = meta.output_paths.checkpoints_dir = meta.output_paths.metrics_file = None
    meta = store.update(path, apply)
    return path, meta.session_id


def add_children(store: SessionStore, parent: Path, session_ids: list[str], models: list[str]) -> None:
    def apply(meta: SessionMetadata) -> None:
        children = meta.training_session.extra.setdefault(CHILDREN_KEY, [])
        children.extend(sid for sid in session_ids if sid not in children)
        info = meta.extra.setdefault("benchmark", {})
        known = info.setdefault("models", [])
        known.extend(m for m in models if m not in known)
        if meta.execution_status.status in ("completed", "failed"):
            transitions.reopen(meta)  # new candidates: ranked again when they finish
    store.update(parent, apply)


def leaderboard_entry(c: ConfigRow) -> dict[str, Any]:
    """One configuration as recorded on the parent session."""
    return {"rank": c.rank, "tied": c.tied, "best": c.best, "title": c.title, "model": c.model, "status": c.status,
            "split": c.split, "macro_f1": c.mean, "macro_f1_sd": c.sd, "n_seeds": len(c.scores),
            "seeds": c.seeds, "seed_scores": c.scores, "diff_to_best": c.diff, "ci_low": c.ci_low,
            "ci_high": c.ci_high, "mcnemar_p": c.p_value, "note": c.note, "session_id": c.best_session_id,
            "session_ids": c.session_ids, "train_runtime_seconds": c.train_runtime_seconds,
            "train_samples_per_second": c.train_samples_per_second}


def record_result(store: SessionStore, parent: Path, configs: list[ConfigRow], *,
                  final: bool) -> ConfigRow | None:
    """Write the ranking on the parent session; when ``final``, its status and best model too."""
    top = best_config(configs)

    def apply(meta: SessionMetadata) -> None:
        status = meta.execution_status
        status.extra["leaderboard"] = [leaderboard_entry(c) for c in configs]
        status.models_trained = list(dict.fromkeys(c.model for c in configs if "completed" in c.statuses
                                                   and c.model))
        if top is not None:
            status.best_model, status.best_f1 = top.model, top.mean
            status.test_f1 = top.mean if top.split == "test" else None
            status.extra["best_session"] = top.best_session_id
            status.extra["tied_with_best"] = [c.model for c in configs if c.tied]
        if final:  # its end time is the first time it ends (status and reports call this again)
            transitions.mark_ended(meta, succeeded=top is not None, failure="no candidate finished with metrics")
    try:
        store.update(parent, apply)
    except SessionError:
        return None
    return top


def finalize(state: SweepState, store: SessionStore | None = None,
             configs: list[ConfigRow] | None = None) -> ConfigRow | None:
    """Rank the candidates from their metrics on disk (or take ``configs``, already ranked) and record the result
    on the parent (if the sweep has one); a tasks run's parent gets its children's statuses and scores instead."""
    if state.kind == "curve":  # a learning curve's parent records the curve, not a ranking
        from llm_tool.sweeps import curve

        curve.finalize(state, store)
        return None
    parent = state.parent_session.session_file if state.parent_session else None
    if not parent:
        return None
    store = store or SessionStore(Path(state.home) if state.home else None)
    if state.kind == "tasks":  # a tasks run ranks nothing: its parent records each task's status and score
        sync_parent(store, Path(parent))
        return None
    from llm_tool.sweeps import strategy_record as strategies

    if strategies.is_strategies(state):  # language strategies compared: recorded on the parent, nothing ranked
        strategies.finalize(state, store)
        return None
    configs = ranking(state, store) if configs is None else configs
    return record_result(store, Path(parent), configs, final=all_final(state.jobs))
