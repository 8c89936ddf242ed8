"""What the studio asks about an existing session (beside questions.py, which is full): plain data, no prompts."""

from __future__ import annotations

from llm_tool.errors import ConfigError
from llm_tool.wizard.questions import Question


def validate_budget(text: str) -> str | None:
    from llm_tool.config.presets import parse_duration

    if not text.strip():
        return None
    try:
        parse_duration(text)
    except ConfigError as exc:
        return str(exc)
    return None


def time_budget_question(current: str) -> Question:
    """A new time budget for continuing a run its budget stopped (empty: the same as before)."""
    return Question("time_budget", "text", "Time budget for this part of the run", default="",
                    validate=validate_budget, convert=lambda text: text.strip(),
                    help=f"like 30m, 2h, 1h30m or 90s; empty: {current} again")
