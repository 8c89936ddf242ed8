"""The whole studio in process: real menus, real prompts (pipe input), real sessions and training."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llm_tool.sessions import SessionStore
from llm_tool.wizard.flow import Context
from llm_tool.wizard.questions import GoBack
from tests.helpers import read_json, session_files, wait_until, write_csv
from tests.tmux_helpers import needs_tmux
from tests.wizard_helpers import (
    NEW_SESSION_QUESTIONS,
    Keys,
    feed_wizard,
    pick,
    replace,
    run_studio,
    to_data_file,
    to_where,
    write_sample,
)

EXIT = [pick(6)]  # from the main menu
STUDIO_TO_EXIT = [pick(3), *EXIT]  # from the Training Studio menu


pytestmark = pytest.mark.usefixtures("interactive")


@pytest.fixture
def data(isolated_home: Path, sample_csv: Path) -> Path:
    return write_sample(isolated_home, sample_csv)


def test_main_menu_environment_check_and_exit(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = run_studio(pick(5), *EXIT)
    assert ctx.prompter.asked == ["main_menu", "main_menu"]
    out = capsys.readouterr().out
    assert "Environment check" in out and "transformers" in out and "bye" in out


def test_empty_history_and_inference_say_what_to_do(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = run_studio(pick(2), pick(4), pick(1), pick(1), *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == ["main_menu", "main_menu", "main_menu", "studio_menu", "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    assert "no training sessions yet" in out and "no completed session" in out


def test_back_at_every_step_returns_to_the_previous_one(data: Path, tiny_model: Path) -> None:
    # Forward to "where to run", then ← (Back) at every question back to the main menu; the input then ends.
    ctx = run_studio(*to_where(tiny_model), *[Keys.LEFT] * 10)
    assert ctx.prompter.asked == [
        *NEW_SESSION_QUESTIONS, "save", "model", "mode", "split", "task", "label_column", "text_column", "data_file",
        "studio_menu", "main_menu", "leave"]
    assert session_files(data.parent) == []  # nothing was created on the way back


def test_ctrl_c_at_the_main_menu_asks_before_leaving(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Ctrl+C, then Enter: stay; Ctrl+C, then y Enter: leave; Ctrl+C twice: leave.
    ctx = run_studio(Keys.CTRL_C, Keys.ENTER, Keys.CTRL_C, "n\r", Keys.CTRL_C, "y\r")
    assert ctx.prompter.asked == ["main_menu", "leave", "main_menu", "leave", "main_menu", "leave"]
    out = capsys.readouterr().out
    assert out.rstrip().endswith("bye")
    ctx = run_studio(Keys.CTRL_C, Keys.CTRL_C, pick(6))
    assert ctx.prompter.asked == ["main_menu", "leave"]  # the second Ctrl+C left: the 6 was never read


def test_back_choice_by_number(data: Path) -> None:
    # data file menu: 1 data.csv, 2 Type a path…, 3 ← Back
    ctx = run_studio(*to_data_file(), pick(3), *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == ["main_menu", "studio_menu", "data_file", "studio_menu", "main_menu"]


def test_ctrl_c_at_every_step_goes_back_one_level(data: Path, tiny_model: Path) -> None:
    ctx = run_studio(*to_where(tiny_model), *[Keys.CTRL_C] * 11)
    assert ctx.prompter.asked == [
        *NEW_SESSION_QUESTIONS, "save", "model", "mode", "split", "task", "label_column", "text_column", "data_file",
        "studio_menu", "main_menu", "leave"]


def test_ctrl_c_inside_sub_questions(data: Path, tiny_model: Path) -> None:
    keys = [*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER,
            replace("2"), Keys.CTRL_C,  # batch_size: back to epochs
            Keys.CTRL_C,  # epochs: back to the mode menu
            Keys.ENTER, Keys.ENTER, Keys.ENTER,  # quick again, epochs, batch_size as they were
            Keys.UP + Keys.UP + Keys.ENTER, Keys.CTRL_C,  # typed model name: back to the model menu
            Keys.CTRL_C, Keys.CTRL_C, Keys.CTRL_C, Keys.CTRL_C, Keys.CTRL_C, Keys.CTRL_C, Keys.CTRL_C,
            *STUDIO_TO_EXIT]
    ctx = run_studio(*keys)
    assert ctx.prompter.asked == [
        "main_menu", "studio_menu", "data_file", "text_column", "label_column", "task", "split", "mode",
        "epochs", "batch_size", "epochs", "mode", "epochs", "batch_size", "model", "model_name", "model",
        "mode", "split", "task", "label_column", "text_column", "data_file", "studio_menu", "main_menu"]


def test_unreadable_data_file_is_reported_and_asked_again(isolated_home: Path, data: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (isolated_home / "broken.jsonl").write_text('{"text": "ok", "label": "a"}\nnot json\n', encoding="utf-8")
    # menu: 1 broken.jsonl, 2 data.csv, 3 Type a path…, 4 ← Back
    ctx = run_studio(*to_data_file(), pick(1), pick(3), "missing.csv", Keys.ENTER, Keys.CTRL_U, "data.csv",
                     Keys.ENTER, Keys.LEFT, Keys.LEFT, *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == ["main_menu", "studio_menu", "data_file", "data_file", "data_path", "text_column",
                                  "data_file", "studio_menu", "main_menu"]
    captured = capsys.readouterr()
    assert "broken.jsonl line 2 is not valid JSON" in captured.err
    assert "data.csv · csv · 60 rows" in captured.out


def test_custom_mode_asks_every_setting_validated(data: Path) -> None:
    from llm_tool.config import parse_config
    from llm_tool.wizard.flow import Context
    from llm_tool.wizard.new_session import ask_settings
    from llm_tool.wizard.questions import HYPERPARAMETERS
    from tests.wizard_helpers import feed_wizard

    keys = [replace("0"), Keys.BACKSPACE, "2", Keys.ENTER,  # epochs: 0 refused, then 2
            Keys.ENTER,  # batch_size
            replace("abc"), replace("0.001"),  # learning_rate: text refused, then a number
            pick(2),  # early_stopping: no, so its patience is not asked
            *[Keys.ENTER] * (len(HYPERPARAMETERS) - 5)]
    ctx = Context()
    with feed_wizard(*keys):
        answers = ask_settings(ctx, "custom", {})
    assert ctx.prompter.asked == [n for n in HYPERPARAMETERS if n != "early_stopping_patience"]
    assert answers["epochs"] == 2 and answers["learning_rate"] == 0.001 and answers["early_stopping"] is False
    config = parse_config({"dataset_config": {"primary_file": str(data)},
                           "model_config": {"training_mode": "custom", **answers}})
    assert config.model.max_length is None and config.model.batch_size == 16


def test_without_saving_the_model_is_kept_but_no_session(data: Path, tiny_model: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    home = data.parent
    # where: 1 foreground, 2 tmux (disabled), 3 save only (disabled), 4 ← Back
    ctx = run_studio(*to_where(tiny_model, save=False), pick(1), *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*NEW_SESSION_QUESTIONS, "studio_menu", "main_menu"]
    assert session_files(home) == []
    assert not list((home / "logs" / "training_sessions").glob("*.log"))
    (model_dir,) = (home / "models").iterdir()
    assert read_json(model_dir / "metrics.json")["labels"] == ["negative", "positive"]
    assert "cannot be resumed" in capsys.readouterr().err


def test_a_stray_enter_after_yes_starts_nothing(data: Path, tiny_model: Path) -> None:
    # "y" then Enter answers step 7; one Enter too many lands on step 8, whose pointer is on "Save only".
    ctx = run_studio(*to_where(tiny_model)[:-1], "y\r\r", *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*NEW_SESSION_QUESTIONS, "studio_menu", "main_menu"]
    (path,) = session_files(data.parent)
    assert read_json(path)["execution_status"]["status"] == "pending"  # saved, not run
    assert not (data.parent / "models").exists() or not any((data.parent / "models").iterdir())


def test_resume_where_points_at_back(data: Path, tiny_model: Path) -> None:
    from llm_tool.wizard.questions import where_question

    question = where_question(saved=True, estimate_seconds=None, tmux_available=True, allow_save_only=False)
    with feed_wizard(Keys.ENTER), pytest.raises(GoBack):  # no place to run is a default
        Context().ask(question)


def test_save_only_then_the_printed_command_runs_it(data: Path, tiny_model: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    home = data.parent
    run_studio(*to_where(tiny_model), pick(3), *STUDIO_TO_EXIT)
    (path,) = session_files(home)
    meta = read_json(path)
    sid = meta["training_session"]["session_id"]
    assert meta["execution_status"]["status"] == "pending"
    assert meta["model_config"]["selected_model"] == str(tiny_model)
    assert meta["model_config"]["epochs"] == 1 and meta["model_config"]["batch_size"] == 8
    assert meta["training_session"]["workflow"] == "Training Studio - Quick"
    out = capsys.readouterr().out
    command = f"llm-tool sessions resume {sid}"
    assert command in out
    from llm_tool.cli import main

    assert main(command.split()[1:]) == 0  # the command line the studio printed, run as `llm-tool` runs it
    assert session_files(home) == [path]  # the saved session itself ran: no copy in the history
    assert read_json(path)["execution_status"]["status"] == "completed"


def _trained_session(home: Path, data: Path, model: Path, **model_config: object) -> Path:
    from llm_tool.sessions.create import create_session
    from llm_tool.training.engine import run_session

    raw = {"dataset_config": {"primary_file": str(data), "text_column": "text", "label_column": "label"},
           "model_config": {"selected_model": str(model), "epochs": 1, "batch_size": 8, "learning_rate": 1e-3,
                            "early_stopping": False, **model_config}}
    store = SessionStore()
    path, _ = create_session(store, raw, base_dir=home)
    assert run_session(store, path).status == "completed"
    return path


def test_resume_an_interrupted_session_then_test_its_model(data: Path, tiny_model: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    home = data.parent
    path = _trained_session(home, data, tiny_model, keep_checkpoints=True)
    store = SessionStore()

    def killed(meta: object) -> None:  # what a run killed before its final save leaves: checkpoints only
        meta.execution_status.status = "interrupted"  # type: ignore[attr-defined]
    store.update(path, killed)
    (home / "models" / store.read(path).session_id / "metrics.json").unlink()  # the final save never finished
    capsys.readouterr()
    # studio → resume/relaunch → session 1 → "Resume from the last checkpoint" → foreground;
    # then main menu → test a model → session 1 → type texts → two texts → empty line (back) → exit.
    ctx = run_studio(pick(1), pick(1), pick(1), Keys.ENTER, pick(1), *STUDIO_TO_EXIT[:1],
                     pick(4), pick(1), pick(1), "a great phone", Keys.ENTER, "awful", Keys.ENTER, Keys.ENTER, *EXIT)
    assert ctx.prompter.asked == ["main_menu", "studio_menu", "session", "action", "where", "studio_menu",
                                  "main_menu", "session", "model_action", "text", "text", "text", "main_menu"]
    meta = store.read(path)
    assert meta.execution_status.status == "completed"
    assert meta.execution_status.extra.get("resumed_at")
    out = capsys.readouterr().out
    assert "resuming from checkpoint-" in out
    assert out.count("Prediction") == 2 and "labels: negative, positive" in out


def test_picking_a_session_shows_its_results_not_a_dump(data: Path, tiny_model: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _trained_session(data.parent, data, tiny_model)
    sid = SessionStore().read(path).session_id
    capsys.readouterr()
    # history → session 1 → the results; actions: 1-3 relaunch…, 4 every recorded parameter, 5 back
    ctx = run_studio(pick(2), pick(1), Keys.LEFT, Keys.LEFT, *EXIT)
    assert ctx.prompter.asked == ["main_menu", "session", "action", "session", "main_menu"]
    out = capsys.readouterr().out
    assert f"Session {sid}" in out and "test macro-F1" in out and "Per class (test)" in out
    assert "Confusion matrix (test)" in out and f"llm-tool sessions show {sid} --all" in out
    assert "model_config.learning_rate" not in out and "execution_status.pid" not in out  # no raw dump
    run_studio(pick(2), pick(1), pick(4), Keys.LEFT, Keys.LEFT, *EXIT)  # the raw fields, when asked for
    assert "model_config.learning_rate" in capsys.readouterr().out


def test_a_run_stopped_by_its_time_budget_continues_from_the_studio(data: Path, tiny_model: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _trained_session(data.parent, data, tiny_model, epochs=2, time_budget="1s")
    status = read_json(path)["execution_status"]
    assert status["completion_reason"] == "time budget reached" and status["current_step"] < status["total_steps"]
    # history → session 1 → 1 "Continue training" → a new budget (a wrong one is refused first) → foreground
    ctx = run_studio(pick(2), pick(1), pick(1), "soon\r", Keys.CTRL_U, "2h\r", pick(1), *EXIT)
    assert ctx.prompter.asked == ["main_menu", "session", "action", "time_budget", "where", "main_menu"]
    meta = read_json(path)
    status = meta["execution_status"]
    assert status["status"] == "completed" and status["completion_reason"] is None
    assert status["current_step"] == status["total_steps"] and meta["model_config"]["time_budget"] == "2h"
    assert "continuing after the time budget from checkpoint-" in capsys.readouterr().out


def test_evaluate_columns_are_picked_from_the_file(tmp_path: Path) -> None:
    from llm_tool.data.formats import read_table
    from llm_tool.wizard.results_menu import ask_columns

    table = read_table(write_csv(tmp_path / "eval.csv", [
        {"id": "1", "body": "a long enough text here", "topic": "x", "a": "1", "b": "0"},
        {"id": "2", "body": "another longer text here", "topic": "y", "a": "0", "b": "1"}]))

    def answer(trained: dict[str, object], *keys: str) -> object:
        ctx = Context()
        with feed_wizard(*keys):
            return ask_columns(ctx, table, trained)
    as_trained = {"text_column": "body", "label_column": "topic"}
    assert answer(as_trained, Keys.ENTER, Keys.ENTER) == ("body", "topic", None)  # preselected
    # text: 1 id, 2 body, 3 topic, 4 a, 5 b; label (without body): 1 id, 2 topic, 3 a, 4 b
    assert answer(as_trained, pick(3), pick(1)) == ("topic", "id", None)
    assert answer({"text_column": "text", "label_column": "label"}, Keys.ENTER, Keys.ENTER) == ("body", "topic", None)
    flags = {"text_column": "body", "label_columns": ["a", "b"]}  # 1: the 0/1 columns it was trained on
    assert answer(flags, Keys.ENTER, Keys.ENTER) == ("body", None, ["a", "b"])
    with feed_wizard(Keys.ENTER, Keys.LEFT), pytest.raises(GoBack):
        ask_columns(Context(), table, as_trained)


def test_relaunch_with_changed_settings_and_another_file(data: Path, isolated_home: Path) -> None:
    from llm_tool.sessions.create import create_session

    other = Path(shutil.copy(data, isolated_home / "other.csv"))
    raw = {"dataset_config": {"primary_file": str(data)}, "model_config": {"epochs": 3}}
    store = SessionStore()
    parent, _ = create_session(store, raw, base_dir=isolated_home)
    sid = store.read(parent).session_id
    # pending session actions: 1 start, 2 relaunch, 3 another data file, 4 changed settings, 5 back.
    # settings menu: 1 Done, 2 selected_model, 3 epochs, ...; where: 3 save only.
    # another data file: its columns, task, split and a summary are asked again (Enter keeps each default)
    ctx = run_studio(pick(1), pick(1), pick(1), pick(4), pick(3), replace("5"), pick(1), pick(3),
                     pick(1), pick(1), pick(3), pick(2), *[Keys.ENTER] * 5, pick(3), *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == ["main_menu", "studio_menu", "session", "action", "settings", "epochs",
                                  "settings", "where", "studio_menu", "session", "action", "data_file",
                                  "text_column", "label_column", "task", "split", "relaunch_summary", "where",
                                  "studio_menu", "main_menu"]
    files = session_files(isolated_home)
    assert len(files) == 3
    changed, moved = (store.read(p) for p in files[1:])
    assert changed.training_session.parent_session == sid and changed.model_config["epochs"] == 5
    assert changed.training_session.workflow == "Training Studio - Relaunch"
    assert moved.training_session.parent_session == store.read(files[1]).session_id
    assert moved.dataset_config["primary_file"] == str(other)
    assert moved.model_config["epochs"] == 5


@needs_tmux
def test_run_in_tmux_from_the_wizard(tmux_socket: str, data: Path, tiny_model: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    # where: 1 foreground, 2 tmux, 3 save only
    run_studio(*to_where(tiny_model), pick(2), *STUDIO_TO_EXIT)
    out = capsys.readouterr().out
    assert "started tmux session" in out and "keeps running if you close this terminal" in out
    assert f"-L {tmux_socket}" in out
    (path,) = session_files(data.parent)
    status = wait_until(lambda: read_json(path)["execution_status"]["status"] in ("completed", "failed")
                        and read_json(path)["execution_status"]["status"], timeout=240, what="the tmux job to end")
    assert status == "completed"


def test_monitor_shows_what_runs(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = run_studio(pick(3), *EXIT)
    assert ctx.prompter.asked == ["main_menu", "main_menu"]
    out = " ".join(capsys.readouterr().out.split())
    # the tmux dashboard, one snapshot (stdout is not a terminal), of the test's own empty tmux server
    assert "llm-tool trainings in tmux" in out and "0 job(s)" in out
    assert "no trainings in tmux: start one with `llm-tool tmux start --config CFG`" in out


def test_multi_label_is_detected_and_saved(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.helpers import sample_rows

    sets = ["sound|price", "battery", "sound", "price|battery", "sound|battery|price"]
    rows = [{"text": r["text"], "labels": sets[i % len(sets)]} for i, r in enumerate(sample_rows(sample_csv, 40))]
    write_csv(isolated_home / "multi.csv", rows)
    ctx = run_studio(*to_where(tiny_model), pick(3), *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*NEW_SESSION_QUESTIONS, "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    assert "Label distribution of 'labels'" in out and "(multi-label)" in out
    assert "classes    3 (multi-label)" in out
    (path,) = session_files(isolated_home)
    dataset = read_json(path)["dataset_config"]
    assert dataset["strategy"] == "multi-label" and dataset["label_column"] == "labels"
