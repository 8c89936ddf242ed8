"""The studio's main menu and the Training Studio menu; Monitor and Environment check live here too."""

from __future__ import annotations

from llm_tool.ui.console import console, info
from llm_tool.wizard import views
from llm_tool.wizard.flow import Context, guarded
from llm_tool.wizard.inference_menu import inference_menu
from llm_tool.wizard.new_session import new_session
from llm_tool.wizard.questions import LEAVE_STUDIO, MAIN_MENU, STUDIO_MENU, GoBack
from llm_tool.wizard.resume_menu import history_menu

MONITOR_INTERVAL = 5.0  # seconds between dashboard refreshes


def open_studio(*, debug: bool = False) -> int:
    """The studio's entry point for the CLI (`llm-tool`, `llm-tool studio`)."""
    return run_studio(Context(debug=debug))


def run_studio(ctx: Context | None = None) -> int:
    ctx = ctx or Context()
    ctx.show(views.header("llm-tool · Training Studio",
                          f"home: {ctx.store.home}\nchoose with ↑↓ or the number, then Enter · ← or Ctrl+C goes back"))
    while True:
        try:
            choice = ctx.ask(MAIN_MENU)
        except GoBack:  # one Ctrl+C too many (or the input closed): ask before leaving
            if wants_to_leave(ctx):
                break
            continue
        if choice == "exit":
            break
        guarded(ctx, ACTIONS[choice])
    info("bye")
    return 0


def wants_to_leave(ctx: Context) -> bool:
    """Ctrl+C at the main menu asks first: y (then Enter) or Ctrl+C again leaves, Enter or n stays."""
    try:
        return bool(ctx.ask(LEAVE_STUDIO))
    except GoBack:
        return True


def training_studio(ctx: Context) -> None:
    while True:
        choice = ctx.ask(STUDIO_MENU)  # Back goes up to the main menu
        guarded(ctx, history_menu if choice == "resume" else new_session)


def sessions_history(ctx: Context) -> None:
    history_menu(ctx, "Sessions (history): the 20 most recent")


def environment_check(ctx: Context) -> None:
    from llm_tool.doctor.checks import run_checks
    from llm_tool.ui.doctor_view import show_checks

    with console.status("Checking the environment…"):
        checks = run_checks(ctx.store.home)
    show_checks(checks)


def monitor(ctx: Context) -> None:
    """The live dashboard of every training (the same as `llm-tool tmux monitor`); Ctrl+C comes back here."""
    from llm_tool.monitor.dashboard import run_monitor

    try:
        run_monitor(interval=MONITOR_INTERVAL, once=False)
    except KeyboardInterrupt:
        console.print()


ACTIONS = {
    "studio": training_studio,
    "history": sessions_history,
    "monitor": monitor,
    "inference": inference_menu,
    "doctor": environment_check,
}
