"""Benchmark mode of a new session: several models, one summary, started as a sweep in tmux or on Slurm.

It builds the same sweep `llm-tool benchmark CONFIG --models A B` builds and starts it through the same sweep seam
(``benchmark_from_config``, ``seam.plan``, ``seam.start``): the wizard only asks where and shows."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.sweeps import seam
from llm_tool.ui.console import console, error, info, success
from llm_tool.wizard import languages_compare, views
from llm_tool.wizard.draft import Draft
from llm_tool.wizard.flow import SKIPPED, Context
from llm_tool.wizard.questions import (
    TMUX_INSTALL,
    TYPE_MODEL,
    Choice,
    GoBack,
    Question,
    benchmark_run_question,
    model_names_question,
    models_question,
)

if TYPE_CHECKING:
    from llm_tool.sweeps.seam import Place, StartOutcome

SOURCE = "Training Studio benchmark"  # how the sweep state and error messages name where the jobs came from


# ----- step 5: the candidates ------------------------------------------------------------------------
def step_models(ctx: Context, d: Draft) -> None:
    """A checkbox of the recommended models, then (when "Type…" is ticked) any others typed; at least two."""
    from llm_tool.wizard.analyse import recommend_models

    assert d.analysis is not None
    if languages_compare.ask_compare(ctx, d):  # one model, trained multilingual and per language
        return
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
    from llm_tool.catalog.offline import usable_offline
    from llm_tool.config import parse_config
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.training.plan import make_plan

    if d.compare_languages:
        return languages_compare.step_review(ctx, d, new_sweep_name(ctx, d))
    spec = sweep_spec(ctx, d)  # every candidate's config validated, the data file checked
    d.sweep_name = new_sweep_name(ctx, d)
    plan = seam.plan(spec, name=d.sweep_name, sweeps=SweepStore(ctx.store.home))
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


# ----- step 8: start it in tmux or on Slurm -----------------------------------------------------------
def run_question(d: Draft, places: dict[Place, str | None]) -> Question:
    """Where to run the benchmark: tmux, and Slurm (last, so tmux keeps its number) where sbatch is installed."""
    question = benchmark_run_question(d.sweep_name or "?", len(d.models), tmux_available=places["tmux"] is None)
    if d.compare_languages:  # one training per model and language: say how many
        question = dataclasses.replace(question, choices=tuple(dataclasses.replace(
            c, title=f"Start it in tmux now: sweep {d.sweep_name}, {len(d.plans)} trainings (both strategies)")
            for c in question.choices))
    if places["slurm"] is not None:
        return question
    what = f"{len(d.plans)} trainings (both strategies)" if d.compare_languages else \
        f"one training per model ({len(d.models)})"
    slurm = Choice(f"Submit it to the Slurm cluster: one job array, {what}",
                   "slurm", "queued with sbatch, at most --max-parallel at once; each job checkpoints and requeues "
                   "itself (sbatch settings: the config's slurm_config section)")
    return dataclasses.replace(question, choices=(*question.choices, slurm))  # default: Back, never a start


def start_benchmark(ctx: Context, d: Draft, place: Place = "tmux") -> StartOutcome:
    """`llm-tool benchmark`'s path: spec, plan (a fresh sweep), sessions, then the seam starts it at ``place``."""
    from llm_tool.sweeps.state import SweepStore

    sweeps = SweepStore(ctx.store.home)
    if not d.sweep_name or sweeps.exists(d.sweep_name):
        d.sweep_name = new_sweep_name(ctx, d)
    if d.compare_languages:
        return languages_compare.start(ctx, d, place)
    spec = sweep_spec(ctx, d)
    return seam.start(spec, place, name=d.sweep_name, sweeps=sweeps, store=ctx.store)


def step_launch(ctx: Context, d: Draft) -> None:
    while True:
        places = seam.available_places()
        if places["tmux"] is not None and places["slurm"] is not None:
            error(f"a benchmark runs its candidates as a sweep in tmux, and tmux is not installed: {TMUX_INSTALL}")
        elif places["tmux"] is not None:
            info(f"tmux is not installed ({TMUX_INSTALL}): the benchmark can run on the Slurm cluster")
        place: Place = ctx.ask(run_question(d, places))
        try:
            started = start_benchmark(ctx, d, place)
        except InteractiveSessionError:
            raise
        except LlmToolError as exc:
            error(str(exc))
            continue
        (languages_compare.show_started if d.compare_languages else _show_started)(started)
        return


def _show_started(started: StartOutcome) -> None:
    state, name = started.state, started.name
    if started.place == "slurm":
        success(f"submitted benchmark {name} to Slurm: {len(state.jobs)} candidates as job array "
                f"{', '.join(started.arrays)}, at most {state.max_parallel} at once; it keeps running if you close "
                "this terminal")
    else:
        success(f"started benchmark {name}: {len(state.jobs)} candidates, at most {state.max_parallel} at "
                f"once, in tmux session {state.tmux_session}; it keeps running if you close this terminal")
        info(f"  watch it     llm-tool sweep attach {name}   (window 0 lists the candidates; detach: Ctrl-b d)")
    info(f"  leaderboard  llm-tool sweep status {name}   (ranked by test macro-F1; the best is recorded on "
         f"benchmark session {state.parent_session.session_id if state.parent_session else '-'})")
    info(f"  stop it      llm-tool sweep kill {name}   (jobs keep a checkpoint: `llm-tool sweep resume {name}`)")
    if started.attach:
        info(f"  or directly  {started.attach}")
