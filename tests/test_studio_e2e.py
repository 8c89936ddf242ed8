"""`llm-tool studio` for real: in a tmux pane on a private socket, and without a terminal."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, read_json, session_files
from tests.tmux_helpers import needs_tmux, private_socket, reap_tmux_server
from tests.wizard_helpers import TmuxScreen, write_sample

TRAINING_TIMEOUT = 240.0


@pytest.fixture
def tmux_server() -> Iterator[Any]:
    libtmux = pytest.importorskip("libtmux")
    server = libtmux.Server(socket_name=private_socket())
    try:
        yield server
    finally:
        reap_tmux_server(server.socket_name)
        reap_tmux_server(f"{server.socket_name}-jobs")


def studio_pane(server: Any, home: Path) -> TmuxScreen:
    env = {"LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT),
           "LLM_TOOL_TMUX_SOCKET": f"{server.socket_name}-jobs"}
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (f"cd {shlex.quote(str(home))} && env -u LLM_TOOL_NON_INTERACTIVE -u TMUX {assignments} "
               f"{shlex.quote(sys.executable)} -m llm_tool studio; echo STUDIO_EXIT=$?; sleep 600")
    session = server.new_session(session_name="studio", window_command=command, x=200, y=50)
    return TmuxScreen(session.active_window.active_pane)


@needs_tmux
@pytest.mark.slow
def test_new_session_then_relaunch_through_the_menus(tmux_server: Any, isolated_home: Path, sample_csv: Path,
                                                      tiny_model: Path) -> None:
    home = isolated_home
    write_sample(home, sample_csv)
    screen = studio_pane(tmux_server, home)

    screen.expect("? Main menu")
    screen.choose("1")
    screen.expect("? Training Studio")
    screen.choose("2")
    screen.expect("? Step 1/8 · Data file")
    screen.choose(screen.number_of("data.csv"))
    screen.expect("data.csv · csv · 60 rows")
    screen.expect("? Step 2/8 · Text column")
    screen.press("Enter")
    screen.expect("? Step 2/8 · Label column")
    screen.press("Enter")
    screen.expect("Label distribution of 'label'")
    screen.expect("? Step 2/8 · Task type")
    screen.press("Enter")
    screen.expect("Step 3/8 · Analysis", timeout=90)
    screen.expect("? Step 3/8 · Train / validation / test split")
    screen.press("Enter")
    screen.expect("? Step 4/8 · Training mode")
    screen.choose(screen.number_of("Quick"))
    screen.expect("? epochs")
    screen.replace("1")
    screen.expect("? batch_size")
    screen.replace("8")
    screen.expect("? Step 5/8 · Model")
    screen.choose(screen.number_of("Type a model name or folder"))
    screen.expect("? Model name or folder")
    screen.type(str(tiny_model))
    screen.press("Enter")
    screen.expect("Step 6/8 · Summary", timeout=90)
    screen.expect("? Step 7/8 · Save training parameters to JSON? [Y/n]")
    screen.type("y")
    screen.press("Enter")
    screen.expect("? Step 8/8 · Where to run")
    screen.choose(screen.number_of("Here, in the foreground"))
    screen.expect("completed: model saved in", timeout=TRAINING_TIMEOUT)
    screen.expect("? Training Studio")

    (first,) = session_files(home)
    meta = read_json(first)
    sid = meta["training_session"]["session_id"]
    assert meta["dataset_config"]["primary_file"] == str(home / "data.csv")
    assert meta["dataset_config"]["text_column"] == "text" and meta["dataset_config"]["label_column"] == "label"
    assert meta["model_config"]["selected_model"] == str(tiny_model)
    assert meta["model_config"]["epochs"] == 1 and meta["model_config"]["batch_size"] == 8
    assert meta["model_config"]["training_mode"] == "quick"
    assert meta["execution_status"]["status"] == "completed"
    metrics = read_json(home / "models" / sid / "metrics.json")
    assert metrics["session_id"] == sid and metrics["labels"] == ["negative", "positive"]

    screen.choose("1")  # Resume/Relaunch Training
    screen.expect("Training sessions (20 most recent)")
    screen.expect("? Pick a session by its number")
    screen.choose("1")
    screen.expect(f"Session {sid}")
    screen.expect(f"? Session {sid} (completed): what next?")
    relaunch = screen.number_of("Relaunch with the same settings")
    assert "Resume from the last checkpoint" not in "\n".join(screen.lines()[screen.line:])  # nothing to resume
    screen.choose(relaunch)
    screen.expect("? Relaunch: where to run")
    screen.choose(screen.number_of("Here, in the foreground"))
    screen.expect(f"relaunching {sid} as")
    screen.expect("completed: model saved in", timeout=TRAINING_TIMEOUT)
    screen.expect("? Training Studio")
    screen.choose("3")
    screen.expect("? Main menu")
    screen.choose("6")
    screen.expect("STUDIO_EXIT=0")

    first_again, second = session_files(home)
    assert first_again == first
    child = read_json(second)
    assert child["training_session"]["parent_session"] == sid
    assert child["execution_status"]["status"] == "completed"
    assert child["model_config"]["selected_model"] == str(tiny_model)
    assert (home / "models" / child["training_session"]["session_id"] / "metrics.json").exists()


@needs_tmux
def test_ctrl_c_at_the_main_menu_asks_before_leaving(tmux_server: Any, isolated_home: Path) -> None:
    screen = studio_pane(tmux_server, isolated_home)
    screen.expect("? Main menu")
    screen.press("C-c")
    screen.expect("? Leave the Training Studio? [y/N]")
    screen.type("n")
    screen.press("Enter")
    screen.expect("? Main menu")  # stayed
    screen.press("C-c")
    screen.expect("? Leave the Training Studio?")
    screen.press("C-c")
    screen.expect("bye")
    screen.expect("STUDIO_EXIT=0")


def test_without_a_terminal_it_points_to_train(isolated_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LLM_TOOL_NON_INTERACTIVE"}
    result = subprocess.run([sys.executable, "-m", "llm_tool", "studio"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60, env=env, cwd=isolated_home)
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr and "llm-tool train CONFIG.json" in result.stderr
    assert "Traceback" not in result.stderr
    bare = subprocess.run([sys.executable, "-m", "llm_tool"], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60, env=env, cwd=isolated_home)
    assert bare.returncode == 2 and "llm-tool train CONFIG.json" in bare.stderr


def test_non_interactive_env_is_honoured(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from llm_tool.cli import main

    assert os.environ["LLM_TOOL_NON_INTERACTIVE"] == "1"  # set for every test by conftest
    assert main(["studio"]) == 2
    assert "LLM_TOOL_NON_INTERACTIVE is set" in capsys.readouterr().err
