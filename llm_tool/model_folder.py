"""The model-folder contract: the names of the files a trained model folder holds, the multi-label threshold, and the
one way each of its JSON files is read (bounded, regular files only) or written (atomic).

Every reader and writer of a model folder (training, inference, evaluate, report, resume, sessions, sweeps, the
ONNX cache) takes its file names from here; tests/test_architecture.py fails on a second literal of any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.errors import ModelError, UserError

METRICS_FILE = "metrics.json"  # written last when a model is saved: its presence means the save completed
LABEL_MAPPING_FILE = "label_mapping.json"  # labels, multi-label flag, max_length, tuned thresholds
CONFIG_FILE = "config.json"  # transformers' config (id2label, problem_type)
WEIGHTS_FILE = "model.safetensors"  # the only weights llm-tool loads (a pickle can run code)
TOKENIZER_FILE = "tokenizer.json"  # the fast tokenizer ONNX inference uses without transformers
MODEL_CARD_FILE = "README.md"  # the Hugging Face style model card
TRAINING_ARGS_FILE = "training_args.bin"  # a pickle the Trainer leaves: removed from every saved model
FINAL_FILES = (WEIGHTS_FILE, CONFIG_FILE, LABEL_MAPPING_FILE)  # a final save is complete when these are non-empty
PREDICTIONS_FILE = "predictions.npz"  # per-split probabilities and gold labels (numpy, loaded without pickles)
ONNX_FILE = "model.onnx"  # the cached ONNX copy's graph
ONNX_MANIFEST_FILE = "manifest.json"  # beside it: the sha256 of every file of the copy, written by its builder

DEFAULT_THRESHOLD = 0.5  # multi-label: a label is predicted at probability >= this unless a tuned one is saved

MAX_METRICS_BYTES = 64 * 2**20  # metrics.json keeps the log history and per-split reports: a few MB at most
MAX_MODEL_JSON_BYTES = 16 * 2**20  # config.json and label_mapping.json: kilobytes (a large id2label: a few MB)


def metrics_path(model_dir: Path) -> Path:
    return model_dir / METRICS_FILE


def label_mapping_path(model_dir: Path) -> Path:
    return model_dir / LABEL_MAPPING_FILE


def _object(path: Path, error: type[UserError], what: str, max_bytes: int) -> dict[str, Any]:
    from llm_tool.untrusted import read_json_file, shown

    data = read_json_file(path, error, what=what, max_bytes=max_bytes)
    if not isinstance(data, dict):
        raise error(f"{shown(str(path))} does not hold a JSON object: not a usable {what}")
    return data


def read_metrics(model_dir: Path, error: type[UserError] = ModelError) -> dict[str, Any]:
    """The folder's metrics.json (bounded, a regular file, a JSON object); ``error`` names the problem and the fix
    when it is missing, special, too large or not JSON."""
    return read_metrics_file(metrics_path(model_dir), error)


def read_metrics_file(path: Path, error: type[UserError] = ModelError) -> dict[str, Any]:
    """``read_metrics`` of a metrics file named by path (a session records where its metrics are)."""
    from llm_tool.untrusted import shown

    if not path.exists() and not path.is_symlink():
        raise error(f"{shown(str(path.parent))} has no {METRICS_FILE}: it was not saved by a completed training")
    return _object(path, error, "metrics file", MAX_METRICS_BYTES)


def metrics_or_none(model_dir: Path | None = None, *, file: Path | None = None) -> dict[str, Any] | None:
    """The metrics of ``model_dir`` (or in ``file``), or None when there are none or they cannot be read (listings,
    leaderboards, resume checks: a damaged file is the same as none)."""
    try:
        if file is not None:
            return read_metrics_file(file)
        return read_metrics(model_dir) if model_dir is not None else None
    except UserError:
        return None


def read_model_json(path: Path, error: type[UserError] = ModelError) -> dict[str, Any]:
    """A model folder's config.json or label_mapping.json (it may come from someone else): bounded, an object."""
    return _object(path, error, "model file", MAX_MODEL_JSON_BYTES)


def read_label_mapping(model_dir: Path, error: type[UserError] = ModelError) -> dict[str, Any]:
    """The folder's label_mapping.json, or {} when it has none."""
    path = label_mapping_path(model_dir)
    if not path.exists() and not path.is_symlink():
        return {}
    return read_model_json(path, error)


def write_label_mapping(model_dir: Path, mapping: dict[str, Any]) -> None:
    from llm_tool.sessions.atomic import write_json_atomic

    write_json_atomic(label_mapping_path(model_dir), mapping)


def new_label_mapping(labels: list[str], multi_label: bool, max_length: int) -> dict[str, Any]:
    """What training writes: thresholds are added when they are tuned on validation (``set_thresholds``)."""
    return {"labels": labels, "multi_label": multi_label, "max_length": max_length,
            "threshold": DEFAULT_THRESHOLD if multi_label else None}


def set_thresholds(model_dir: Path, thresholds: dict[str, float]) -> None:
    """Record the tuned per-label thresholds in the folder's label_mapping.json."""
    mapping = read_label_mapping(model_dir)
    mapping["thresholds"] = thresholds
    write_label_mapping(model_dir, mapping)


def write_metrics(model_dir: Path, metrics: dict[str, Any]) -> None:
    """metrics.json, atomically (written last: its presence marks a complete save)."""
    from llm_tool.sessions.atomic import write_json_atomic

    write_json_atomic(metrics_path(model_dir), metrics)
