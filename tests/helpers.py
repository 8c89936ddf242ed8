"""Test helpers: tiny model factory, small data sets, config files, CLI runs (in process or not) and polling."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def wait_until(check: Callable[[], T | None], *, timeout: float = 120.0, what: str = "", interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy (returned); fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or check}: last value {last!r}")
        time.sleep(interval)


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


@dataclass
class CliResult:
    """What a command left: its exit code and its output (the fields of ``subprocess.CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: dict[str, str], cwd: Path | None) -> Iterator[None]:
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


@contextlib.contextmanager
def _consoles() -> Iterator[None]:
    """The shared Rich consoles read the size and colour from the environment of this run, as a new process would
    (both are fixed when the console is created: at the first import)."""
    from llm_tool.ui import console as ui

    saved = [(c, c._width, c._height, c._color_system) for c in (ui.console, ui.err_console)]
    for item in saved:
        item[0]._width = item[0]._height = None
        item[0]._color_system = item[0]._detect_color_system()
    try:
        yield
    finally:
        for c, width, height, colours in saved:
            c._width, c._height, c._color_system = width, height, colours


def run_main(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """``llm-tool ARGS`` in this process (``llm_tool.cli.main``): stdin empty and not a terminal, stdout and stderr
    captured, ``env`` added to the environment and ``cwd`` entered for the call only (80 columns unless ``env``
    says otherwise). An exception that escapes ``main`` is written to stderr with exit code 1, as Python would."""
    from llm_tool.cli import main

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    with _environment({"COLUMNS": "80", **(env or {})}, cwd):
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(), out, err
        try:
            with _consoles():
                code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if isinstance(exc.code, str):
                err.write(exc.code + "\n")
        except Exception:  # noqa: BLE001 - shown as the process would show it
            traceback.print_exc(file=err)
            code = 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
            if threads is not None and "torch" in sys.modules:
                sys.modules["torch"].set_num_threads(threads)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m llm_tool ARGS`` in a subprocess (the same interpreter), output captured: for tests where the
    process is the behaviour (a real entry point, signals, what a crash prints); otherwise use ``run_main``."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "llm_tool", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def start_cli(*args: str, stdout: Path | None = None, stderr: Path | None = None,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """``python -m llm_tool ARGS`` started in the background (the caller waits, signals or kills it); its output
    goes to the given files, else nowhere; ``env`` is added to this process's environment."""
    with contextlib.ExitStack() as files:
        out, err = (files.enter_context(p.open("wb")) if p else subprocess.DEVNULL for p in (stdout, stderr))
        return subprocess.Popen([sys.executable, "-m", "llm_tool", *args], stdout=out, stderr=err,
                                env={**os.environ, **(env or {})}, cwd=cwd)


def entry_point() -> list[str]:
    """The installed `llm-tool` script next to this interpreter (``python -m llm_tool`` where it is not installed)."""
    script = Path(sys.executable).with_name("llm-tool")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "llm_tool"]


def fake_session(store: Any, when: datetime, *, status: str = "completed", model: str = "bert-base-uncased",
                 dataset: str = "/data/reviews.csv", best_f1: float | None = 0.8, **status_fields: Any) -> Path:
    """A session file as the tool writes them, every section filled, without training (``store.create``)."""
    from llm_tool.sessions import SessionMetadata

    meta = SessionMetadata(
        dataset_config={"primary_file": dataset, "text_column": "text", "label_column": "label",
                        "strategy": "single-label", "format": "auto", "total_samples": 500, "num_categories": 2,
                        "category_distribution": {"positive": 250, "negative": 250}},
        model_config={"selected_model": model, "training_mode": "custom", "epochs": 3, "batch_size": 16,
                      "learning_rate": 5e-5, "early_stopping": True, "seed": 42})
    info = meta.training_session
    info.tool_version, info.workflow, info.schema_version = "llm-tool 0.1.0", "Training Studio - Custom", 2
    run = meta.execution_status
    run.status, run.best_f1, run.models_trained = status, best_f1, [model]
    run.started_at = when.isoformat()
    run.duration_seconds = 95.0
    for key, value in status_fields.items():
        setattr(run, key, value)
    meta.language_config.confirmed_languages = ["EN"]
    meta.environment.python = "3.11.7"
    return Path(store.create(meta, now=when))


def session_files(home: Path) -> list[Path]:
    return sorted((home / "logs" / "training_sessions").glob("training_metadata_*.json"))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
