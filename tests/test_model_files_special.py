"""Special and endless files in model folders, the models registry and the ONNX cache (issue 21 §3): a FIFO, a link
to /dev/zero, a folder, a 3 GB sparse file or a hostile safetensors header where a file should be is one line and
exit 2 from every reader (`models`, `models add`, `infer`, `train --dry-run`, the ONNX cache), never a hang.
Real processes with a timeout: a hang fails the test instead of blocking the suite."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from llm_tool import model_folder
from tests.helpers import run_cli, write_config
from tests.special_files import HEADERS, SPECIAL, plant

TIMEOUT = 60  # seconds; the old code hung forever on a FIFO and grew /dev/zero reads to gigabytes




def one_line_exit_2(result, *words: str) -> None:
    err = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert len(err.splitlines()) == 1 and "unexpected" not in err and "Traceback" not in err, err[-2000:]
    for word in words:
        assert word in err, err


def _model(tmp_path: Path, trained) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(trained.model_dir, folder, ignore=shutil.ignore_patterns("report", "*.npz"))
    return folder


@pytest.mark.parametrize("name,kind", [(model_folder.WEIGHTS_FILE, k) for k in SPECIAL + list(HEADERS)]
                         + [(model_folder.TOKENIZER_FILE, k) for k in ("fifo", "dev-zero", "sparse")]
                         + [(model_folder.MODEL_CARD_FILE, k) for k in ("fifo", "dev-zero")]
                         + [(model_folder.LABEL_MAPPING_FILE, "fifo"), (model_folder.CONFIG_FILE, "dev-zero")])
def test_infer_refuses_a_special_file_in_the_model_folder(trained, tmp_path, name, kind):
    folder = _model(tmp_path, trained)
    plant(folder / name, kind)
    result = run_cli("infer", "--model-dir", str(folder), "--text", "hi", timeout=TIMEOUT)
    one_line_exit_2(result)


@pytest.mark.parametrize("name,kind", [(model_folder.MODEL_CARD_FILE, k) for k in SPECIAL]
                         + [(model_folder.WEIGHTS_FILE, k) for k in ("fifo", "dev-zero", "shape-not-int",
                                                                     "shape-deep")])
def test_models_add_refuses_a_special_file(tiny_model, tmp_path, name, kind):
    folder = tmp_path / "pretrained-model"
    shutil.copytree(tiny_model, folder)
    plant(folder / name, kind)
    result = run_cli("models", "add", str(folder), "--name", "mine", timeout=TIMEOUT)
    one_line_exit_2(result)
    assert not (Path(os.environ["LLM_TOOL_HOME"]) / "pretrained" / "registry.json").exists()


@pytest.mark.parametrize("kind", [*SPECIAL, "bad-values", "languages-not-list", "not-json"])
def test_models_refuses_a_special_or_hostile_registry(kind):
    registry = Path(os.environ["LLM_TOOL_HOME"]) / "pretrained" / "registry.json"
    registry.parent.mkdir(parents=True)
    if kind == "bad-values":
        registry.write_text(json.dumps({"models": {"x": {"path": 5}}}))
    elif kind == "languages-not-list":
        registry.write_text(json.dumps({"models": {"x": {"path": "/tmp", "languages": 7}}}))
    elif kind == "not-json":
        registry.write_text("{")
    else:
        plant(registry, kind)
    result = run_cli("models", "--json", timeout=TIMEOUT)
    one_line_exit_2(result, "registry")


def test_models_lists_a_registered_folder_whose_weights_became_a_fifo(tiny_model, tmp_path):
    folder = tmp_path / "pretrained-model"
    shutil.copytree(tiny_model, folder)
    assert run_cli("models", "add", str(folder), "--name", "mine", timeout=TIMEOUT).returncode == 0
    plant(folder / model_folder.WEIGHTS_FILE, "fifo")
    result = run_cli("models", "--json", timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    (mine,) = [m for m in json.loads(result.stdout) if m["name"] == "mine"]
    assert mine["parameters"] is None  # counted from the header: unknown, not a hang
    result = run_cli("infer", "--model-dir", str(folder), "--text", "hi", timeout=TIMEOUT)
    one_line_exit_2(result)


@pytest.mark.parametrize("name,kind", [(model_folder.WEIGHTS_FILE, "fifo"), (model_folder.WEIGHTS_FILE, "shape-deep"),
                                       (model_folder.MODEL_CARD_FILE, "dev-zero"), ("vocab.txt", "fifo")])
def test_train_dry_run_refuses_a_special_file_in_a_local_model(tiny_model, tmp_path, sample_csv, name, kind):
    folder = tmp_path / "pretrained-model"
    shutil.copytree(tiny_model, folder)
    plant(folder / name, kind)
    config = write_config(tmp_path / "config.json", sample_csv, folder)
    result = run_cli("train", str(config), "--dry-run", timeout=TIMEOUT)
    one_line_exit_2(result)
