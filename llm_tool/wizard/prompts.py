"""The one module that calls questionary: turns Question specs into prompts; Back and Ctrl+C raise GoBack."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import questionary
from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.key_binding import KeyBindings, KeyBindingsBase, merge_key_bindings
from questionary.prompts.common import InquirerControl

from llm_tool.errors import InteractiveSessionError
from llm_tool.ui.interaction import NON_INTERACTIVE_ENV, is_interactive
from llm_tool.untrusted import clean
from llm_tool.wizard.questions import AT_BACK, DATA_SUFFIXES, Choice, GoBack, Question

SELECT_HELP = "(↑↓ or the number, then Enter · ← or Ctrl+C: back)"
SELECT_HELP_NO_BACK = "(↑↓ or the number, then Enter)"
CHECKBOX_HELP = "(Space: tick · ↑↓ or the number · Enter: done · ← or Ctrl+C: back)"
TEXT_HELP = "(Enter: accept · Ctrl+C: back)"
CONFIRM_HELP = "(y or n, then Enter · ← or Ctrl+C: back) "
NUMBER_PAUSE = 1.0  # seconds after which typed digits start a new number
_BACK_VALUE = object()


class Prompter:
    """Asks Questions at the terminal. ``asked`` records every question name in order (tests read it)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, question: Question) -> Any:
        if not is_interactive(need_terminal=False):  # prompt_toolkit may read keys a caller provides
            raise InteractiveSessionError(
                f"the studio needs an answer to '{question.message}' but {NON_INTERACTIVE_ENV} is set: "
                "use `llm-tool train CONFIG.json` instead")
        self.asked.append(question.name)
        try:
            if question.kind == "select":
                answer = self._select(question)
            elif question.kind == "checkbox":
                answer = self._checkbox(question)
            elif question.kind == "confirm":
                answer = self._confirm(question)
            else:
                answer = question.value_of(self._text(question))
        except (KeyboardInterrupt, EOFError):  # Ctrl+C, or Ctrl+D / input closed
            raise GoBack(question.name) from None
        if answer is _BACK_VALUE:
            raise GoBack(question.name)
        return answer

    # ----- kinds -------------------------------------------------------------------------------
    def _select(self, q: Question) -> Any:
        items: list[Choice] = list(q.choices)
        if q.back:
            items.append(Choice(q.back, _BACK_VALUE))
        width = len(str(len(items)))
        choices = [questionary.Choice(title=f"{i:>{width}}. {c.title}", value=i, disabled=c.disabled,
                                      description=c.hint or None)
                   for i, c in enumerate(items, start=1)]
        default = next((i for i, c in enumerate(items, start=1)
                        if not c.disabled and c.value is not _BACK_VALUE and c.value == q.default), None)
        if q.default == AT_BACK and q.back:
            default = len(items)
        if default is None:
            default = next((i for i, c in enumerate(items, start=1) if not c.disabled), None)
        help_text = SELECT_HELP if q.back else SELECT_HELP_NO_BACK
        question = questionary.select(_message(q), choices=choices, default=default,  # type: ignore[arg-type]
                                      instruction=help_text,
                                      use_jk_keys=False)
        control = _add_number_keys(question.application, items)

        def back(event: Any) -> None:
            control.pointed_at = len(items) - 1
            control.is_answered = True
            event.app.exit(result=len(items))
        if q.back:
            _add_keys(question.application, back, "left")
        index = question.unsafe_ask()
        return items[int(index) - 1].value

    def _checkbox(self, q: Question) -> Any:
        """Space ticks, Enter submits (validated on the list of ticked values); ← and Ctrl+C go back."""
        items: list[Choice] = list(q.choices)
        ticked = list(q.default or ())
        width = len(str(len(items)))
        choices = [questionary.Choice(title=f"{i:>{width}}. {c.title}", value=i, disabled=c.disabled,
                                      checked=c.value in ticked and not c.disabled, description=c.hint or None)
                   for i, c in enumerate(items, start=1)]

        def validate(indexes: list[str]) -> bool | str:  # the choice values: their numbers
            return q.check([items[int(i) - 1].value for i in indexes]) or True

        question = questionary.checkbox(_message(q), choices=choices, validate=validate, instruction=CHECKBOX_HELP,
                                        use_jk_keys=False)
        _add_number_keys(question.application, items)
        _add_keys(question.application, lambda event: event.app.exit(result=_BACK_VALUE), "left")
        answer = question.unsafe_ask()
        if answer is _BACK_VALUE:
            return answer
        return [items[int(i) - 1].value for i in answer]

    def _confirm(self, q: Question) -> Any:
        """y or n, then Enter: a y that answered alone would leave its Enter to pick the next menu's default."""
        instruction = ("[Y/n] " if q.default else "[y/N] ") + (q.help or CONFIRM_HELP)
        question = questionary.confirm(_message(q), default=bool(q.default), instruction=instruction,
                                       auto_enter=False)
        extra = KeyBindings()

        @extra.add("left", eager=True)
        def _back(event: Any) -> None:
            event.app.exit(result=_BACK_VALUE)

        question.application.key_bindings = _merged(question.application, extra)
        return question.unsafe_ask()

    def _text(self, q: Question) -> str:
        def validate(text: str) -> bool | str:
            return q.check(text) or True

        instruction = f"{q.help} {TEXT_HELP}".strip()
        if q.kind == "path":
            return self._path(q, instruction)
        question = questionary.text(_message(q), default=str(q.default or ""), validate=validate,
                                    instruction=instruction)
        return str(question.unsafe_ask())

    def _path(self, q: Question, instruction: str) -> str:
        """Starts empty, whatever was typed before: typing never appends to an old path. The previous path
        shows greyed as a placeholder and an empty Enter keeps it."""
        previous = str(q.default or "")

        def validate(text: str) -> bool | str:
            return q.check(text if text.strip() else previous) or True

        placeholder = FormattedText([("fg:ansibrightblack", clean(previous))]) if previous else None
        question = questionary.path(_message(q), default="", validate=validate, placeholder=placeholder,
                                    file_filter=_data_or_folder, complete_while_typing=False)
        print(f"  {instruction}" + (f" (empty: keep {clean(previous)})" if previous else ""))
        text = str(question.unsafe_ask())
        return text if text.strip() else previous


