"""Test helpers: tiny model factory, small data sets, config files and CLI runs."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def build_tiny_model(folder: Path, corpus_csv: Path, vocab_size: int = 2000) -> Path:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words: Counter[str] = Counter()
    with corpus_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            words.update(re.findall(r"\w+|[^\w\s]", row["text"].lower()))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [w for w, _ in words.most_common(vocab_size)]
    tokenizer = BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}, do_lower_case=True)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, hidden_dropout_prob=0.1)
    import torch

    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def sample_rows(sample_csv: Path, n: int, *, column: str = "label") -> list[dict[str, str]]:
    """``n`` rows of the sample, balanced over ``column`` (first rows of each class)."""
    with sample_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    classes = sorted({r[column] for r in rows})
    per = n // len(classes)
    out = []
    for name in classes:
        out += [r for r in rows if r[column] == name][:per]
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_config(path: Path, data_file: Path, model: Path | str, **model_config: Any) -> Path:
    dataset = model_config.pop("dataset_config", {})
    config = {
        "dataset_config": {"primary_file": str(data_file), "text_column": "text", "label_column": "label",
                           "strategy": "single-label", **dataset},
        "model_config": {"selected_model": str(model), "epochs": 1, "batch_size": 8, "learning_rate": 3e-3,
                         "early_stopping": False, "training_mode": "quick", **model_config},
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m llm_tool ARGS`` in a subprocess (the same interpreter), output captured."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "llm_tool", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def session_files(home: Path) -> list[Path]:
    return sorted((home / "logs" / "training_sessions").glob("training_metadata_*.json"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
