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
LABEL_MAPPING_FILE = "label_mapping.json"  # labels, multi-label flag, max_length, long_text, tuned thresholds
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
# What a loader (transformers, tokenizers, safetensors, ONNX Runtime) may open in a model folder, by suffix, and the
# largest such file believed: vocabularies and tokenizer.json are megabytes, weights up to hundreds of GB.
MAX_WEIGHTS_BYTES = 1 << 40
MAX_SAFETENSORS_HEADER = 32 * 2**20  # a header lists tensors: a 7B model's is ~100 KB
MAX_RANK = 8  # a tensor of a text classifier has 1 to 4 dimensions
MAX_ENTRIES = 10_000  # files in one model folder
LOADED_FILES = {".json": 64 * 2**20, ".txt": 64 * 2**20, ".model": 64 * 2**20, ".md": 16 * 2**20,
                ".safetensors": MAX_WEIGHTS_BYTES, ".onnx": 16 * 2**30, ".data": MAX_WEIGHTS_BYTES}


def metrics_path(model_dir: Path) -> Path:
    return model_dir / METRICS_FILE


def label_mapping_path(model_dir: Path) -> Path:
    return model_dir / LABEL_MAPPING_FILE


def _object(path: Path, error: type[UserError], what: str, max_bytes: int) -> dict[str, Any]:
    from llm_tool.untrusted import read_json_file, shown

    data = read_json_file(path, error, what=what, max_bytes=max_bytes)
    if not isinstance(data, dict):
        raise error(f"{shown(str(path))} is not a JSON object: not a usable {what}")
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
    from llm_tool.atomic import write_json_atomic

    write_json_atomic(label_mapping_path(model_dir), mapping)


def new_label_mapping(labels: list[str], multi_label: bool, max_length: int,
                      long_text: dict[str, Any] | None = None) -> dict[str, Any]:
    """What training writes: thresholds are added when they are tuned on validation (``set_thresholds``);
    ``long_text``: how texts longer than max_length were encoded (absent: truncated)."""
    mapping = {"labels": labels, "multi_label": multi_label, "max_length": max_length,
               "threshold": DEFAULT_THRESHOLD if multi_label else None}
    if long_text is not None:
        mapping["long_text"] = long_text
    return mapping


def set_thresholds(model_dir: Path, thresholds: dict[str, float]) -> None:
    """Record the tuned per-label thresholds in the folder's label_mapping.json."""
    mapping = read_label_mapping(model_dir)
    mapping["thresholds"] = thresholds
    write_label_mapping(model_dir, mapping)


def write_metrics(model_dir: Path, metrics: dict[str, Any]) -> None:
    """metrics.json, atomically (written last: its presence marks a complete save)."""
    from llm_tool.atomic import write_json_atomic

    write_json_atomic(metrics_path(model_dir), metrics)


def check_model_folder(folder: Path, error: type[UserError] = ModelError) -> None:
    """Before a model folder someone else may have written goes to a loader: every file a loader may open (by
    suffix: .json, .txt, .model, .md, .safetensors, .onnx, .data) is a regular file within its size limit (a FIFO,
    a device, a folder or a link to one would hang or flood it), and every safetensors header is sane."""
    from itertools import islice

    from llm_tool.untrusted import check_regular, shown

    try:
        entries = list(islice(folder.iterdir(), MAX_ENTRIES + 1))
    except OSError as exc:
        raise error(f"cannot list the model folder {shown(str(folder))}: {exc.strerror}") from None
    if len(entries) > MAX_ENTRIES:
        raise error(f"{shown(str(folder))} holds over {MAX_ENTRIES} files: not a model folder")
    for entry in sorted(entries):
        limit = LOADED_FILES.get(entry.suffix.lower())
        if limit is None:
            continue
        check_regular(entry, error, max_bytes=limit, what="model file")
        if entry.suffix.lower() == ".safetensors":
            safetensors_parameters(entry, error)


def safetensors_parameters(path: Path, error: type[UserError] = ModelError) -> int:
    """The number of parameters in a safetensors file, from its header alone (read bounded and validated here:
    an 8-byte length, then a JSON object of tensors with a dtype, a shape of non-negative integers and offsets)."""
    import os
    import struct

    from llm_tool.untrusted import open_regular, parse_json, shown

    fd, size = open_regular(path, error, max_bytes=MAX_WEIGHTS_BYTES, what="weights file")
    name = shown(str(path))
    with os.fdopen(fd, "rb") as handle:
        prefix = handle.read(8)
        length = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else 0
        if not 2 <= length <= min(MAX_SAFETENSORS_HEADER, size - 8):
            raise error(f"{name} is not a safetensors file (header of {length} bytes in a file of {size}): "
                        "replace the weights")
        raw = handle.read(length)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{name} has a safetensors header that is not UTF-8: replace the weights") from None
    header = parse_json(text, name, error, what="safetensors header", max_depth=4)
    if not isinstance(header, dict):
        raise error(f"{name}: its safetensors header is not a JSON object: replace the weights")
    return sum(_tensor_size(key, tensor, name, size - 8 - length, error) for key, tensor in header.items()
               if key != "__metadata__")


def _tensor_size(key: str, tensor: Any, name: str, data_bytes: int, error: type[UserError]) -> int:
    from llm_tool.untrusted import quoted

    shape = tensor.get("shape") if isinstance(tensor, dict) else None
    offsets = tensor.get("data_offsets") if isinstance(tensor, dict) else None
    good_shape = isinstance(shape, list) and len(shape) <= MAX_RANK and \
        all(type(d) is int and 0 <= d < 2**48 for d in shape)
    good_offsets = isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets) and \
        0 <= offsets[0] <= offsets[1] <= data_bytes
    if not (isinstance(shape, list) and good_shape and good_offsets and isinstance(tensor.get("dtype"), str)):
        raise error(f"{name}: tensor {quoted(key, 60)} has no valid dtype, shape (at most {MAX_RANK} non-negative "
                    "integers) or data offsets: replace the weights")
    count = 1
    for dim in shape:
        count *= dim
    return count