def _message(q: Question) -> str:
    return q.message if q.kind != "select" or not q.help else f"{q.message} — {q.help}"


def _data_or_folder(path: str) -> bool:
    return Path(path).is_dir() or path.lower().endswith(DATA_SUFFIXES)


def _merged(app: Application[Any], extra: KeyBindings) -> KeyBindingsBase:
    """The application's key bindings with ``extra`` added last (so they win)."""
    return merge_key_bindings([app.key_bindings, extra] if app.key_bindings else [extra])


def _add_keys(app: Application[Any], handler: Any, *keys: str) -> None:
    """Bind each of ``keys`` to ``handler`` (added last: it wins over the prompt's own binding of that key)."""
    extra = KeyBindings()
    for key in keys:
        extra.add(key, eager=True)(handler)
    app.key_bindings = _merged(app, extra)


def _add_number_keys(app: Application[Any], items: list[Any]) -> InquirerControl:
    """Digits point at the choice with that number (several digits typed quickly form one number)."""
    control = next(w.content for w in app.layout.find_all_windows() if isinstance(w.content, InquirerControl))
    typed: dict[str, Any] = {"digits": "", "at": 0.0}

    def point(number: int) -> bool:
        if 1 <= number <= len(items) and not items[number - 1].disabled:
            control.pointed_at = number - 1
            return True
        return False

    def on_digit(event: Any) -> None:
        now = time.monotonic()
        digits = typed["digits"] if now - float(typed["at"]) < NUMBER_PAUSE else ""
        digits += event.data
        if not point(int(digits)):
            digits = event.data
            point(int(digits))
        typed["digits"], typed["at"] = digits, now

    _add_keys(app, on_digit, *"0123456789")
    return control
