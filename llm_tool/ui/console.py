"""The shared Rich console and one-line messages (error, warning, success, info)."""

from __future__ import annotations

from rich.console import Console
from rich.theme import Theme

THEME = Theme({"primary": "bold cyan", "success": "bold green", "warning": "bold yellow", "error": "bold red",
               "muted": "dim"})
STATUS_STYLES = {"completed": "green", "running": "cyan", "pending": "yellow", "failed": "red",
                 "interrupted": "magenta", "unreadable": "red", "queued": "yellow", "retrying": "yellow"}

console = Console(theme=THEME, highlight=False)
err_console = Console(theme=THEME, stderr=True, highlight=False)


def error(message: str) -> None:
    err_console.print(f"[error]error:[/error] {message}", soft_wrap=True)


def warning(message: str) -> None:
    err_console.print(f"[warning]warning:[/warning] {message}", soft_wrap=True)


def success(message: str) -> None:
    console.print(f"[success]✓[/success] {message}", soft_wrap=True)


def info(message: str) -> None:
    console.print(message, soft_wrap=True)


def status_text(status: str) -> str:
    style = STATUS_STYLES.get(status, "white")
    return f"[{style}]{status}[/{style}]"
