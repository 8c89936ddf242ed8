"""The shared Rich console and one-line messages (error, warning, success, info)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.theme import Theme

from llm_tool.untrusted import LINE_LIMIT, VALUE_LIMIT, clean, shorten

THEME = Theme({"primary": "bold cyan", "success": "bold green", "warning": "bold yellow", "error": "bold red",
               "muted": "dim"})
STATUS_STYLES = {"completed": "green", "running": "cyan", "pending": "yellow", "failed": "red",
                 "interrupted": "magenta", "unreadable": "red", "queued": "yellow", "retrying": "yellow"}

console = Console(theme=THEME, highlight=False)
err_console = Console(theme=THEME, stderr=True, highlight=False)


def plain(message: object, *, limit: int = LINE_LIMIT) -> str:
    """A message as safe text: control characters visible, at most ``limit`` characters (cut in the middle)."""
    return shorten(clean(message), limit)


def _line(label: str, style: str, message: object) -> Text:
    """One message line; the message is plain text (a '[/x]' in a path is printed, never parsed as markup)."""
    return Text.assemble((label, style), " ", plain(message))


def error(message: str) -> None:
    err_console.print(_line("error:", "error", message), soft_wrap=True)


def warning(message: str) -> None:
    err_console.print(_line("warning:", "warning", message), soft_wrap=True)


def success(message: str) -> None:
    console.print(_line("✓", "success", message), soft_wrap=True)


def info(message: str, *, markup: bool = False) -> None:
    """Plain text by default; with ``markup=True`` console markup is parsed: escape embedded values with ``safe``."""
    console.print(message if markup else plain(message, limit=10 * LINE_LIMIT), soft_wrap=True)


def safe(value: object, limit: int = VALUE_LIMIT) -> str:
    """An untrusted value for markup text: control characters visible, markup escaped, short."""
    return escape(shorten(clean(value), limit))


def status_text(status: str) -> str:
    style = STATUS_STYLES.get(status, "white")
    return f"[{style}]{status}[/{style}]"
