"""Command-line options of the Slurm backend (`--backend slurm --partition ...`), shared by every way to start."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llm_tool.config.slurm import SlurmOptions

BACKENDS = ("foreground", "tmux", "slurm")


def add_slurm_options(p: argparse.ArgumentParser, *, backends: tuple[str, ...] = BACKENDS,
                      default: str | None = None) -> None:
    """``--backend`` plus the sbatch settings (they also come from a ``slurm_config`` section of the config)."""
    p.add_argument("--backend", choices=backends, default=default,
                   help=f"where to run: {', '.join(backends)} (slurm: a batch job that checkpoints and requeues "
                        "itself when preempted or near its time limit)")
    group = p.add_argument_group("Slurm (with --backend slurm)")
    group.add_argument("--partition", help="sbatch --partition")
    group.add_argument("--time", help="wall-clock limit, e.g. 12:00:00 or 1-00:00:00")
    group.add_argument("--gpus", type=int, help="GPUs per job")
    group.add_argument("--cpus", type=int, help="CPUs per task")
    group.add_argument("--mem", help="memory, e.g. 16G")
    group.add_argument("--account", help="sbatch --account")
    group.add_argument("--sbatch", dest="extra_sbatch", action="append", default=[], metavar="'--OPTION=VALUE'",
                       help="an extra sbatch option, e.g. --sbatch=--qos=short (repeatable)")


def slurm_options(args: argparse.Namespace) -> SlurmOptions | None:
    """The Slurm settings given on the command line (validated); refused without ``--backend slurm``."""
    from llm_tool.config.slurm import SlurmOptions
    from llm_tool.errors import ConfigError

    values = {name: getattr(args, name, None) for name in ("partition", "time", "gpus", "cpus", "mem", "account")}
    extra = tuple(getattr(args, "extra_sbatch", None) or ())
    given = [f"--{k}" for k, v in values.items() if v is not None] + (["--sbatch"] if extra else [])
    if getattr(args, "backend", None) != "slurm":
        if given:
            raise ConfigError(f"{given[0]} is a Slurm setting: add --backend slurm")
        return None
    # --yes (sessions resume/relaunch): a session's own extra lines are used even if not sealed on this machine
    return SlurmOptions(**values, extra_sbatch=extra, accept_unsealed=bool(getattr(args, "yes", False)))
