"""Benchmark mode of the studio, in process: real prompts (pipe input), a real sweep on a private tmux server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import read_json, session_files, wait_until
from tests.sweep_helpers import assert_ranked, set_queue, stand_in_slurm, state_when
from tests.tmux_helpers import needs_tmux
from tests.wizard_helpers import Keys, pick, replace, run_studio, to_data_file, write_sample

STUDIO_TO_EXIT = [pick(3), pick(6)]
TO_MODE = ["main_menu", "studio_menu", "data_file", "text_column", "label_column", "task", "split", "mode"]


pytestmark = pytest.mark.usefixtures("interactive")


@pytest.fixture
def data(isolated_home: Path, sample_csv: Path) -> Path:
    return write_sample(isolated_home, sample_csv)


def to_models() -> list[str]:
    """From the main menu to the models checkbox: sample data, benchmark mode, 1 epoch, batch size 8."""
    return [*to_data_file(), Keys.ENTER, Keys.ENTER, Keys.ENTER, Keys.ENTER,  # file, text, label, task
            Keys.ENTER, pick(3),  # analysis: continue; mode: benchmark
            replace("1"), replace("8")]  # epochs, batch_size


TYPE_OTHERS = Keys.UP + " " + Keys.ENTER  # tick "Type model names or folders…" (the last choice), done


@needs_tmux
def test_benchmark_from_the_wizard_runs_a_sweep_and_records_the_best(
        tmux_socket: str, data: Path, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = data.parent
    other = shutil.copytree(tiny_model, tmp_path / "tiny_b")
    ctx = run_studio(*to_models(), TYPE_OTHERS, replace(f"{tiny_model}, {other}"),
                     pick(1),  # step 8: start it in tmux (the pointer starts on Back)
                     *STUDIO_TO_EXIT)
    assert ctx.prompter.asked == [*TO_MODE, "epochs", "batch_size", "models", "model_names", "run_benchmark",
                                  "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    assert "Summary: the benchmark that will run" in out and "candidate 2" in out
    (state_file,) = (home / "logs" / "sweeps").glob("*.json")
    name = state_file.stem
    assert name.startswith("bench-data-")
    assert f"llm-tool sweep attach {name}" in out and f"llm-tool sweep status {name}" in out

    state = read_json(state_file)
    assert state["kind"] == "benchmark" and state["socket"] == tmux_socket
    assert [j["model"] for j in sorted(state["jobs"], key=lambda j: j["number"])] == [str(tiny_model), str(other)]
    parent_file = Path(state["parent_session"]["session_file"])
    assert read_json(parent_file)["training_session"]["workflow"] == "benchmark"
    assert len(session_files(home)) == 3  # two candidates and their parent

    state = state_when(home, name, lambda s: s.get("state") == "finished", timeout=240, what="the benchmark")
    assert [j["status"] for j in state["jobs"]] == ["completed", "completed"]
    children = [read_json(Path(j["session_file"])) for j in state["jobs"]]
    assert {c["model_config"]["training_mode"] for c in children} == {"benchmark"}
    assert {c["model_config"]["epochs"] for c in children} == {1}
    assert children[0]["dataset_config"]["split_sizes"] == children[1]["dataset_config"]["split_sizes"]
    status = wait_until(lambda: (read_json(parent_file)["execution_status"] or {}).get("best_model")
                         and read_json(parent_file)["execution_status"], timeout=30, what="the best model")
    assert status["status"] == "completed"
    assert status["best_model"] in (str(tiny_model), str(other))
    assert isinstance(status["best_f1"], float)
    assert_ranked(status["leaderboard"], 2)


def test_back_from_the_models_returns_to_the_mode(data: Path, tiny_model: Path) -> None:
    # the typed names: Ctrl+C back to the checkbox; the checkbox: ← back to the mode step (the input then ends)
    ctx = run_studio(*to_models(), TYPE_OTHERS, Keys.CTRL_C, Keys.LEFT)
    assert ctx.prompter.asked[:len(TO_MODE) + 6] == [*TO_MODE, "epochs", "batch_size", "models", "model_names",
                                                    "models", "mode"]
    assert session_files(data.parent) == [] and not (data.parent / "logs" / "sweeps").exists()


def test_a_single_model_is_refused(data: Path, tiny_model: Path) -> None:
    # one typed model is not a benchmark: the prompt stays (the input then ends: back, nothing started)
    ctx = run_studio(*to_models(), TYPE_OTHERS, replace(str(tiny_model)))
    assert ctx.prompter.asked[:len(TO_MODE) + 5] == [*TO_MODE, "epochs", "batch_size", "models", "model_names",
                                                    "models"]
    assert session_files(data.parent) == []


def test_without_tmux_benchmark_is_disabled_and_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from llm_tool.sweeps import seam
    from llm_tool.wizard import benchmark_mode
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.flow import Context
    from llm_tool.wizard.questions import GoBack, mode_question
    from tests.wizard_helpers import feed_wizard

    ctx = Context()
    with feed_wizard(pick(3)):  # benchmark is disabled: its number does not move there
        assert ctx.ask(mode_question("quick", tmux_available=False)) == "quick"
    monkeypatch.setattr(seam, "available_places", lambda: {"tmux": "no tmux", "slurm": "no sbatch"})
    with feed_wizard(Keys.ENTER), pytest.raises(GoBack):  # only Back can be chosen at step 8
        benchmark_mode.step_launch(ctx, Draft(models=["a", "b"], sweep_name="x"))
    assert "tmux is not installed: install it with `sudo apt-get install tmux`" in capsys.readouterr().err


def test_benchmark_from_the_wizard_can_go_to_slurm(monkeypatch: pytest.MonkeyPatch, data: Path, tiny_model: Path,
                                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Step 8 offers Slurm where sbatch is installed: the same sweep, submitted as one job array (stand-in
    sbatch/squeue here; the real cluster is tests/test_slurm.py's)."""
    from llm_tool.sweeps import seam

    home = data.parent
    fake = stand_in_slurm(tmp_path / "fake-slurm", monkeypatch)
    other = shutil.copytree(tiny_model, tmp_path / "tiny_b")
    ctx = run_studio(*to_models(), TYPE_OTHERS, replace(f"{tiny_model}, {other}"),
                     pick(2),  # step 8: on the Slurm cluster
                     *STUDIO_TO_EXIT)
    assert ctx.prompter.asked[-3:] == ["run_benchmark", "studio_menu", "main_menu"]
    out = capsys.readouterr().out
    (state_file,) = (home / "logs" / "sweeps").glob("*.json")
    name = state_file.stem
    assert f"submitted benchmark {name} to Slurm: 2 candidates as job array 4242" in out
    assert f"llm-tool sweep status {name}" in out and "sweep attach" not in out
    state = read_json(state_file)
    assert state["kind"] == "benchmark" and state["backend"] == "slurm"
    assert [j["slurm_job_id"] for j in state["jobs"]] == ["4242_0", "4242_1"]
    assert len(session_files(home)) == 3  # two candidates and their parent
    set_queue(fake, **{"4242_0": "RUNNING", "4242_1": "PENDING"})
    assert seam.refresh(name).counts == {"running": 1, "queued": 1}


def test_without_tmux_slurm_is_the_place_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_tool.sweeps import seam
    from llm_tool.wizard import benchmark_mode
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.questions import AT_BACK

    draft = Draft(models=["a", "b"], sweep_name="x")
    question = benchmark_mode.run_question(draft, {"tmux": "no tmux", "slurm": None})
    assert [(c.value, c.disabled) for c in question.choices] == [("tmux", "tmux is not installed"), ("slurm", None)]
    assert question.default == AT_BACK  # a stray Enter starts nothing: the number picks the place
    question = benchmark_mode.run_question(draft, {"tmux": None, "slurm": "no sbatch"})
    assert [c.value for c in question.choices] == ["tmux"] and question.default == AT_BACK
    assert set(seam.available_places()) == set(seam.PLACES)
