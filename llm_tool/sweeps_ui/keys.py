"""Control-window keys as a pure function: a key and the list's state in, an action out (tested without a terminal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# curses key codes (ncurses values), repeated here so this module needs no terminal library.
KEY_DOWN, KEY_UP, KEY_ENTER, KEY_HOME, KEY_END, KEY_RESIZE = 258, 259, 343, 262, 360, 410
ENTER_KEYS = frozenset({KEY_ENTER, 10, 13})
HELP = "↑/↓ move  Enter jump to pane  k stop job  K stop its window  r refresh  0-9 window  q leave"


@dataclass(frozen=True)
class Action:
    """What a key asks for: ``kind`` is none, move, jump_pane, kill_job, kill_window, refresh, jump_window or leave."""

    kind: str
    job: str | None = None  # job key (never a row position: rows may change between refreshes)
    window: str | None = None
    index: int | None = None


class ListState:
    """The rows shown and the selected job, kept by job key across refreshes."""

    def __init__(self) -> None:
        self.rows: list[Mapping[str, Any]] = []
        self.selected: str | None = None
        self.message = ""

    def set_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rows = list(rows)
        keys = [r.get("key") for r in self.rows]
        if self.selected not in keys:
            self.selected = keys[0] if keys else None

    @property
    def position(self) -> int:
        keys = [r.get("key") for r in self.rows]
        return keys.index(self.selected) if self.selected in keys else 0

    def selected_row(self) -> Mapping[str, Any] | None:
        return self.rows[self.position] if self.rows else None

    def move(self, delta: int) -> None:
        if self.rows:
            position = max(0, min(len(self.rows) - 1, self.position + delta))
            self.selected = self.rows[position].get("key")


def _normalise(key: int | str) -> int | str:
    if isinstance(key, str) and len(key) == 1:
        return key
    if isinstance(key, int) and 32 <= key < 127:
        return chr(key)
    return key


def handle_key(state: ListState, key: int | str) -> Action:
    """Apply a key: moves change ``state``; everything else comes back as an action for the app to carry out."""
    key = _normalise(key)
    row = state.selected_row()
    if key == KEY_UP:
        state.move(-1)
        return Action("move")
    if key == KEY_DOWN:
        state.move(1)
        return Action("move")
    if key == KEY_HOME:
        state.move(-len(state.rows))
        return Action("move")
    if key == KEY_END:
        state.move(len(state.rows))
        return Action("move")
    if key in ENTER_KEYS or key in ("\n", "\r"):
        return Action("jump_pane", job=row.get("key")) if row else Action("none")
    if key == "k":
        return Action("kill_job", job=row.get("key")) if row else Action("none")
    if key == "K":
        return Action("kill_window", job=row.get("key"), window=row.get("window")) if row else Action("none")
    if key == "r" or key == KEY_RESIZE:
        return Action("refresh")
    if isinstance(key, str) and key.isdigit():
        return Action("jump_window", index=int(key))
    if key == "q":
        return Action("leave")
    return Action("none")
