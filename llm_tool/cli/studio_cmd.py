"""`llm-tool studio` (also `llm-tool` alone): the interactive Training Studio."""

from __future__ import annotations

import argparse
import os

from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    studio = commands.add_parser("studio", help="the interactive Training Studio (the default with no command)",
                                 description="Numbered menus that guide a new training step by step, resume or "
                                             "relaunch past sessions, test trained models and check the "
                                             "environment. Needs a terminal.")
    studio.set_defaults(func=run_studio)


def run_studio(args: argparse.Namespace) -> int:
    from llm_tool.errors import InteractiveSessionError
    from llm_tool.ui.interaction import NON_INTERACTIVE_ENV, is_interactive, non_interactive_requested

    if not is_interactive():
        reason = f"{NON_INTERACTIVE_ENV} is set" if non_interactive_requested() else "stdin/stdout is not a terminal"
        raise InteractiveSessionError(
            f"the Training Studio needs a terminal ({reason}): train from a config file instead with "
            "`llm-tool train CONFIG.json` (see `llm-tool train --help`)")
    from llm_tool.wizard.main_menu import open_studio

    debug = bool(getattr(args, "debug", False)) or os.environ.get("LLM_TOOL_DEBUG") == "1"
    return open_studio(debug=debug)
