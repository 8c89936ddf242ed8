"""Resume equals no interruption: kill -9 mid-epoch 2, `sessions resume`, compare with an uninterrupted run."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path

import pytest

from llm_tool.sessions import SessionStore
from tests.conftest import SAMPLE_CSV
from tests.helpers import (
    fake_session,
    read_json,
    run_main,
    sample_rows,
    session_files,
    start_cli,
    wait_until,
    write_config,
    write_csv,
)

STEPS_PER_EPOCH = 30  # 300 rows -> 240 train rows / batch 8
BF16 = {"precision": "bf16"}  # bf16 autocast: the CPU default where the CPU has bf16

pytestmark = pytest.mark.xdist_group("resume")  # one worker trains the shared uninterrupted bf16 run


def _config(tmp_path: Path, sample_csv: Path, tiny_model: Path, name: str, **extra: object) -> Path:
    data = write_csv(tmp_path / "reviews.csv", sample_rows(sample_csv, 300))
    settings = {"epochs": 3, "save_steps": 5, "learning_rate": 3e-3, "save_total_limit": 3, "num_threads": 1,
                "keep_checkpoints": False, **extra}
    return write_config(tmp_path / f"{name}.json", data, tiny_model, **settings)


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def _max_abs_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def _checkpoint_steps(checkpoints: Path) -> list[int]:
    if not checkpoints.is_dir():
        return []
    return sorted(int(p.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*")
                  if (p / "llm_tool_checkpoint_complete").exists())


def _train_and_kill(config: Path, home: Path, kill_after_step: int) -> Path:
    """Start training in a process of its own; SIGKILL it once a checkpoint past ``kill_after_step`` exists."""
    proc = start_cli("train", str(config))

    def checkpointed() -> Path | None:
        assert proc.poll() is None, "training finished before it could be killed"
        files = session_files(home)
        folder = read_json(files[-1])["output_paths"].get("checkpoints_dir") if files else None
        if folder and any(step >= kill_after_step for step in _checkpoint_steps(Path(folder))):
            return files[-1]
        return None
    try:
        path = wait_until(checkpointed, timeout=300, what=f"a checkpoint past step {kill_after_step}",
                          interval=0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return path


def _final(meta_path: Path) -> tuple[dict, dict]:
    meta = read_json(meta_path)
    model_dir = Path(meta["output_paths"]["model_dir"])
    return meta, json.loads((model_dir / "metrics.json").read_text())


def _comparable(metrics: dict) -> dict:
    """The results, without the marks a resume leaves on the evaluations made before it."""
    keep = ("global_step", "epochs_trained", "best_checkpoint_step", "best_validation_macro_f1", "validation", "test",
            "history", "log_history")
    unmarked = {k: metrics[k] for k in keep}
    for key in ("history", "log_history"):
        unmarked[key] = [{k: v for k, v in e.items() if k != "earlier_attempt"} for e in metrics[key]]
    return unmarked


def assert_resumed_equals_uninterrupted(baseline_path: Path, resumed_path: Path) -> tuple[dict, dict]:
    """The resumed session completed with the uninterrupted one's weights (within 1e-6), metrics, steps and
    history; returns both session files' contents."""
    base_meta, base_metrics = _final(baseline_path)
    res_meta, res_metrics = _final(resumed_path)
    assert res_meta["execution_status"]["status"] == "completed"
    assert _max_abs_diff(_weights(Path(base_meta["output_paths"]["model_dir"])),
                         _weights(Path(res_meta["output_paths"]["model_dir"]))) <= 1e-6
    assert _comparable(res_metrics) == _comparable(base_metrics)
    # the evaluation of epoch 1 was made before the kill: marked as the first attempt's, in the record and the log
    marks = [row.get("earlier_attempt") for row in res_metrics["history"]]
    assert marks[0] == 1 and set(marks[1:]) == {None}
    evaluations = [e.get("earlier_attempt") for e in res_metrics["log_history"] if "eval_macro_f1" in e]
    assert evaluations == marks
    assert not any("earlier_attempt" in e for e in base_metrics["log_history"])
    return base_meta, res_meta


