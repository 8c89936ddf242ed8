"""Attacks through text that came from files and names: nothing reaches the terminal as a sequence or markup."""

from __future__ import annotations

import json

import pytest

from llm_tool.untrusted import clean, shorten, shown
from tests.attack_helpers import cli, config, data_file, one_error, session_files, write_session

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;owned\x07",  # OSC 0: window title
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52: write the clipboard
    "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # C1 CSI
    "\x07\x08\x7f",  # bell, backspace, delete
    "abc\u202etxt.exe",  # right-to-left override
    "[/x]",  # closing tag of nothing: MarkupError
    "[link=http://evil]click[/link]",
    "[bold red]fake error[/]",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_clean_leaves_no_control_character(text):
    out = clean(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in out)


def test_shorten_and_shown_bound_values():
    assert len(shorten("x" * 10_000, 200)) <= 200
    assert len(shown({"a": [[[["b" * 5000]]]]})) <= 200
    assert shown("ok") == "ok"


def _hostile_session(home, stamp, text):
    return write_session(home, stamp, {
        "training_session": {"session_id": text, "session_name": text, "notes": [text], "workflow": text},
        "dataset_config": {"primary_file": f"/data/{text}.csv", "text_column": text},
        "model_config": {"selected_model": text, "training_mode": text},
        "execution_status": {"status": "failed", "error_message": text, "best_f1": text},
    })


def _no_sequences(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output and "\u202e" not in output


def test_list_show_compare_print_no_sequence_and_no_markup(capsys, isolated_home):
    for n, text in enumerate(HOSTILE):
        _hostile_session(isolated_home, f"20250101_0000{n:02d}", text)
    rc, out, err = cli(capsys, "sessions", "list")
    assert rc == 0 and "unreadable" not in out
    _no_sequences(out + err)
    assert "\\x1b" in out  # shown, visibly
    for number in range(1, len(HOSTILE) + 1):
        rc, out, err = cli(capsys, "sessions", "show", str(number))
        assert rc == 0, err
        _no_sequences(out + err)
    rc, out, err = cli(capsys, "sessions", "compare", "1", "2", "3")
    assert rc == 0, err
    _no_sequences(out + err)
    assert "[/x]" in cli(capsys, "sessions", "show", "3")[1].replace("\n", "")  # printed, not parsed
    rc, out, _ = cli(capsys, "sessions", "list", "--json")
    _no_sequences(out)
    json.loads(out)


@pytest.mark.parametrize("name", ["bad[/x].csv", "[link=http://evil]x[/link].csv", "a\x1b]0;t\x07.csv",
                                  "[bold]x[/bold].csv"])
def test_markup_and_sequences_in_a_data_path_stay_one_line(capsys, tmp_path, name):
    line = one_error(cli(capsys, "train", str(config(tmp_path, tmp_path / name)), "--dry-run"), "not found")
    assert "[/x]" in line or "[link" in line or "\\x1b" in line or "[bold]" in line


def test_markup_in_a_column_name(capsys, tmp_path):
    path = config(tmp_path, data_file(tmp_path), dataset={"text_column": "[/x]\x1b[2J"})
    one_error(cli(capsys, "train", str(path), "--dry-run"), "[/x]\\x1b[2J", "not found")


def test_error_never_prints_more_than_an_excerpt_of_a_file(capsys, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:" + "S" * 5000 + ":0:0\nline two\n")
    line = one_error(cli(capsys, "train", str(config(tmp_path, secret)), "--dry-run"), "not found")
    assert "S" * 300 not in line and "line two" not in line


def test_home_with_markup_trains_and_leaves_no_pending(capsys, tmp_path, monkeypatch, tiny_model):
    home = tmp_path / "odd[" / "x]home"  # the path holds '[/x]'
    home.mkdir(parents=True)
    assert "[/x]" in str(home)
    monkeypatch.setenv("LLM_TOOL_HOME", str(home))
    rc, out, err = cli(capsys, "train", str(config(tmp_path, data_file(tmp_path), model=tiny_model)))
    assert rc == 0, err
    assert "Traceback" not in err and "MarkupError" not in out + err
    statuses = [json.loads(p.read_text())["execution_status"]["status"] for p in session_files(home)]
    assert statuses == ["completed"]


def test_error_funnel_caps_the_line(capsys):
    from llm_tool.ui.console import error

    error("x" * 100_000 + "\x1b[2J")
    err = capsys.readouterr().err
    assert len(err) < 1100 and "\x1b" not in err and err.count("\n") == 1
