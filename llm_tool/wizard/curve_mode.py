"""The results menu's learning curve: `llm-tool curve` on a trained session's settings, started through the same
sweep seam (``curve_from_config``, ``seam.start``); the studio only asks where and shows how to follow it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.markup import escape

from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.sweeps import seam
from llm_tool.sweeps.seam import Place, StartOutcome
from llm_tool.ui.console import error, info, success
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import Choice, Question, select

BACK = "back"
SOURCE = "Training Studio learning curve"


def curve_place_question(places: dict[Place, str | None]) -> Question:
    """Where to run the curve's trainings (10/25/50/100% of the rows): tmux or Slurm where available."""
    choices = [Choice("Run it in tmux here (one training per fraction, in the background)", "tmux",
                      "follow it with `llm-tool sweep attach`; the curve is drawn when the last run ends",
                      disabled=places["tmux"])]
    if places["slurm"] is None:
        choices.append(Choice("Submit it to the Slurm cluster (one job array)", "slurm",
                              "sbatch settings: the config's slurm_config section"))
    choices.append(Choice("Back", BACK))
    return select("curve_place", "Learning curve: train on 10%, 25%, 50% and 100% of the training rows — where?",
                  choices, BACK)


def start_curve(ctx: Context, session_path: Path, place: Place) -> StartOutcome:
    """The session's settings as the curve's base (its data, split and model), started at ``place``."""
    from llm_tool.dispatch.names import unique_name
    from llm_tool.sessions.operations import relaunch_config
    from llm_tool.sweeps.curve import curve_from_config, parse_fractions
    from llm_tool.sweeps.naming import sweep_name
    from llm_tool.sweeps.state import SweepStore

    raw, _ = relaunch_config(ctx.store, session_path)
    spec = curve_from_config(raw, parse_fractions(None), base_dir=ctx.store.home, source=SOURCE)
    sweeps = SweepStore(ctx.store.home)
    name = unique_name(sweep_name(f"curve-{datetime.now():%m%d_%H%M}"), sweeps.exists)
    return seam.start(spec, place, name=name, sweeps=sweeps, store=ctx.store)


def learning_curve(ctx: Context, model_dir: Path, session_path: Path | None) -> None:
    """Ask where, start the curve, and say how to follow it and where its result will be."""
    if session_path is None:
        error("a learning curve needs the model's training session (its data and settings)")
        return
    while True:
        place = ctx.ask(curve_place_question(seam.available_places()))
        if place == BACK:
            return
        try:
            started = start_curve(ctx, session_path, place)
        except InteractiveSessionError:
            raise
        except LlmToolError as exc:
            error(str(exc))
            continue
        break
    state, name = started.state, started.name
    parent = state.parent_session.session_id if state.parent_session else "-"
    success(f"started learning curve {escape(name)}: {len(state.jobs)} trainings, at most {state.max_parallel} at "
            f"once ({'Slurm job array' if started.place == 'slurm' else 'tmux session ' + state.tmux_session})")
    info(f"  follow it   llm-tool sweep status {escape(name)}")
    info(f"  the curve   llm-tool sessions show {parent}   (macro-F1 per fraction, the fit, the plot)")
