"""Benchmark mode of a new session: several models, one summary, started in tmux as a sweep.

It builds the same sweep `llm-tool benchmark CONFIG --models A B` builds, through the same core functions
(``benchmark_from_config``, ``plan_sweep``, ``start_sweep``): the wizard only asks and shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.ui.console import console, error, info, success
from llm_tool.wizard import views
from llm_tool.wizard.draft import Draft
from llm_tool.wizard.flow import SKIPPED, Context
from llm_tool.wizard.launch import tmux_available
from llm_tool.wizard.questions import (
    TMUX_INSTALL,
    TYPE_MODEL,
    GoBack,
    benchmark_run_question,
    model_names_question,
    models_question,
)

if TYPE_CHECKING:
    from llm_tool.sweeps.state import SweepState

SOURCE = "Training Studio benchmark"  # how the sweep state and error messages name where the jobs came from


# ----- step 5: the candidates ------------------------------------------------------------------------
def step_models(ctx: Context, d: Draft) -> None:
    """A checkbox of the recommended models, then (when "Type…" is ticked) any others typed; at least two."""
    from llm_tool.wizard.analyse import recommend_models

    assert d.analysis is not None
    suggestions = recommend_models(d.analysis["languages"], d.analysis["long_documents"])
    names = [s[0] for s in suggestions]
    typed_before = [m for m in d.models if m not in names]
    while True:
        ticked = [m for m in d.models if m in names] + ([TYPE_MODEL] if typed_before else [])
        picked = ctx.ask(models_question(suggestions, ticked))
        chosen = [m for m in picked if m != TYPE_MODEL]
        if TYPE_MODEL in picked:
            try:
                chosen += ctx.ask(model_names_question(chosen, ", ".join(typed_before)))
            except GoBack:
                continue
        d.models = chosen
        return


# ----- steps 6 and 7: the summary (the parameters are always saved) ---------------------------------
def sweep_spec(ctx: Context, d: Draft) -> Any:
    """The benchmark's sweep spec: what `llm-tool benchmark` builds from a config file and --models."""
    from llm_tool.sweeps.spec import benchmark_from_config

    return benchmark_from_config(d.raw_config(), d.models, base_dir=ctx.store.home, source=SOURCE)


def new_sweep_name(ctx: Context, d: Draft) -> str:
    """`bench-<data file>-MMDD_HHMM`, made unique among this home's sweeps (a benchmark never appends)."""
    from llm_tool.dispatch.names import sanitize, unique_name
    from llm_tool.sweeps.naming import sweep_name
    from llm_tool.sweeps.state import SweepStore

    assert d.data_path is not None
    sweeps = SweepStore(ctx.store.home)
    base = sweep_name(f"bench-{sanitize(d.data_path.stem, limit=20)}-{datetime.now():%m%d_%H%M}")
    return unique_name(base, sweeps.exists)


def step_review(ctx: Context, d: Draft) -> object:
    from llm_tool.config import parse_config
    from llm_tool.doctor.models import usable_offline
    from llm_tool.sweeps.launch import plan_sweep
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.training.plan import make_plan

    spec = sweep_spec(ctx, d)  # every candidate's config validated, the data file checked
    d.sweep_name = new_sweep_name(ctx, d)
    plan = plan_sweep(spec, name=d.sweep_name, sweeps=SweepStore(ctx.store.home))
    candidates = []
    with console.status("Checking the data and each model, estimating durations and memory…"):
        for job in spec.jobs:
            config = parse_config(job.raw, source=f"{SOURCE}: {job.raw['model_config']['selected_model']}")
            candidates.append((config.model.selected_model, make_plan(config, ctx.store.home),
                               usable_offline(config.model.selected_model)))
    d.plans = [c[1] for c in candidates]
    shared = parse_config(spec.base, source=SOURCE).model.record()  # "auto": each candidate's run chooses
    ctx.show(views.benchmark_summary_table(spec.base, shared, candidates, sweep=plan.name,
                                           max_parallel=plan.max_parallel))
    info(views.BENCHMARK_SAVE_NOTE)
    d.save = True
    return SKIPPED  # nothing asked: Back from step 8 returns to the models


# ----- step 8: start it in tmux -------------------------------------------------------------------
def start_benchmark(ctx: Context, d: Draft) -> SweepState:
    """`llm-tool benchmark`'s path: spec, plan (a fresh sweep), sessions, tmux session and scheduler."""
    from llm_tool.dispatch.tmux_server import TmuxServer
    from llm_tool.sweeps.launch import plan_sweep, start_sweep
    from llm_tool.sweeps.state import SweepStore

    sweeps = SweepStore(ctx.store.home)
    spec = sweep_spec(ctx, d)
    if not d.sweep_name or sweeps.exists(d.sweep_name):
        d.sweep_name = new_sweep_name(ctx, d)
    plan = plan_sweep(spec, name=d.sweep_name, sweeps=sweeps)
    return start_sweep(spec, plan, server=TmuxServer(), sweeps=sweeps, store=ctx.store)


def step_launch(ctx: Context, d: Draft) -> None:

    from llm_tool.sweeps.launch import attach_command

    while True:
        available = tmux_available()
        if not available:
            error(f"a benchmark runs its candidates as a sweep in tmux, and tmux is not installed: {TMUX_INSTALL}")
        ctx.ask(benchmark_run_question(d.sweep_name or "?", len(d.models), tmux_available=available))
        try:
            state = start_benchmark(ctx, d)
        except InteractiveSessionError:
            raise
        except LlmToolError as exc:
            error(str(exc))
            continue
        name = state.name
        success(f"started benchmark {name}: {len(state.jobs)} candidates, at most {state.max_parallel} at "
                f"once, in tmux session {state.tmux_session}; it keeps running if you close this terminal")
        info(f"  watch it     llm-tool sweep attach {name}   (window 0 lists the candidates; detach: Ctrl-b d)")
        info(f"  leaderboard  llm-tool sweep status {name}   (ranked by test macro-F1; the best is recorded on "
             f"benchmark session {state.parent_session.session_id if state.parent_session else '-'})")
        info(f"  stop it      llm-tool sweep kill {name}   (jobs keep a checkpoint: `llm-tool sweep resume {name}`)")
        info(f"  or directly  {attach_command(state)}")
        return

