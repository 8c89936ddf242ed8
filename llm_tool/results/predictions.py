"""Validation and test predictions saved next to a model (numpy .npz without pickled objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.model_folder import PREDICTIONS_FILE

FILE_NAME = PREDICTIONS_FILE
MAX_PREDICTIONS_BYTES = 4 * 2**30  # probabilities of every validation and test row: megabytes
SPLITS = ("validation", "test")


@dataclass
class SplitPredictions:
    """One split: probabilities (rows x labels), gold labels (indices, or 0/1 rows for multi-label), the position
    of each text in the split, and its detected language ISO 639-1 code ('' when not detected)."""

    probabilities: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    languages: list[str] = field(default_factory=list)


@dataclass
class SavedPredictions:
    label_names: list[str]
    multi_label: bool
    splits: dict[str, SplitPredictions]


def save_predictions(model_dir: Path, label_names: list[str], multi_label: bool,
                     splits: dict[str, SplitPredictions]) -> Path:
    """Write ``model_dir/predictions.npz`` (plain numeric and unicode arrays: loadable without pickle)."""
    arrays: dict[str, Any] = {
        "label_names": np.asarray(label_names, dtype=str),
        "multi_label": np.asarray(bool(multi_label)),
    }
    for name, split in splits.items():
        n = len(split.probabilities)
        languages = split.languages if len(split.languages) == n else [""] * n
        arrays[f"{name}_probabilities"] = np.asarray(split.probabilities, dtype=np.float64)
        arrays[f"{name}_labels"] = np.asarray(split.labels, dtype=np.int64)
        arrays[f"{name}_rows"] = np.asarray(split.rows, dtype=np.int64)
        arrays[f"{name}_languages"] = np.asarray(languages, dtype="<U16")
    path = model_dir / FILE_NAME
    tmp = model_dir / f".{FILE_NAME}.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path


def load_predictions(model_dir: Path) -> SavedPredictions | None:
    """The saved predictions of ``model_dir``, or None when it has none (a model trained before they existed)."""
    import zipfile

    from llm_tool.errors import ModelError
    from llm_tool.untrusted import check_regular, shown

    path = model_dir / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return None
    check_regular(path, ModelError, max_bytes=MAX_PREDICTIONS_BYTES, what="predictions file")
    try:
        return _read(path)
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read {shown(str(path))} ({type(exc).__name__}): delete it (the report is then "
                         "made without per-row predictions)") from None


def _read(path: Path) -> SavedPredictions:
    with np.load(path, allow_pickle=False) as data:
        names = [str(x) for x in data["label_names"]]
        splits = {}
        for split in SPLITS:
            if f"{split}_probabilities" in data.files:
                splits[split] = SplitPredictions(
                    probabilities=data[f"{split}_probabilities"], labels=data[f"{split}_labels"],
                    rows=data[f"{split}_rows"], languages=[str(x) for x in data[f"{split}_languages"]])
        return SavedPredictions(names, bool(data["multi_label"]), splits)
