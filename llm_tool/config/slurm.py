"""Slurm job settings (partition, time, GPUs, CPUs, memory, account, extra #SBATCH lines), validated."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from llm_tool.config.sbatch_options import check_sbatch_line
from llm_tool.config.slurm_seal import SEAL_KEY
from llm_tool.errors import ConfigError

SECTION = "slurm_config"  # optional top-level section of a config or session file
NAME_RE = re.compile(r"^[A-Za-z0-9_.,+-]{1,64}$")  # partition, account, qos-like names
TIME_RE = re.compile(r"^(\d+-)?\d{1,4}(:\d{1,2}){0,2}$")  # minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]
MEM_RE = re.compile(r"^\d{1,9}[KMGT]?$")
MAX_EXTRA = 20


@dataclass(frozen=True)
class SlurmOptions:
    """What to ask Slurm for; None leaves the cluster's default. ``extra_sbatch`` lines start with ``--``."""

    partition: str | None = None
    time: str | None = None
    gpus: int | None = None
    cpus: int | None = None
    mem: str | None = None
    account: str | None = None
    extra_sbatch: tuple[str, ...] = ()
    # --yes: a session's extra lines are used even without this user's seal (still allow-listed); never saved
    accept_unsealed: bool = False

    def __post_init__(self) -> None:
        check_options(self)

    def sbatch_lines(self) -> list[str]:
        """The ``#SBATCH`` arguments these options stand for (values already validated: no spaces, no quotes)."""
        pairs = [("--partition", self.partition), ("--time", self.time), ("--gpus", self.gpus),
                 ("--cpus-per-task", self.cpus), ("--mem", self.mem), ("--account", self.account)]
        return [f"{flag}={value}" for flag, value in pairs if value is not None] + list(self.extra_sbatch)

    def merged(self, override: SlurmOptions) -> SlurmOptions:
        """These options with every value set in ``override`` replacing ours (extra lines are added)."""
        changes: dict[str, Any] = {f.name: getattr(override, f.name) for f in dataclasses.fields(self)
                                   if f.name not in ("extra_sbatch", "accept_unsealed")
                                   and getattr(override, f.name) is not None}
        changes["extra_sbatch"] = (*self.extra_sbatch, *override.extra_sbatch)
        changes["accept_unsealed"] = self.accept_unsealed or override.accept_unsealed
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "accept_unsealed"}
        out["extra_sbatch"] = list(self.extra_sbatch)
        return {k: v for k, v in out.items() if v not in (None, [])}


def _check_text(name: str, value: str | None, pattern: re.Pattern[str], example: str) -> None:
    if value is not None and (not isinstance(value, str) or not pattern.match(value)):
        raise ConfigError(f"slurm {name} {_show(value)} is not valid: use e.g. {example}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 and text.isprintable() else "(a value with unusual characters)"


def check_extra_line(line: Any) -> None:
    """One allowed sbatch option, written in full, with a valid value (see config/sbatch_options.py)."""
    if not isinstance(line, str) or not line.startswith("--") or len(line) > 200:
        raise ConfigError(f"extra sbatch line {_show(line)} must be text starting with -- (e.g. \"--qos=short\")")
    if any(ch in line for ch in "\n\r\0") or not line.isprintable():
        raise ConfigError("an extra sbatch line contains a newline or a control character: one option per line")
    check_sbatch_line(line)


def check_options(options: SlurmOptions) -> None:
    _check_text("partition", options.partition, NAME_RE, "--partition gpu")
    _check_text("account", options.account, NAME_RE, "--account mylab")
    _check_text("time", options.time, TIME_RE, "--time 12:00:00 or --time 1-00:00:00")
    _check_text("memory", options.mem, MEM_RE, "--mem 16G")
    for name in ("gpus", "cpus"):
        value = getattr(options, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 4096):
            raise ConfigError(f"slurm {name} must be a positive whole number, got {_show(value)}")
    if not isinstance(options.extra_sbatch, tuple) or len(options.extra_sbatch) > MAX_EXTRA:
        raise ConfigError(f"at most {MAX_EXTRA} extra sbatch lines")
    for line in options.extra_sbatch:
        check_extra_line(line)


def options_from_section(section: Any, source: str = "slurm_config") -> SlurmOptions:
    """Validate a ``slurm_config`` mapping (from a config or session file) into SlurmOptions."""
    if section is None:
        return SlurmOptions()
    if not isinstance(section, dict):
        raise ConfigError(f"{source} must be an object, e.g. "
                          '{"partition": "gpu", "extra_sbatch": ["--qos=short"]}')
    names = {f.name for f in dataclasses.fields(SlurmOptions)} - {"accept_unsealed"}
    section = {k: v for k, v in section.items() if k != SEAL_KEY}  # checked by the caller that uses the lines
    unknown = [k for k in section if k not in names]
    if unknown:
        raise ConfigError(f"unknown key {_show(unknown[0])} in {source}: expected {', '.join(sorted(names))}")
    extra = section.get("extra_sbatch", [])
    if not isinstance(extra, list):
        raise ConfigError(f"{source}.extra_sbatch must be a list of lines like \"--qos=short\"")
    values = {k: v for k, v in section.items() if k != "extra_sbatch"}
    return SlurmOptions(**values, extra_sbatch=tuple(extra))
