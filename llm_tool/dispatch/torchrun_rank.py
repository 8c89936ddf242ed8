"""One rank of a torchrun group (`python -m llm_tool.dispatch.torchrun_rank SESSION [--resume]`, started by torchrun):
train through the launch seam; rank 0 prints progress and writes, the other ranks stay silent."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from llm_tool.dispatch.torchrun import die_with_parent
from llm_tool.sessions.store import SessionStore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llm-tool-rank")
    parser.add_argument("session", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    die_with_parent()  # torchrun gone -> this rank gone
    from llm_tool.dispatch.seam import LaunchOptions, launch
    from llm_tool.errors import LlmToolError
    from llm_tool.training import ranks
    from llm_tool.training.event_log import PlainProgress

    store = SessionStore()
    show = PlainProgress(sys.stdout) if ranks.is_writer() else None
    try:
        outcome = launch(store, args.session.resolve(), "foreground", LaunchOptions(resume=args.resume),
                         on_event=show or (lambda _event: None))
    except LlmToolError as exc:
        if ranks.is_writer():
            print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if outcome.state == "interrupted" and not ranks.is_writer():
        return 0  # rank 0 records the stop: torchrun ends the whole group (SIGTERM) as soon as one rank exits
        # non-zero, which would cut rank 0's checkpoint and session record short
    return outcome.exit_code


if __name__ == "__main__":
    from llm_tool.process_end import exit_code

    raise SystemExit(exit_code(main()))
