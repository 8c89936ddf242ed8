"""Automatic settings: learning rate, epochs, batch size and patience chosen from model and data size, each with
the reason recorded (the user's own settings always win)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_tool.config.presets import DEFAULT_PRESET, Preset, preset

AUTO_KEYS = ("learning_rate", "epochs", "batch_size", "early_stopping_patience")
AUTO = "auto"  # what a session records for a setting its run will choose, until the run has chosen it


@dataclass(frozen=True)
class AutoChoice:
    value: Any
    why: str


def auto_keys(model_section: dict[str, Any]) -> list[str]:
    """The settings a user's config leaves to the tool (absent, null, or "auto")."""
    return [key for key in AUTO_KEYS if model_section.get(key) in (None, AUTO)]


def marked_auto(model_section: dict[str, Any]) -> list[str]:
    """The settings a section writes as "auto" (a saved session, or a config asking the tool to choose)."""
    return [key for key in AUTO_KEYS if model_section.get(key) == AUTO]


def chosen_settings(model_section: dict[str, Any]) -> dict[str, AutoChoice]:
    """What a run chose, as recorded in ``auto_settings`` with the reasons (odd entries of a foreign file skipped)."""
    recorded = model_section.get("auto_settings")
    if not isinstance(recorded, dict):
        return {}
    return {key: AutoChoice(entry["value"], str(entry.get("why") or ""))
            for key, entry in recorded.items()
            if key in AUTO_KEYS and isinstance(entry, dict) and "value" in entry}


def auto_state(model_section: dict[str, Any]) -> dict[str, AutoChoice | None]:
    """Each setting a session leaves to the tool: its choice once the run made it, None while it is still "auto".
    Files written before "auto" was recorded hold a placeholder number there: the ``auto`` list says which."""
    listed = model_section.get("auto")
    listed = listed if isinstance(listed, list) else []
    chosen = chosen_settings(model_section)
    return {key: chosen.get(key) for key in AUTO_KEYS if key in listed or model_section.get(key) == AUTO}


def shown_setting(model_section: dict[str, Any], key: str) -> Any:
    """The value of ``key`` that runs (or ran): the chosen one, "auto" while the run has not chosen it yet."""
    state = auto_state(model_section)
    if key in state:
        choice = state[key]
        return AUTO if choice is None else choice.value
    return model_section.get(key)


def learning_rate_for(parameters: int) -> AutoChoice:
    """Small models need a larger step than base-size ones (3e-5–5e-5 suits ~100 M parameters)."""
    millions = parameters / 1e6
    if millions < 50:
        return AutoChoice(1e-4, f"small model ({millions:.0f} M parameters): a larger learning rate")
    if millions < 200:
        return AutoChoice(4e-5, f"base-size model ({millions:.0f} M parameters)")
    return AutoChoice(2e-5, f"large model ({millions:.0f} M parameters): a small learning rate keeps it stable")


def batch_size_for(train_rows: int) -> AutoChoice:
    if train_rows < 20_000:
        return AutoChoice(16, f"{train_rows} training rows: small batches give more updates")
    return AutoChoice(32, f"{train_rows} training rows: larger batches are faster at this size")


def epochs_for(train_rows: int, chosen: Preset, seconds_per_epoch: float | None,
               budget_seconds: float | None) -> AutoChoice:
    """More epochs for small data (early stopping ends them when validation F1 stops rising), within the budget."""
    wanted = 10 if train_rows < 1_000 else 6 if train_rows < 5_000 else 4 if train_rows < 20_000 else 3
    epochs = min(wanted, chosen.max_epochs)
    why = f"{train_rows} training rows, preset {chosen.name} (at most {chosen.max_epochs}); early stopping may end it"
    if seconds_per_epoch and budget_seconds:
        fits = max(1, int(budget_seconds // seconds_per_epoch))
        if fits < epochs:
            epochs = fits
            why += f"; {fits} fit(s) in the time budget (~{seconds_per_epoch:.0f} s per epoch)"
    return AutoChoice(epochs, why)


def choose(keys: list[str], *, parameters: int, train_rows: int, preset_name: str | None,
           seconds_per_epoch: float | None = None, budget_seconds: float | None = None) -> dict[str, AutoChoice]:
    """A value and a reason for each key in ``keys`` (a subset of AUTO_KEYS)."""
    chosen = preset(preset_name or DEFAULT_PRESET)
    makers = {
        "learning_rate": lambda: learning_rate_for(parameters),
        "batch_size": lambda: batch_size_for(train_rows),
        "epochs": lambda: epochs_for(train_rows, chosen, seconds_per_epoch, budget_seconds),
        "early_stopping_patience": lambda: AutoChoice(chosen.patience, f"preset {chosen.name}"),
    }
    return {key: makers[key]() for key in keys if key in makers}
