"""Time-boxed presets (quick, standard, thorough) and durations such as ``30m`` for ``--time-budget``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm_tool.errors import ConfigError

MAX_BUDGET_SECONDS = 14 * 24 * 3600  # two weeks: anything longer is a typo
BUDGET_REASON = "time budget reached"  # a run's completion reason when its budget stopped it


@dataclass(frozen=True)
class Preset:
    """A session type: how long it may take and how far it searches."""

    name: str
    budget_seconds: float
    max_epochs: int
    patience: int
    description: str


PRESETS = {
    "quick": Preset("quick", 10 * 60, 2, 1, "a working model and a baseline in minutes"),
    "standard": Preset("standard", 2 * 3600, 10, 2, "a good model: automatic settings, early stopping (default)"),
    "thorough": Preset("thorough", 8 * 3600, 20, 3, "the best this model can do: many epochs, patient stopping"),
}
DEFAULT_PRESET = "standard"
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``30m``, ``1.5h``, ``1h30m`` or a plain number of minutes; ConfigError otherwise."""
    cleaned = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        seconds = float(cleaned) * 60
    else:
        parts = _PART.findall(cleaned)
        if not parts or _PART.sub("", cleaned).strip():
            raise ConfigError(f"time budget {str(text)[:40]!r}: write it like 30m, 2h, 1h30m or 90s")
        seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if not 0 < seconds <= MAX_BUDGET_SECONDS:
        raise ConfigError(f"time budget {str(text)[:40]!r}: give between 1 second and 14 days")
    return seconds


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name[:40]!r}: choose {', '.join(PRESETS)}") from None


def format_budget(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes / 60:g} h" if minutes >= 120 else f"{minutes:g} min"
