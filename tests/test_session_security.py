"""A session file from another machine cannot make the tool run anything, write outside the home, or load pickles."""

from __future__ import annotations

import json
import pickle
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from llm_tool.sessions import SessionMetadata, SessionStore
from tests.helpers import read_json, run_main, sample_rows, write_csv


class _OpensAFile:
    """Unpickling this creates ``path``: proof that a pickle was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return open, (str(self.path), "w")


def _pickle_only_model(folder: Path, tiny_model: Path, marker: Path) -> Path:
    """A model folder whose weights are only a pickle (pytorch_model.bin), one that creates ``marker`` if loaded."""
    folder.mkdir()
    for item in tiny_model.iterdir():
        if item.suffix != ".safetensors":
            shutil.copy(item, folder / item.name)
    with (folder / "pytorch_model.bin").open("wb") as handle:
        pickle.dump(_OpensAFile(marker), handle)
    return folder


def _snapshot(root: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_relative_to(skip)}


def _hostile(outside: Path, model: Path, marker: Path) -> dict[str, Any]:
    return {
        "training_session": {"timestamp": "../../x", "session_id": "../../../outside/evil", "tool_version": "evil 1",
                             "workflow": {"not": "text"}, "notes": 5, "session_name": "../../x",
                             "post_train_hook": f"touch {marker}"},
        "dataset_config": {"primary_file": "../../outside.csv", "text_column": "text", "label_column": "label",
                           "strategy": "single-label", "fingerprint_sha256": "0" * 64},
        "model_config": {"selected_model": str(model), "epochs": 1, "batch_size": 8, "training_mode": "quick",
                         "learning_rate": 0.003},
        "execution_status": {"status": "failed", "pid": 1, "host": "elsewhere", "best_model": str(outside),
                             "last_checkpoint": str(outside / "checkpoint-1")},
        "output_paths": {"models_dir": str(outside), "model_dir": "../../../outside/model",
                         "checkpoints_dir": str(outside / "ckpt"), "logs_dir": str(outside),
                         "log_file": str(outside / "evil.log"), "metrics_file": "../../metrics.json"},
        "environment": {"python": "3.11"},
        "command": f"touch {marker}",
        "rm": "rm -rf --no-preserve-root /nonexistent-path-for-test",
    }


def test_hostile_import_is_confined_to_the_home_and_never_loads_a_pickle(tmp_path, isolated_home, sample_csv,
                                                                         tiny_model):
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = tmp_path / "PWNED"
    model = _pickle_only_model(tmp_path / "pickled_model", tiny_model, marker)
    hostile = tmp_path / "shared_session.json"
    hostile.write_text(json.dumps(_hostile(outside, model, marker)), encoding="utf-8")
    data = write_csv(isolated_home / "reviews.csv", sample_rows(sample_csv, 40))
    before = _snapshot(tmp_path, isolated_home)

    refused = run_main("sessions", "import", str(hostile))  # its data path climbs out of the home
    assert refused.returncode == 2
    assert "points outside" in refused.stderr and "--dataset" in refused.stderr
    store = SessionStore()
    assert store.files_newest_first() == []

    result = run_main("sessions", "import", str(hostile), "--dataset", str(data))
    assert result.returncode == 0, result.stderr
    [path] = store.files_newest_first()
    raw = read_json(path)
    sid = raw["training_session"]["session_id"]
    assert sid.startswith("train_") and ".." not in sid and path.name == f"training_metadata_{sid[6:]}.json"
    assert raw["training_session"]["imported_from"] == "../../../outside/evil"  # kept as text only
    assert raw["training_session"]["workflow"] == "Training Studio - Quick"
    assert raw["training_session"]["notes"][0].startswith("imported from")
    for value in raw["output_paths"].values():  # every output under the home, none from the file
        assert Path(value).resolve().is_relative_to(isolated_home), value
    kept = raw.pop("imported_fields")  # the file's other sections: kept as inert data, shown, never used
    assert set(kept) == {"command", "rm"}
    notes = raw["training_session"].pop("notes")  # the last note names the keys not used, never their values
    assert "command, rm" in notes[-1] and "touch" not in json.dumps(notes)
    text = json.dumps(raw)
    for key in ("command", "post_train_hook", "touch", "rm -rf", str(outside)):
        assert key not in text, key
    assert raw["execution_status"]["status"] == "pending" and raw["execution_status"]["pid"] is None

    run = run_main("sessions", "relaunch", sid)
    assert run.returncode == 2, run.stderr[-3000:]
    errors = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, run.stderr
    assert "pickle" in errors[0] and "safetensors" in errors[0] and "pytorch_model.bin" in errors[0]
    failed = read_json(store.resolve("1"))
    assert failed["training_session"]["parent_session"] == sid
    assert failed["execution_status"]["status"] == "failed"
    assert "safetensors" in failed["execution_status"]["error_message"]

    assert not marker.exists()  # no pickle was loaded, no key was run
    assert _snapshot(tmp_path, isolated_home) == before  # nothing written outside the home
    assert list(outside.iterdir()) == []


def test_session_file_copied_in_by_hand_cannot_write_or_read_outside_the_home(tmp_path, isolated_home, sample_csv,
                                                                              tiny_model):
    """The same hostile file dropped straight into logs/training_sessions (no import)."""
    outside = tmp_path / "outside"
    marker = tmp_path / "PWNED"
    model_outside = outside / "model"
    checkpoint = outside / "ckpt" / "checkpoint-1"
    checkpoint.mkdir(parents=True)
    model_outside.mkdir()
    (model_outside / "keep.txt").write_text("precious")
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json", "model.safetensors",
                 "llm_tool_checkpoint_complete"):  # a 'complete' checkpoint made of pickles that open a file
        with (checkpoint / name).open("wb") as handle:
            pickle.dump(_OpensAFile(marker), handle)
    data = write_csv(isolated_home / "reviews.csv", sample_rows(sample_csv, 40))
    hostile = _hostile(outside, tiny_model, marker)
    hostile["dataset_config"]["primary_file"] = str(data)
    hostile["dataset_config"].pop("fingerprint_sha256")
    hostile["output_paths"]["model_dir"] = str(model_outside)
    hostile["output_paths"]["checkpoints_dir"] = str(outside / "ckpt")
    folder = isolated_home / "logs" / "training_sessions"
    folder.mkdir(parents=True)
    path = folder / "training_metadata_20250101_120000.json"
    path.write_text(json.dumps(hostile), encoding="utf-8")
    before = _snapshot(tmp_path, isolated_home)

    store = SessionStore()
    meta = store.read(path)
    assert meta.session_id == "train_20250101_120000"  # the file name gives the id, not the text inside
    assert store.log_path(meta.session_id).parent == folder
    model_dir, checkpoints_dir = store.output_dirs(meta)
    assert model_dir == isolated_home / "models" / "train_20250101_120000"
    assert checkpoints_dir == model_dir / "checkpoints"
    rows = json.loads(run_main("sessions", "list", "--json").stdout)
    assert rows[0]["session_id"] == "train_20250101_120000"

    resumed = run_main("sessions", "resume", "1")  # would load the outside 'checkpoint' if paths were trusted
    assert resumed.returncode == 0, resumed.stderr  # it never trained: it starts, writing only under models/<id>
    assert "starting from the beginning" in resumed.stdout
    assert (model_dir / "model.safetensors").is_file() and not checkpoints_dir.exists()
    deleted = run_main("sessions", "delete", "1", "--yes", "--with-model")
    assert deleted.returncode == 0, deleted.stderr
    assert not path.exists() and not model_dir.exists()
    assert (model_outside / "keep.txt").read_text() == "precious"  # --with-model only deletes models/<id>
    assert not marker.exists()
    assert _snapshot(tmp_path, isolated_home) == before


def test_output_dirs_only_inside_the_models_folder(isolated_home):
    store = SessionStore()
    path = store.create(SessionMetadata(), now=datetime(2025, 1, 1))
    meta = store.read(path)
    models = isolated_home / "models"
    for model_dir, expected in ((str(models / meta.session_id), models / meta.session_id),
                                (str(models / "custom"), models / meta.session_id),  # the id alone decides
                                (str(models / "train_20240101_000000"), models / meta.session_id),  # another's
                                (str(models), models / meta.session_id),
                                (str(models / ".." / ".." / "x"), models / meta.session_id),
                                ("models/relative", models / meta.session_id),
                                (None, models / meta.session_id)):
        meta.output_paths.model_dir = model_dir
        meta.output_paths.checkpoints_dir = None
        assert store.output_dirs(meta) == (expected, expected / "checkpoints"), model_dir
