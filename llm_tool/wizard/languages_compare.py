"""Benchmark mode's other comparison: one model for every language vs one model per language (the two language
strategies of a tasks run, on the same split), offered when the data has a column of language codes or texts in
several languages. It builds what `llm-tool benchmark CONFIG --language-strategies multilingual,per_language`
builds and starts it through the same calls (``plan_strategies``, ``seam.plan``, ``strategies.start``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from llm_tool.sweeps import seam
from llm_tool.ui.console import info, success
from llm_tool.wizard.draft import Draft
from llm_tool.wizard.flow import SKIPPED, Context
from llm_tool.wizard.questions import TYPE_MODEL, Choice, GoBack, Question, model_name_question, model_question, select

if TYPE_CHECKING:
    from llm_tool.sweeps.seam import Place, StartOutcome
    from llm_tool.sweeps.strategies import StrategiesPlan

SOURCE = "Training Studio benchmark"
COLUMN_NAMES = ("lang", "language", "langue", "lang_code", "language_code", "idioma", "sprache", "lingua")
CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z]{2,4})?$")  # en, fra, pt-BR
SAMPLE_ROWS = 2000


def language_column_of(table: Any) -> str | None:
    """A column named like a language column whose filled cells are language codes, with two codes or more."""
    for column in getattr(table, "columns", []):
        if str(column).strip().lower() not in COLUMN_NAMES:
            continue
        values = [str(row.get(column) or "").strip() for row in table.rows[:SAMPLE_ROWS]]
        filled = [v for v in values if v]
        if filled and all(CODE.match(v) for v in filled) and len({v.upper() for v in filled}) >= 2:
            return str(column)
    return None


def language_source(d: Draft) -> tuple[str | None, str] | None:
    """(language column, how it is said) when the data has one or its texts are in several detected languages."""
    column = language_column_of(d.table)
    if column:
        return column, f"its column '{column}'"
    detected = (d.analysis or {}).get("languages") or []
    if len(detected) >= 2:
        return None, "the languages detected in the texts (" + ", ".join(str(c) for c in detected[:6]) + ")"
    return None


def compare_question(said: str, default: str) -> Question:
    return select("compare", "Step 5/8 · What to compare", [
        Choice("Several models on the same data and split", "models", "one training per model, ranked by test "
               "macro-F1"),
        Choice("One model for every language vs one model per language", "languages",
               f"the same model trained both ways on the same split, languages from {said}; compared on the same "
               "test rows, overall and per language (paired bootstrap)"),
    ], default)


def ask_compare(ctx: Context, d: Draft) -> bool:
    """Ask what to compare when the data has languages; True when the language strategies are chosen (their one
    model is then asked too). GoBack from the first question goes to the previous step."""
    found = language_source(d)
    if found is None:
        d.compare_languages, d.language_column = False, None
        return False
    column, said = found
    while True:
        choice = ctx.ask(compare_question(said, "languages" if d.compare_languages else "models"))
        d.compare_languages = choice == "languages"
        d.language_column = column if d.compare_languages else None
        if not d.compare_languages:
            return False
        try:
            ask_model(ctx, d)
        except GoBack:
            continue
        return True


def ask_model(ctx: Context, d: Draft) -> None:
    """The one model both strategies train (the suggestions for the data's languages, or a typed one)."""
    from llm_tool.wizard.analyse import default_model, recommend_models

    assert d.analysis is not None
    suggestions = recommend_models(d.analysis["languages"], d.analysis["long_documents"])
    while True:
        choice = ctx.ask(model_question(suggestions, d.models[0] if d.models else
                                        default_model(suggestions, d.analysis["languages"])))
        if choice == TYPE_MODEL:
            try:
                choice = ctx.ask(model_name_question(d.models[0] if d.models else ""))
            except GoBack:
                continue
        d.models = [choice]
        return


def strategies_plan(ctx: Context, d: Draft) -> StrategiesPlan:
    from llm_tool.results.strategy_comparison import STRATEGIES
    from llm_tool.sweeps.strategies import plan_strategies

    return plan_strategies(d.raw_config(), list(STRATEGIES), base_dir=ctx.store.home, source=SOURCE)


def step_review(ctx: Context, d: Draft, sweep_name: str) -> object:
    """The trainings of both strategies (and the languages left to the fallback), checked; nothing created."""
    from llm_tool.sweeps.state import SweepStore
    from llm_tool.sweeps.strategies import sweep_spec

    plan = strategies_plan(ctx, d)
    planned = seam.plan(sweep_spec(plan), name=sweep_name, sweeps=SweepStore(ctx.store.home))
    d.sweep_name, d.plans = planned.name, [job.title for job in planned.jobs]
    info(f"[primary]Summary: the comparison that will run[/primary] (sweep {planned.name}, model "
         f"{d.models[0]}, at most {planned.max_parallel} at once):", markup=True)
    for job in planned.jobs:
        info(f"  {job.title}")
    languages = plan.arms["per_language"].languages
    for skipped in languages.skipped if languages else []:
        info(f"  no {skipped.language} model of {skipped.task} ({skipped.reason}): its rows go to the fallback")
    info("Both strategies are scored on the same test rows; the comparison is recorded on the benchmark session.")
    d.save = True
    return SKIPPED


def start(ctx: Context, d: Draft, place: Place) -> StartOutcome:
    """Plan again (a fresh sweep name when taken meanwhile), create the sessions and start the sweep."""
    from llm_tool.sweeps import strategies
    from llm_tool.sweeps.state import SweepStore

    sweeps = SweepStore(ctx.store.home)
    plan = strategies_plan(ctx, d)
    planned = seam.plan(strategies.sweep_spec(plan), name=d.sweep_name, sweeps=sweeps)
    return strategies.start(plan, place, planned=planned, sweeps=sweeps, store=ctx.store)


def show_started(started: StartOutcome) -> None:
    parent = started.state.parent_session.session_id if started.state.parent_session else "-"
    success(f"started the comparison of language strategies {started.name}: {len(started.state.jobs)} trainings "
            f"({'Slurm job array ' + ', '.join(started.arrays) if started.place == 'slurm' else 'tmux'}); it keeps "
            "running if you close this terminal")
    info(f"  comparison   llm-tool sweep status {started.name}   (recorded on benchmark session {parent})")
