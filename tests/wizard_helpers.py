"""Drive the studio: keystrokes into real questionary prompts (pipe input), and a tmux pane read like a screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tests.helpers import sample_rows, wait_until, write_csv


class Keys:
    ENTER = "\r"
    UP = "\x1b[A"
    DOWN = "\x1b[B"
    LEFT = "\x1b[D"  # back, in menus and yes/no questions
    CTRL_C = "\x03"
    CTRL_U = "\x15"  # clear the text typed so far
    BACKSPACE = "\x7f"


def pick(number: int) -> str:
    return f"{number}{Keys.ENTER}"


def replace(text: str) -> str:
    """Clear a text prompt's pre-filled default, type ``text`` and submit it."""
    return f"{Keys.CTRL_U}{text}{Keys.ENTER}"


@contextmanager
def feed_wizard(*keys: str) -> Iterator[None]:
    """Every prompt inside reads ``keys`` in order; once they run out the input is closed, so a prompt
    that still waits gets EOF (the studio takes it as Back and unwinds) instead of hanging the test."""
    with create_pipe_input() as pipe:
        pipe.send_text("".join(keys))
        pipe.close()
        with create_app_session(input=pipe, output=DummyOutput()):
            yield


def run_studio(*keys: str) -> Any:
    """The whole studio, in process, answering with ``keys``; returns its Context (``prompter.asked``...)."""
    from llm_tool.wizard.flow import Context
    from llm_tool.wizard.main_menu import run_studio as studio

    ctx = Context(debug=True)
    with feed_wizard(*keys):
        assert studio(ctx) == 0
    return ctx


def write_sample(home: Path, sample_csv: Path, rows: int = 60, name: str = "data.csv") -> Path:
    """A small balanced copy of the bundled sample in the home (where the studio looks for data files)."""
    return write_csv(home / name, sample_rows(sample_csv, rows))


# Keys from the main menu to each question of a new session (sample data, quick mode, typed model folder).
def to_data_file() -> list[str]:
    return [pick(1), pick(2)]


def to_where(model: Path, *, save: bool = True) -> list[str]:
    return [*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER,  # file, text, label, task
            Keys.ENTER, Keys.ENTER,  # split: the default (random, as the sample has none); mode: quick
            replace("1"), replace("8"),  # epochs, batch_size
            Keys.UP + Keys.UP + Keys.ENTER,  # model: "Type a model name or folder…" (just above Back)
            str(model) + Keys.ENTER, ("y" if save else "n") + Keys.ENTER]  # yes/no answers need Enter


NEW_SESSION_QUESTIONS = ["main_menu", "studio_menu", "data_file", "text_column", "label_column", "task", "split",
                         "mode", "epochs", "batch_size", "model", "model_name", "save", "where"]


class TmuxScreen:
    """A tmux pane read as a growing screen: ``expect`` waits for text below what was already matched."""

    def __init__(self, pane: Any) -> None:
        self.pane = pane
        self.line = 0

    def lines(self) -> list[str]:
        return list(self.pane.capture_pane(start="-"))

    def expect(self, text: str, timeout: float = 60.0) -> str:
        def found() -> tuple[int, str] | None:
            lines = self.lines()
            return next(((i, line) for i, line in enumerate(lines) if i >= self.line and text in line), None)
        try:
            index, line = wait_until(found, timeout=timeout, what=repr(text))
        except AssertionError:
            tail = "\n".join(self.lines()[-70:])
            raise AssertionError(f"{text!r} not shown within {timeout:g}s; the pane ends with:\n{tail}") from None
        self.line = index + 1
        return line

    def number_of(self, title: str, timeout: float = 10.0) -> str:
        """The number shown before ``title`` in the menu being asked now."""
        pattern = re.compile(r"(\d+)\. " + re.escape(title))

        def found() -> str | None:
            return next((m.group(1) for line in self.lines()[self.line:] if (m := pattern.search(line))), None)
        try:
            return wait_until(found, timeout=timeout, what=f"choice {title!r}")
        except AssertionError:
            tail = "\n".join(self.lines()[-40:])
            raise AssertionError(f"no choice {title!r} in the menu; pane:\n{tail}") from None

    def press(self, *keys: str) -> None:
        for key in keys:
            self.pane.send_keys(key, enter=False)

    def type(self, text: str) -> None:
        self.pane.send_keys(text, enter=False, literal=True)

    def replace(self, text: str) -> None:
        """Clear a text prompt's pre-filled default, type ``text`` and submit it."""
        self.press("C-u")
        self.type(text)
        self.press("Enter")

    def choose(self, number: str) -> None:
        self.type(number)
        self.press("Enter")
