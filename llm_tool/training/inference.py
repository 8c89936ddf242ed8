"""Predict labels and probabilities with a trained model folder (safetensors weights only)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_tool.errors import DatasetError, ModelError


@dataclass
class Prediction:
    text: str
    labels: list[str]
    probabilities: dict[str, float]


class Predictor:
    def __init__(self, model_dir: Path, batch_size: int = 32, precision: str = "auto") -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # no library progress bars or load reports around our own display
        hf_logging.disable_progress_bar()

        if not (model_dir / "config.json").exists():
            raise ModelError(f"{model_dir} is not a trained model folder (no config.json): give models/<session_id>")
        if not (model_dir / "model.safetensors").exists():
            raise ModelError(f"{model_dir} has no model.safetensors: only safetensors weights are loaded")
        self._choose_numerics(precision)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(model_dir), use_safetensors=True, attn_implementation=self.attention)
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"cannot load the model in {model_dir}: {str(exc).splitlines()[0][:160]}") from None
        self.model.eval()
        if self.device_type == "cuda":
            self.model.to("cuda")
        mapping_file = model_dir / "label_mapping.json"
        mapping = json.loads(mapping_file.read_text()) if mapping_file.exists() else {}
        id2label = self.model.config.id2label
        self.labels = mapping.get("labels") or [id2label[i] for i in sorted(id2label)]
        multi_default = self.model.config.problem_type == "multi_label_classification"
        self.multi_label = bool(mapping.get("multi_label", multi_default))
        self.max_length = int(mapping.get("max_length") or 128)
        self.batch_size = batch_size
        tuned = mapping.get("thresholds") if self.multi_label else None  # per label, tuned on validation
        self.thresholds = {str(k): float(v) for k, v in tuned.items()} if isinstance(tuned, dict) else {}

    def logits(self, texts: list[str]) -> Any:
        """Raw model outputs (rows x labels, numpy) for ``texts``, in order. Texts are tokenized once, batched by
        length (little padding) and run under bf16 autocast where the CPU or GPU does bf16 natively."""
        import numpy as np
        import torch

        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_length)
        order = sorted(range(len(texts)), key=lambda i: len(encoded["input_ids"][i]))
        with torch.inference_mode(), torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                batch = self.tokenizer.pad({key: [encoded[key][i] for i in rows] for key in encoded},
                                           return_tensors="pt")
                out[rows] = self.model(**batch.to(self.model.device)).logits.float().cpu().numpy()
        return out

    def _choose_numerics(self, precision: str) -> None:
        """bf16 autocast where ``precision`` resolves to it (auto: a GPU or a CPU with native bf16) and the attention
        kernels that go with it, as in training."""
        from llm_tool.training.environment import attention_kernels, detect_device, resolve_precision

        device = detect_device()
        self.device_type = "cuda" if device["cuda"] else "cpu"
        resolved = resolve_precision(precision, device)
        self.bf16 = resolved == "bf16"
        self.attention = attention_kernels("auto", resolved, device)

    def predict(self, texts: list[str]) -> list[Prediction]:
        from llm_tool.training.metrics import probabilities

        out: list[Prediction] = []
        probs = probabilities(self.logits(texts), self.multi_label)
        for text, row in zip(texts, probs, strict=False):
            scores = {name: round(float(p), 6) for name, p in zip(self.labels, row, strict=False)}
            if self.multi_label:  # the label's tuned threshold (label_mapping.json), else 0.5
                chosen = [name for name, p in zip(self.labels, row, strict=False)
                          if p >= self.thresholds.get(name, 0.5)]
            else:
                chosen = [self.labels[int(row.argmax())]]
            out.append(Prediction(text, chosen, scores))
        return out


def predict_file(predictor: Predictor, input_path: Path, output_path: Path, text_column: str = "text") -> int:
    """Predict every row of ``input_path`` and write them, in the same order, as CSV or JSONL."""
    from llm_tool.data.formats import read_table

    table = read_table(input_path)
    if text_column not in table.columns:
        raise DatasetError(f"column '{text_column}' not found in {input_path.name}; its columns are: "
                           f"{', '.join(table.columns)} (use --text-column)")
    texts = ["" if row.get(text_column) is None else str(row.get(text_column)) for row in table.rows]
    predictions = predictor.predict(texts)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    suffix = output_path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with output_path.open("w", encoding="utf-8") as handle:
            for row, pred in zip(table.rows, predictions, strict=False):
                record = {**row, "predicted_label": _joined(pred), "probabilities": pred.probabilities}
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    elif suffix in (".csv", ".tsv"):
        columns = list(table.columns) + ["predicted_label"] + [f"prob_{name}" for name in predictor.labels]
        with output_path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t" if suffix == ".tsv" else ",")
            writer.writeheader()
            for row, pred in zip(table.rows, predictions, strict=False):
                writer.writerow({**row, "predicted_label": _joined(pred),
                                 **{f"prob_{k}": v for k, v in pred.probabilities.items()}})
    else:
        raise DatasetError(f"output must end in .csv, .tsv or .jsonl, got {output_path.name}")
    return len(predictions)


def _joined(pred: Prediction) -> Any:
    return "|".join(pred.labels)
