"""Automatic settings (recorded with their reasons), presets, and a time budget that stops a run gracefully
and resumably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_tool.cli import main
from llm_tool.config.auto import auto_keys, choose
from llm_tool.config.presets import PRESETS, parse_duration
from llm_tool.errors import ConfigError
from tests.helpers import read_json, sample_rows, session_files, write_csv


def _config(home: Path, data: Path, model: Path, **model_config: object) -> Path:
    path = home / "cfg.json"
    path.write_text(json.dumps({"dataset_config": {"primary_file": str(data)},
                                "model_config": {"selected_model": str(model), "early_stopping": False,
                                                 **model_config}}))
    return path


def test_choices_follow_model_and_data_size() -> None:
    small = choose(["learning_rate", "epochs", "batch_size"], parameters=22_000_000, train_rows=2_400,
                   preset_name=None)
    assert small["learning_rate"].value == 1e-4 and "small model (22 M parameters)" in small["learning_rate"].why
    assert small["epochs"].value == 6 and small["batch_size"].value == 16
    base = choose(["learning_rate", "epochs", "batch_size"], parameters=110_000_000, train_rows=50_000,
                  preset_name="quick")
    assert base["learning_rate"].value == 4e-5 and base["batch_size"].value == 32
    assert base["epochs"].value == PRESETS["quick"].max_epochs
    tight = choose(["epochs"], parameters=110_000_000, train_rows=800, preset_name="standard",
                   seconds_per_epoch=100.0, budget_seconds=250.0)
    assert tight["epochs"].value == 2 and "fit(s) in the time budget" in tight["epochs"].why
    assert auto_keys({"epochs": 5, "learning_rate": None}) == ["learning_rate", "batch_size",
                                                              "early_stopping_patience"]


def test_durations() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("1h30m") == 5400 and parse_duration("90s") == 90
    assert parse_duration("2") == 120  # a plain number is minutes
    for bad in ("soon", "-5m", "0s", "30x", "99999h"):
        with pytest.raises(ConfigError):
            parse_duration(bad)


def test_auto_settings_are_applied_and_recorded(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 60))
    config = _config(isolated_home, data, tiny_model, batch_size=8, early_stopping_patience=1)
    assert main(["train", str(config), "--preset", "quick"]) == 0
    (path,) = session_files(isolated_home)
    model = read_json(path)["model_config"]
    assert model["auto"] == ["learning_rate", "epochs"] and model["preset"] == "quick"
    assert model["learning_rate"] == 1e-4 and model["epochs"] == 2 and model["batch_size"] == 8
    assert set(model["auto_settings"]) == {"learning_rate", "epochs"}
    assert "small model" in model["auto_settings"]["learning_rate"]["why"]
    assert model["time_budget_seconds"] == PRESETS["quick"].budget_seconds
    metrics = read_json(isolated_home / "models" / path.name.replace("training_metadata", "train")
                        .removesuffix(".json") / "metrics.json")
    assert metrics["global_step"] == 2 * -(-48 // 8)  # two epochs of the 48 training rows
    assert "auto learning_rate = 0.0001" in capsys.readouterr().out


def test_dry_run_shows_the_auto_settings(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 60))
    assert main(["train", str(_config(isolated_home, data, tiny_model)), "--dry-run", "--time-budget", "45m"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate" in out and "auto:" in out and "45 min" in out
    assert main(["train", str(_config(isolated_home, data, tiny_model)), "--time-budget", "soon"]) == 2
    assert "write it like 30m" in capsys.readouterr().err


def test_a_time_budget_stops_gracefully_and_resumably(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 60))
    config = _config(isolated_home, data, tiny_model, epochs=3, batch_size=8, learning_rate=3e-3)
    assert main(["train", str(config), "--time-budget", "1s"]) == 0  # spent before the first step ends
    (path,) = session_files(isolated_home)
    meta = read_json(path)
    status = meta["execution_status"]
    assert status["status"] == "completed" and status["completion_reason"] == "time budget reached"
    assert status["current_step"] == 1 and status["total_steps"] == 3 * 6
    sid = meta["training_session"]["session_id"]
    model_dir = isolated_home / "models" / sid
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "metrics.json").is_file()
    assert status["last_checkpoint"] and Path(status["last_checkpoint"]).name == "checkpoint-1"
    assert status["expected_seconds"] >= 0 and status["duration_seconds"] > 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"{sid} completed (time budget reached)" in out and f"sessions resume {sid} --time-budget" in out
    # more time: the run continues from its checkpoint to the end
    assert main(["sessions", "resume", sid, "--time-budget", "2h"]) == 0
    status = read_json(path)["execution_status"]
    assert status["status"] == "completed" and status["completion_reason"] is None
    assert status["current_step"] == 18
    assert not (model_dir / "checkpoints").exists()  # a finished run removes its checkpoints


@pytest.mark.usefixtures("interactive")
def test_the_studio_offers_presets_with_their_budgets(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from tests.wizard_helpers import Keys, pick, run_studio, to_data_file

    write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 60))
    # modes: 1 quick, 2 custom, 3 benchmark, 4-6 the presets quick/standard/thorough; a preset asks no setting
    ctx = run_studio(*to_data_file(), *[Keys.ENTER] * 4, Keys.ENTER, pick(5), Keys.UP + Keys.UP + Keys.ENTER,
                     str(tiny_model) + Keys.ENTER, "y\r", pick(3), pick(3), pick(6))
    assert "epochs" not in ctx.prompter.asked and ctx.prompter.asked.count("mode") == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "time budget │ 2h00m (then it stops gracefully" in out
    assert "(auto:" in out
    (path,) = session_files(isolated_home)
    model = read_json(path)["model_config"]
    assert model["preset"] == "standard" and model["training_mode"] == "quick"
    assert model["auto"] == ["learning_rate", "epochs", "batch_size", "early_stopping_patience"]


def test_mode_question_lists_presets_with_budgets() -> None:
    from llm_tool.wizard.questions import mode_question

    titles = [c.title for c in mode_question().choices]
    assert titles[3].startswith("Preset quick (time budget 10 min)")
    assert titles[4].startswith("Preset standard (time budget 2 h)")
    assert titles[5].startswith("Preset thorough (time budget 8 h)")
