"""Whether someone can answer, and the plain yes/no and pick-a-number questions of the commands (not the studio)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from llm_tool.errors import InteractiveSessionError, UserError

NON_INTERACTIVE_ENV = "LLM_TOOL_NON_INTERACTIVE"
_TRUE = ("1", "true", "yes", "on")


def non_interactive_requested() -> bool:
    """``LLM_TOOL_NON_INTERACTIVE`` is set to 1/true/yes/on: never ask anything."""
    return os.environ.get(NON_INTERACTIVE_ENV, "").strip().lower() in _TRUE


def has_terminal() -> bool:
    """stdin and stdout are terminals (a full-screen view or ``tmux attach`` can run here)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def is_interactive(*, need_terminal: bool = True) -> bool:
    """Someone can answer: not switched off by ``LLM_TOOL_NON_INTERACTIVE`` and (unless ``need_terminal`` is
    False, for prompt_toolkit input a caller provides) stdin and stdout are terminals."""
    if non_interactive_requested():
        return False
    return not need_terminal or has_terminal()


def confirm(question: str, *, default: bool = False, assume_yes: bool = False, flag: str = "--yes") -> bool:
    """Ask yes/no. ``assume_yes`` answers yes at once; without anybody to ask, refuse naming ``flag``."""
    if assume_yes:
        return True
    if not is_interactive():
        raise InteractiveSessionError(f"{question} — nobody to answer here: add {flag}")
    from rich.prompt import Confirm

    from llm_tool.ui.console import console

    return bool(Confirm.ask(question, default=default, console=console))


def choose(title: str, options: Sequence[str], *, flag_hint: str) -> str:
    """Pick one of ``options`` by its number; without anybody to ask, refuse with ``flag_hint``."""
    if not is_interactive():
        raise InteractiveSessionError(f"{title} — nobody to answer here: {flag_hint}")
    from rich.prompt import IntPrompt

    from llm_tool.ui.console import console, info

    for number, option in enumerate(options, start=1):
        info(f"  {number}. {option}")
    choice = IntPrompt.ask(title, console=console)
    if not 1 <= choice <= len(options):
        raise UserError(f"no choice {choice}: give a number from 1 to {len(options)}")
    return options[choice - 1]
