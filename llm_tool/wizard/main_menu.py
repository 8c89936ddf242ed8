"""The studio's main menu and the Training Studio menu; Monitor and Environment check live here too."""

from __future__ import annotations

from typing import Any

from llm_tool.ui.console import console, info
from llm_tool.wizard import views
from llm_tool.wizard.flow import Context, guarded
from llm_tool.wizard.inference_menu import inference_menu
from llm_tool.wizard.new_session import new_session
from llm_tool.wizard.questions import MAIN_MENU, STUDIO_MENU, GoBack
from llm_tool.wizard.resume_menu import history_menu


def run_studio(ctx: Context | None = None) -> int:
    ctx = ctx or Context()
    ctx.show(views.header("llm-tool · Training Studio",
                          f"home: {ctx.store.home}\nchoose with ↑↓ or the number, then Enter · ← or Ctrl+C goes back"))
    while True:
        try:
            choice = ctx.ask(MAIN_MENU)
        except GoBack:
            break
        if choice == "exit":
            break
        guarded(ctx, ACTIONS[choice])
    info("bye")
    return 0


def training_studio(ctx: Context) -> None:
    while True:
        choice = ctx.ask(STUDIO_MENU)  # Back goes up to the main menu
        guarded(ctx, history_menu if choice == "resume" else new_session)


def sessions_history(ctx: Context) -> None:
    history_menu(ctx, "Sessions (history): the 20 most recent")


def environment_check(ctx: Context) -> None:
    from llm_tool.cli.doctor_cmd import show_checks
    from llm_tool.doctor.checks import run_checks

    with console.status("Checking the environment…"):
        checks = run_checks(ctx.store.home)
    show_checks(checks)


def _subcommand(parser: Any, path: list[str]) -> bool:
    """Whether ``llm-tool <path...>`` exists (tmux dispatch is built separately and may be absent)."""
    import argparse

    for name in path:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or name not in actions[0].choices:
            return False
        parser = actions[0].choices[name]
    return True


def monitor(ctx: Context) -> None:
    """The live dashboard of `llm-tool tmux monitor` when installed, else the table of running sessions."""
    from llm_tool.cli import build_parser

    parser = build_parser()
    if _subcommand(parser, ["tmux", "monitor"]):
        args = parser.parse_args(["tmux", "monitor"])
        try:
            args.func(args)
        except KeyboardInterrupt:
            console.print()
        return
    from llm_tool.sessions.views import list_rows
    from llm_tool.ui.tables import sessions_table

    rows = list_rows(ctx.store, limit=None, status="running")
    if not rows:
        info("no training is running now")
        return
    ctx.show(sessions_table(rows, "Running trainings"))
    info("a live dashboard comes with tmux dispatch (`llm-tool tmux monitor`)")


ACTIONS = {
    "studio": training_studio,
    "history": sessions_history,
    "monitor": monitor,
    "inference": inference_menu,
    "doctor": environment_check,
}
