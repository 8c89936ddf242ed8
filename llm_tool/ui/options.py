"""Command-line options shared by every way to start a run (train, tmux start, sessions, sweep, benchmark)."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from llm_tool.config.presets import PRESETS, format_budget, parse_duration

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # what each cli module's register() fills


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """``--preset`` and ``--time-budget``."""
    presets = ", ".join(f"{p.name} ({format_budget(p.budget_seconds)}: {p.description})" for p in PRESETS.values())
    parser.add_argument("--preset", choices=list(PRESETS), help=f"session type: {presets}")
    parser.add_argument("--time-budget", metavar="DURATION",
                        help="stop gracefully (best model saved and evaluated) after this long, e.g. 30m, 2h")


def budget_sets(args: argparse.Namespace) -> list[str]:
    """The options as ``--set`` overrides of model_config (validated here: a bad duration is one line)."""
    sets = []
    if getattr(args, "preset", None):
        sets.append(f"model_config.preset={args.preset}")
    if getattr(args, "time_budget", None):
        parse_duration(args.time_budget)
        sets.append(f"model_config.time_budget={args.time_budget}")
    return sets


def add_nproc_option(parser: argparse.ArgumentParser) -> None:
    """``--nproc N``: data-parallel training with torchrun (in the foreground)."""
    parser.add_argument("--nproc", type=int, metavar="N",
                        help="train with N data-parallel processes (torchrun; gloo on CPU, NCCL on GPUs); "
                             "default: one per GPU when there are several, else 1; a resume uses the run's N")
