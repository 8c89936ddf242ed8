"""training_session.workflow records where a session was started: `train`, `tmux start`, a relaunch, a sweep job,
a benchmark candidate, the studio (not "Training Studio - Quick" for all of them)."""

from __future__ import annotations

from pathlib import Path

from llm_tool.sessions import SessionStore
from tests.helpers import read_json, run_main, sample_rows, session_files, write_csv
from tests.tmux_helpers import make_config, needs_tmux


def _workflows(home: Path) -> list[str]:
    return [read_json(path)["training_session"]["workflow"] for path in session_files(home)]


def test_train_and_relaunch_on_the_command_line(isolated_home: Path, tiny_model: Path, sample_csv: Path) -> None:
    config = make_config(isolated_home / "cfg", "c.json", tiny_model, sample_csv, rows=40)
    assert run_main("train", str(config)).returncode == 0
    assert _workflows(isolated_home) == ["llm-tool train"]
    result = run_main("sessions", "relaunch", "1")
    assert result.returncode == 0, result.stderr
    assert _workflows(isolated_home) == ["llm-tool train", "llm-tool sessions relaunch"]


def test_sweep_jobs_and_benchmark_candidates(isolated_home: Path, tiny_model: Path, sample_csv: Path) -> None:
    from llm_tool.sweeps.spec import benchmark_from_config, parse_sweep
    from llm_tool.sweeps.start_stop import create_job_sessions, plan_sweep

    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 40))
    base = {"dataset_config": {"primary_file": str(data)}, "model_config": {"selected_model": str(tiny_model)}}
    store = SessionStore()
    sweep = parse_sweep({"base": base, "grid": {"model_config.epochs": [1, 2]}}, base_dir=isolated_home)
    create_job_sessions(plan_sweep(sweep, name="grid"), sweep, store)
    assert _workflows(isolated_home) == ["sweep", "sweep"]
    bench = benchmark_from_config(base, [str(tiny_model), "other-model"], base_dir=isolated_home)
    create_job_sessions(plan_sweep(bench, name="bench"), bench, store)
    assert sorted(_workflows(isolated_home)) == ["benchmark candidate", "benchmark candidate", "sweep", "sweep"]


@needs_tmux
def test_tmux_start(tmux_socket: str, isolated_home: Path, tiny_model: Path, sample_csv: Path) -> None:
    config = make_config(isolated_home / "cfg", "c.json", tiny_model, sample_csv, rows=20)
    result = run_main("tmux", "start", "--config", str(config), "--auto-confirm")
    assert result.returncode == 0, result.stderr
    assert _workflows(isolated_home) == ["llm-tool tmux start"]


def test_the_studio_names_its_mode() -> None:
    from llm_tool.wizard.new_session import studio_workflow

    assert studio_workflow("quick") == "Training Studio - Quick"
    assert studio_workflow("custom") == "Training Studio - Custom"
    assert studio_workflow("preset:thorough") == "Training Studio - Preset thorough"
