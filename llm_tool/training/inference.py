"""Predict labels and probabilities with a trained model folder (safetensors weights, or their ONNX copy)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.errors import DatasetError, ModelError
from llm_tool.model_folder import (
    CONFIG_FILE,
    DEFAULT_THRESHOLD,
    WEIGHTS_FILE,
    check_model_folder,
    read_label_mapping,
    read_model_json,
)

if TYPE_CHECKING:
    from llm_tool.outputs import Rules
    from llm_tool.training.inference_runners import OnnxRunner, TorchRunner


@dataclass
class Prediction:
    text: str
    labels: list[str]
    probabilities: dict[str, float]


class Predictor:
    """A trained model folder ready to label texts: ONNX Runtime on a CPU, torch on a GPU (``inference_runners``)."""

    def __init__(self, model_dir: Path, batch_size: int = 32, precision: str = "auto", backend: str = "auto",
                 on_status: Callable[[str], None] | None = None) -> None:
        if not (model_dir / CONFIG_FILE).exists():
            raise ModelError(f"{model_dir} is not a trained model folder (no config.json): give models/<session_id>")
        if not (model_dir / WEIGHTS_FILE).exists():
            raise ModelError(f"{model_dir} has no model.safetensors: only safetensors weights are loaded")
        check_model_folder(model_dir)  # no FIFO, device or absurd size reaches a loader
        config = read_model_json(model_dir / CONFIG_FILE)
        mapping = read_label_mapping(model_dir)
        try:
            self._read_labels(config, mapping)
        except (TypeError, ValueError, AttributeError) as exc:  # a folder that is not ours, or edited by hand
            raise ModelError(f"{model_dir}: its config.json or label_mapping.json does not describe a classifier "
                             f"({str(exc).splitlines()[0][:100]}): give a folder llm-tool trained") from None
        if not self.labels:
            raise ModelError(f"{model_dir}/config.json names no labels (id2label): is it a trained classifier?")
        self.batch_size = batch_size
        pad_id = config.get("pad_token_id")
        self._open = (model_dir, backend, precision, pad_id if isinstance(pad_id, int) else 0, on_status)
        self._runner: OnnxRunner | TorchRunner | None = None

    def _read_labels(self, config: dict[str, Any], mapping: dict[str, Any]) -> None:
        """Labels, multi-label flag, max_length, long-text strategy and tuned thresholds (label_mapping.json first,
        then config.json)."""
        from llm_tool.training.long_text import from_mapping

        id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
        self.labels = list(mapping.get("labels") or [id2label[i] for i in sorted(id2label)])
        multi_default = config.get("problem_type") == "multi_label_classification"
        self.multi_label = bool(mapping.get("multi_label", multi_default))
        self.max_length = int(mapping.get("max_length") or 128)
        self.long_text = from_mapping(mapping.get("long_text"), self.max_length)  # how training encoded long texts
        tuned = mapping.get("thresholds") if self.multi_label else None  # per label, tuned on validation
        self.thresholds = {str(k): float(v) for k, v in tuned.items()} if isinstance(tuned, dict) else {}

    def open(self, expected_texts: int | None = None) -> OnnxRunner | TorchRunner:
        """Load the model for about ``expected_texts`` texts (unknown: a few at a time); the first ``logits`` call
        does it otherwise. The size decides the backend under ``auto`` (``inference_runners.open_runner``)."""
        from llm_tool.training.inference_runners import open_runner

        if self._runner is None:
            model_dir, backend, precision, pad_id, on_status = self._open
            self._runner = open_runner(model_dir, backend, precision, pad_id, on_status, expected_texts)
        return self._runner

    @property
    def runner(self) -> OnnxRunner | TorchRunner:
        return self.open()

    def logits(self, texts: list[str]) -> Any:
        """Raw model outputs (rows x labels, numpy) for ``texts``, in order. Texts are tokenized once and batched
        by length (little padding). A model trained with chunks reads every window of a text and returns, per
        text, logits whose softmax (sigmoid) is the mean of the windows' probabilities."""
        import numpy as np

        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        runner = self.open(len(texts))
        if self.long_text.strategy == "truncate":
            return self._run_rows(runner, runner.encode(texts, self.max_length))
        from llm_tool.training.long_text import encode, per_text

        full, masks = runner.encode_full(texts)
        rows = encode(full, masks, self.max_length, self.long_text)  # chunks: every window of every text
        out = self._run_rows(runner, rows.ids)
        if self.long_text.strategy == "chunks":  # each text: the mean of its windows' probabilities
            return per_text(out, None, rows.owner, len(texts), self.multi_label)[0]
        return out

    def _run_rows(self, runner: OnnxRunner | TorchRunner, encoded: list[list[int]]) -> Any:
        import numpy as np

        out = np.zeros((len(encoded), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = runner.run([encoded[i] for i in rows])
        return out

    def predict(self, texts: list[str]) -> list[Prediction]:
        from llm_tool.results.metrics import probabilities

        out: list[Prediction] = []
        probs = probabilities(self.logits(texts), self.multi_label)
        for text, row in zip(texts, probs, strict=False):
            scores = {name: round(float(p), 6) for name, p in zip(self.labels, row, strict=False)}
            if self.multi_label:  # the label's tuned threshold (label_mapping.json), else 0.5
                chosen = [name for name, p in zip(self.labels, row, strict=False)
                          if p >= self.thresholds.get(name, DEFAULT_THRESHOLD)]
            else:
                chosen = [self.labels[int(row.argmax())]]
            out.append(Prediction(text, chosen, scores))
        return out


OUTPUT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")


def read_texts(input_path: Path, output_path: Path, text_column: str = "text") -> tuple[Any, list[str]]:
    """The rows of ``input_path`` and their texts, checked before any model is loaded: the text column exists and
    the predictions can be written as ``output_path`` (CSV, TSV or JSONL)."""
    from llm_tool.data.formats import read_table

    if output_path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DatasetError(f"output must end in .csv, .tsv or .jsonl, got {output_path.name}")
    table = read_table(input_path)
    if text_column not in table.columns:
        raise DatasetError(f"column '{text_column}' not found in {input_path.name}; its columns are: "
                           f"{', '.join(table.columns)} (use --text-column)")
    return table, ["" if row.get(text_column) is None else str(row.get(text_column)) for row in table.rows]


def write_predictions(table: Any, predictions: list[Prediction], labels: list[str], output_path: Path,
                      rules: Rules | None = None, *, safe_csv: bool = False) -> None:
    """Every row of ``table`` with its prediction, in the same order, as CSV/TSV (a probability column per label)
    or JSONL, through llm_tool.outputs (``rules``: --force and the inputs). ``safe_csv``: cells a spreadsheet would
    run as formulas get a ``'`` in front."""
    from llm_tool.outputs import Rules, open_text, spreadsheet_safe

    rules = rules or Rules()
    if output_path.suffix.lower() in (".jsonl", ".ndjson"):
        with open_text(output_path, rules) as handle:
            for row, pred in zip(table.rows, predictions, strict=True):
                record = {**row, "predicted_label": _joined(pred), "probabilities": pred.probabilities}
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        return
    columns = list(table.columns) + ["predicted_label"] + [f"prob_{name}" for name in labels]
    with open_text(output_path, rules, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t" if output_path.suffix.lower() == ".tsv" else ",")
        cell = spreadsheet_safe if safe_csv else _same
        writer.writerow([cell(name) for name in columns])
        for row, pred in zip(table.rows, predictions, strict=True):
            values = {**row, "predicted_label": _joined(pred),
                      **{f"prob_{k}": v for k, v in pred.probabilities.items()}}
            writer.writerow([cell(values.get(name)) for name in columns])


def _same(value: Any) -> Any:
    return value


def _joined(pred: Prediction) -> Any:
    return "|".join(pred.labels)
