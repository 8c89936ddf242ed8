"""The model-folder contract (llm_tool/model_folder.py): every reader of metrics.json and label_mapping.json reads
them bounded and regular-file-only, and a damaged file is one clear error, never 'unexpected JSONDecodeError'."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_tool import model_folder
from llm_tool.errors import ModelError, SessionError, UserError
from tests.helpers import fake_session
from tests.special_files import plant

KINDS = ["fifo", "dev-zero", "folder", "sparse", "corrupt"]


@pytest.mark.parametrize("kind", KINDS)
def test_read_metrics_refuses_special_and_damaged_files_in_one_line(tmp_path, kind):
    plant(tmp_path / model_folder.METRICS_FILE, kind)
    with pytest.raises(ModelError) as caught:
        model_folder.read_metrics(tmp_path)
    assert "\n" not in str(caught.value) and "metrics" in str(caught.value)
    assert model_folder.metrics_or_none(tmp_path) is None


@pytest.mark.parametrize("kind", KINDS)
def test_read_label_mapping_refuses_special_and_damaged_files(tmp_path, kind):
    plant(tmp_path / model_folder.LABEL_MAPPING_FILE, kind)
    with pytest.raises(UserError) as caught:
        model_folder.read_label_mapping(tmp_path)
    assert "\n" not in str(caught.value)


def test_label_mapping_round_trip_and_thresholds(tmp_path):
    assert model_folder.read_label_mapping(tmp_path) == {}
    model_folder.write_label_mapping(tmp_path, model_folder.new_label_mapping(["a", "b"], True, 64))
    model_folder.set_thresholds(tmp_path, {"a": 0.3})
    mapping = model_folder.read_label_mapping(tmp_path)
    assert mapping == {"labels": ["a", "b"], "multi_label": True, "max_length": 64,
                       "threshold": model_folder.DEFAULT_THRESHOLD, "thresholds": {"a": 0.3}}
    model_folder.write_metrics(tmp_path, {"session_id": "x"})
    assert model_folder.read_metrics(tmp_path) == {"session_id": "x"}


def _completed_group(isolated_home: Path) -> tuple[object, Path, Path]:
    from llm_tool.sessions.store import SessionStore

    store = SessionStore()
    path = fake_session(store, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), status="completed")
    model_dir = store.output_dirs(store.read(path))[0]
    model_dir.mkdir(parents=True)
    return store, path, model_dir


@pytest.mark.parametrize("kind", ["corrupt", "fifo", "dev-zero"])
def test_a_damaged_metrics_file_after_a_torchrun_group_is_one_line(isolated_home, kind):
    """The torchrun path (dispatch/seam.py) read rank 0's metrics.json with a bare json.loads: a corrupt file after a
    successful group ended in 'unexpected JSONDecodeError' (exit 1), a FIFO hung it."""
    from llm_tool.dispatch.seam import _group_outcome

    store, path, model_dir = _completed_group(isolated_home)
    plant(model_dir / model_folder.METRICS_FILE, kind)
    with pytest.raises(SessionError) as caught:
        _group_outcome(store, path, 0)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and "metrics.json" in message and caught.value.exit_code == 2


def test_a_completed_torchrun_group_reads_its_metrics(isolated_home):
    from llm_tool.dispatch.seam import _group_outcome

    store, path, model_dir = _completed_group(isolated_home)
    model_folder.write_metrics(model_dir, {"test": {"macro_f1": 0.75}})
    outcome = _group_outcome(store, path, 0)  # type: ignore[arg-type]
    assert outcome.exit_code == 0 and outcome.training is not None
    assert outcome.training.metrics == {"test": {"macro_f1": 0.75}}


@pytest.mark.parametrize("kind", ["fifo", "corrupt", "dev-zero"])
def test_a_damaged_metrics_file_is_no_saved_final_model(tmp_path, kind):
    """Resume decides 'the final model was saved' from metrics.json: a damaged or special one means not saved."""
    from llm_tool.training.run_end import saved_final_model

    for name in model_folder.FINAL_FILES:
        (tmp_path / name).write_text("{}", encoding="utf-8")
    plant(tmp_path / model_folder.METRICS_FILE, kind)
    assert saved_final_model(tmp_path, "train_20260102_030405") is None


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "corrupt"])
def test_a_special_or_damaged_predictions_file_is_one_clear_error(tmp_path, kind):
    from llm_tool.results.predictions import load_predictions

    plant(tmp_path / model_folder.PREDICTIONS_FILE, kind)
    with pytest.raises(ModelError) as caught:
        load_predictions(tmp_path)
    assert "\n" not in str(caught.value) and "predictions" in str(caught.value)
    assert load_predictions(tmp_path / "nothing-here") is None