@pytest.fixture(scope="module")
def uninterrupted_bf16(tmp_path_factory, tiny_model) -> Path:
    """The uninterrupted run (bf16, `_config`'s settings) that the bf16 kill-and-resume cases compare with, trained
    once in a home of its own: its session file."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    home = folder / "home"
    home.mkdir()
    done = run_main("train", str(_config(folder, SAMPLE_CSV, tiny_model, "baseline", **BF16)),
                    env={"LLM_TOOL_HOME": str(home)}, cwd=home)
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = session_files(home)
    return path


def _train_baseline(tmp_path: Path, home: Path, sample_csv: Path, tiny_model: Path, **extra: object) -> Path:
    done = run_main("train", str(_config(tmp_path, sample_csv, tiny_model, "baseline", **extra)))
    assert done.returncode == 0, done.stderr[-2000:]
    return session_files(home)[-1]


def _run_case(tmp_path: Path, home: Path, sample_csv: Path, tiny_model: Path, baseline_path: Path, *,
              corrupt_newest: bool, **extra: object) -> None:
    killed_path = _train_and_kill(_config(tmp_path, sample_csv, tiny_model, "killed", **extra), home,
                                  kill_after_step=STEPS_PER_EPOCH + 5)
    listed = run_main("sessions", "list", "--json")
    status = {row["session_id"]: row["status"] for row in json.loads(listed.stdout)}
    killed_id = read_json(killed_path)["training_session"]["session_id"]
    assert status[killed_id] == "interrupted"  # the dead process is never shown as running
    if corrupt_newest:  # a kill that lands while a checkpoint is written: newest one incomplete
        checkpoints = Path(read_json(killed_path)["output_paths"]["checkpoints_dir"])
        newest = max(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        (newest / "llm_tool_checkpoint_complete").unlink()
        (newest / "trainer_state.json").unlink()

    resumed = run_main("sessions", "resume", killed_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:] + resumed.stdout[-3000:]
    if corrupt_newest:
        assert "skipping checkpoint-" in resumed.stdout

    base_meta, res_meta = assert_resumed_equals_uninterrupted(baseline_path, killed_path)
    precision = extra.get("precision")
    if precision:  # recorded in the session, and the resumed half used it too
        assert res_meta["environment"]["precision"] == base_meta["environment"]["precision"] == precision


def test_resume_after_kill_equals_uninterrupted(tmp_path, isolated_home, sample_csv, tiny_model,
                                               uninterrupted_bf16):
    """bf16 autocast (the CPU default where the CPU has bf16): a resume stays exact."""
    _run_case(tmp_path, isolated_home, sample_csv, tiny_model, uninterrupted_bf16, corrupt_newest=False, **BF16)


def test_resume_with_early_stopping_equals_uninterrupted(tmp_path, isolated_home, sample_csv, tiny_model):
    """With the word embeddings frozen too: the resumed half keeps the recorded cut (its optimizer state has no
    embedding matrix) and the result is the uninterrupted run's."""
    settings = {"precision": "fp32", "early_stopping": True, "early_stopping_patience": 1, "epochs": 4,
                "word_embeddings": "frozen"}
    baseline = _train_baseline(tmp_path, isolated_home, sample_csv, tiny_model, **settings)
    _run_case(tmp_path, isolated_home, sample_csv, tiny_model, baseline, corrupt_newest=False, **settings)
    assert {read_json(p)["environment"]["word_embeddings"] for p in session_files(isolated_home)} == {"frozen"}


def test_resume_skips_checkpoint_cut_short_by_kill(tmp_path, isolated_home, sample_csv, tiny_model,
                                                   uninterrupted_bf16):
    _run_case(tmp_path, isolated_home, sample_csv, tiny_model, uninterrupted_bf16, corrupt_newest=True, **BF16)


def test_resume_refuses_completed_session(isolated_home):
    fake_session(SessionStore(), datetime(2025, 1, 2, 3, 4, 5), status="completed")
    result = run_main("sessions", "resume", "1")
    assert result.returncode == 2
    assert "already completed" in result.stderr and "relaunch" in result.stderr
