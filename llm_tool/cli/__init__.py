"""Command line: thin commands over the core, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from llm_tool import __version__
from llm_tool.errors import ExitCode, LlmToolError
from llm_tool.process_end import exit_code


def build_parser() -> argparse.ArgumentParser:
    from llm_tool.cli import (
        doctor_cmd,
        evaluate_cmd,
        models_cmd,
        report_cmd,
        sessions_cmd,
        slurm_cmd,
        studio_cmd,
        sweep_cmd,
        tmux_cmd,
        train_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="llm-tool",
        description="Fine-tune transformer text classifiers without writing code. "
                    "Run with no command to open the Training Studio.",
    )
    parser.add_argument("--version", action="version", version=f"llm-tool {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (train_cmd, sessions_cmd, tmux_cmd, slurm_cmd, sweep_cmd, evaluate_cmd, report_cmd,
                   models_cmd, studio_cmd, doctor_cmd):
        module.register(commands)
    return parser


def entry() -> int:
    """The `llm-tool` command and `python -m llm_tool`: ``main`` in a process that ends with it."""
    return exit_code(main())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv or ["studio"])
    debug = args.debug or os.environ.get("LLM_TOOL_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except LlmToolError as exc:
        if debug:
            raise
        from llm_tool.ui.console import error

        error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        from llm_tool.ui.console import error

        error("interrupted")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the one funnel: a line, not a traceback (unless --debug)
        if debug:
            raise
        from llm_tool.ui.console import error

        error(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback; "
              "a training session's log has it too)")
        return ExitCode.FAILED
