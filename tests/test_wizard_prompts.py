"""The prompt seam with real questionary prompts fed keystrokes through prompt_toolkit's pipe input."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tool.errors import InteractiveSessionError
from llm_tool.wizard.prompts import Prompter
from llm_tool.wizard.questions import Choice, GoBack, Question, select, setting_question
from tests.helpers import write_csv
from tests.wizard_helpers import Keys, feed_wizard, replace

pytestmark = pytest.mark.usefixtures("interactive")


MENU = select("menu", "Pick", [Choice(f"item {i}", f"v{i}") for i in range(1, 13)], "v1")


def ask(question: Question, *keys: str) -> object:
    prompter = Prompter()
    with feed_wizard(*keys):
        return prompter.ask(question)


def test_select_answers_to_numbers_and_arrows() -> None:
    assert ask(MENU, Keys.ENTER) == "v1"
    assert ask(MENU, "3", Keys.ENTER) == "v3"
    assert ask(MENU, "12", Keys.ENTER) == "v12"  # two digits typed together form one number
    assert ask(MENU, Keys.DOWN, Keys.DOWN, Keys.ENTER) == "v3"
    assert ask(MENU, Keys.UP, Keys.UP, Keys.ENTER) == "v12"  # up from the first wraps to Back, then item 12
    assert ask(MENU, "99", Keys.ENTER) == "v9"  # no such number: the last digit alone counts


def test_back_choice_left_arrow_and_ctrl_c_go_back() -> None:
    for keys in (("13", Keys.ENTER), (Keys.LEFT,), (Keys.CTRL_C,)):
        with pytest.raises(GoBack):
            ask(MENU, *keys)


def test_default_and_disabled_choices() -> None:
    question = select("where", "Where", [Choice("a", "a", disabled="not now"), Choice("b", "b"), Choice("c", "c")],
                      "c")
    assert ask(question, Keys.ENTER) == "c"
    assert ask(question, "1", Keys.ENTER) == "c"  # disabled: the number does not move there
    assert ask(question, "2", Keys.ENTER) == "b"


def test_text_is_validated_and_reasked_until_valid() -> None:
    question = setting_question("epochs", {})
    assert ask(question, Keys.ENTER) == 3  # the default
    # 0 is refused (ModelConfig says why) and the prompt stays; then fixed.
    assert ask(question, replace("0"), Keys.BACKSPACE, "4", Keys.ENTER) == 4
    with pytest.raises(GoBack):
        ask(question, "7", Keys.CTRL_C)


def test_confirm_yes_no_default_and_back() -> None:
    question = Question("save", "confirm", "Save?", default=True)
    assert ask(question, Keys.ENTER) is True
    assert ask(question, "n", Keys.ENTER) is False
    assert ask(question, "y", Keys.ENTER) is True
    assert ask(question, "n", Keys.BACKSPACE, Keys.ENTER) is True  # the n taken back: the default
    with pytest.raises(GoBack):  # y alone does not answer: it waits for Enter (here the input ends)
        ask(question, "y")
    for key in (Keys.LEFT, Keys.CTRL_C):
        with pytest.raises(GoBack):
            ask(question, key)


def test_path_prompt_validates_and_converts(isolated_home: Path) -> None:
    from llm_tool.wizard.questions import data_path_question

    write_csv(isolated_home / "mydata.csv", [{"text": "a", "label": "b"}])
    question = data_path_question()
    assert ask(question, "missing.csv", Keys.ENTER, Keys.CTRL_U, "mydata.csv", Keys.ENTER) == \
        (isolated_home / "mydata.csv").resolve()


def test_path_prompt_starts_empty_typing_replaces_the_previous_path(isolated_home: Path) -> None:
    from llm_tool.wizard.questions import data_path_question

    write_csv(isolated_home / "old.csv", [{"text": "a", "label": "b"}])
    write_csv(isolated_home / "new.csv", [{"text": "a", "label": "b"}])
    question = data_path_question(str(isolated_home / "old.csv"))  # what was typed the last time
    assert ask(question, "new.csv", Keys.ENTER) == (isolated_home / "new.csv").resolve()  # not old.csvnew.csv
    assert ask(question, Keys.ENTER) == (isolated_home / "old.csv").resolve()  # empty: keeps the previous one


def test_input_running_out_is_back_not_a_hang() -> None:
    with pytest.raises(GoBack):
        ask(MENU)


def test_the_prompter_records_what_it_asked() -> None:
    prompter = Prompter()
    with feed_wizard("2", Keys.ENTER, Keys.LEFT):
        assert prompter.ask(MENU) == "v2"
        with pytest.raises(GoBack):
            prompter.ask(MENU)
    assert prompter.asked == ["menu", "menu"]


def test_non_interactive_refuses_to_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_TOOL_NON_INTERACTIVE", "1")
    with pytest.raises(InteractiveSessionError, match=r"llm-tool train CONFIG\.json"):
        Prompter().ask(MENU)


def test_checkbox_ticks_by_space_numbers_and_arrows_and_validates() -> None:
    def at_least_two(values: list[object]) -> str | None:
        return None if len(values) >= 2 else "tick at least 2"

    question = Question("pick", "checkbox", "Pick", default=("b",), validate=at_least_two, choices=(
        Choice("a", "a"), Choice("b", "b"), Choice("c", "c", disabled="not here"), Choice("d", "d")))
    assert ask(question, " ", Keys.ENTER) == ["a", "b"]  # the default tick stays; Space ticks the pointed one
    assert ask(question, "4", " ", "2", " ", Keys.ENTER, "1", " ", Keys.ENTER) == ["a", "d"]  # refused, then ok
    assert ask(question, Keys.UP, " ", Keys.ENTER) == ["b", "d"]  # up from the first wraps to the last
    assert ask(question, "3", " ", Keys.ENTER) == ["a", "b"]  # disabled: the number stays where it was (1)
    for keys in ((Keys.LEFT,), (Keys.CTRL_C,), (Keys.ENTER,)):  # Enter with one tick: refused, input ends
        with pytest.raises(GoBack):
            ask(question, "2", " ", *keys)
