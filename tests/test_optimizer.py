"""`model_config.optimizer`: adamw (the Trainer's default, unchanged), adafactor, sgd; an unknown name is one line
and exit 2; a run records it and its resume keeps it; a session written before the setting existed runs adamw;
it is a sweep axis."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLE_CSV
from tests.helpers import run_main, sample_rows, session_files, write_config, write_csv


def _config(home: Path, tiny_model: Path, **model_config: Any) -> Path:
    data = write_csv(home / "reviews.csv", sample_rows(SAMPLE_CSV, 40))
    return write_config(home / "config.json", data, tiny_model, num_threads=1, **model_config)


def _arguments(tmp_path: Path, **model_config: Any) -> Any:
    from llm_tool.config import ModelConfig
    from llm_tool.training.arguments import training_arguments

    return training_arguments(ModelConfig(**model_config), tmp_path, precision={}, steps_per_epoch=4, use_cpu=True)


def test_each_optimizer_maps_to_the_trainer_and_adamw_is_the_trainer_default(tmp_path: Path) -> None:
    from transformers import TrainingArguments

    from llm_tool.config import ModelConfig
    from llm_tool.training.arguments import OPTIMIZERS

    assert set(OPTIMIZERS) == set(typing.get_args(typing.get_type_hints(ModelConfig)["optimizer"]))
    default = TrainingArguments(output_dir=str(tmp_path), use_cpu=True)
    adamw = _arguments(tmp_path)  # no optimizer given: what every session ran before the setting existed
    assert ModelConfig().optimizer == "adamw"
    assert (adamw.optim, adamw.optim_args) == (default.optim, default.optim_args) == ("adamw_torch_fused", None)
    assert _arguments(tmp_path, optimizer="adafactor").optim == "adafactor"
    sgd = _arguments(tmp_path, optimizer="sgd")
    assert (sgd.optim, sgd.optim_args) == ("sgd", "momentum=0.9")


def test_an_unknown_optimizer_is_one_line_and_exit_2(isolated_home: Path, tiny_model: Path) -> None:
    config = _config(isolated_home, tiny_model)
    result = run_main("train", str(config), "--set", "model_config.optimizer=adam")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: model_config.optimizer must be one of 'adamw', 'adafactor', 'sgd', got 'adam'"]
    assert session_files(isolated_home) == []
    plan = run_main("train", str(config), "--set", "model_config.optimizer=adafactor", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert any(line.split("│")[1:3] == [" optimizer                        ", " adafactor" + " " * 33]
               for line in plan.stdout.splitlines() if "optimizer" in line), plan.stdout


def _optimizer_state(checkpoint: Path) -> tuple[dict[str, Any], set[str]]:
    """The first parameter group's settings and the per-parameter state names of a checkpoint's optimizer."""
    import torch

    state = torch.load(checkpoint / "optimizer.pt", weights_only=True)
    names = {name for per_param in state["state"].values() for name in per_param}
    return state["param_groups"][0], names


def test_sgd_trains_is_recorded_shown_and_kept_by_a_resume(isolated_home: Path, tiny_model: Path) -> None:
    import llm_tool

    config = _config(isolated_home, tiny_model, epochs=2, keep_checkpoints=True)
    # a budget spent after the first step: the run stops with a checkpoint and can be resumed (as after a stop)
    session = llm_tool.train(config, session_name="sgd-run", optimizer="sgd", time_budget="0.01s")
    assert session.status == "completed" and session.metadata.model_config["optimizer"] == "sgd"
    first = session.metadata.execution_status
    assert first.last_checkpoint and first.current_step == 1  # stopped after its first step
    group, names = _optimizer_state(Path(first.last_checkpoint))
    assert group["momentum"] == 0.9 and names == {"momentum_buffer"}  # torch's SGD, not AdamW (exp_avg)
    shown = run_main("sessions", "show", "sgd-run")
    assert any(line.split()[1:3] == ["optimizer", "│"] and "sgd" in line for line in shown.stdout.splitlines()), \
        shown.stdout

    session.resume(time_budget="1h")
    assert session.status == "completed" and session.metadata.model_config["optimizer"] == "sgd"
    resumed = session.metadata.execution_status
    assert resumed.current_step == 8 and resumed.last_checkpoint != first.last_checkpoint  # 2 epochs of 4 steps
    group, names = _optimizer_state(Path(str(resumed.last_checkpoint)))
    assert group["momentum"] == 0.9 and names == {"momentum_buffer"}


def test_a_session_written_before_the_setting_runs_adamw(isolated_home: Path, tiny_model: Path) -> None:
    import llm_tool
    from llm_tool.sessions.store import SessionStore

    config = _config(isolated_home, tiny_model, keep_checkpoints=True)
    saved = llm_tool.train(config, session_name="older", place="save")

    def forget(meta: Any) -> None:  # what a session file written before model_config.optimizer holds
        meta.model_config.pop("optimizer")

    SessionStore().update(saved.path, forget)
    assert "optimizer" not in json.loads(saved.path.read_text(encoding="utf-8"))["model_config"]
    shown = run_main("sessions", "show", "older")
    assert shown.returncode == 0 and any("optimizer" in line and "adamw" in line for line in shown.stdout.splitlines())
    again = llm_tool.Session.load("older").relaunch(place="save")
    assert again.metadata.model_config["optimizer"] == "adamw"
    saved.resume()  # runs the saved session: with today's optimizer, the Trainer's AdamW
    assert saved.status == "completed" and "optimizer" not in saved.metadata.model_config
    _, names = _optimizer_state(Path(str(saved.metadata.execution_status.last_checkpoint)))
    assert {"exp_avg", "exp_avg_sq"} <= names


def test_the_optimizer_is_a_sweep_axis(isolated_home: Path, tiny_model: Path) -> None:
    from llm_tool.api import Job, launch_sweep

    config = _config(isolated_home, tiny_model)
    jobs = [Job({"model_config.optimizer": name, "model_config.learning_rate": lr}, window=name)
            for name in ("adamw", "sgd") for lr in (1e-3, 3e-3)]
    layout = launch_sweep(jobs, base=config, name="opt", dry_run=True).layout()
    assert list(layout["window"]) == ["adamw", "adamw", "sgd", "sgd"]
    assert list(layout["title"]) == ["adamw_lr1e-3", "adamw_lr3e-3", "sgd_lr1e-3", "sgd_lr3e-3"]


def test_a_reference_session_s_optimizer_is_taken(isolated_home: Path) -> None:
    from llm_tool.sessions.foreign import settings_of

    reference = json.loads((Path(__file__).parent / "data" / "reference_training_metadata_v2.json").read_text())
    assert reference["training_params"]["optimizer"] == "adamw_torch"  # LLM_Tool records the Trainer's name
    assert settings_of(reference).raw["model_config"]["optimizer"] == "adamw"
    reference["training_params"]["optimizer"] = "SGD"
    assert settings_of(reference).raw["model_config"]["optimizer"] == "sgd"
    reference["training_params"]["optimizer"] = "lion_8bit"  # not one of ours: left out, and said so
    found = settings_of(reference)
    assert "optimizer" not in found.raw["model_config"]
    assert any(note.startswith("training_params.optimizer (") for note in found.unused)
