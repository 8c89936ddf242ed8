"""Helpers of the attack tests: run the CLI in-process, check the one-line error, snapshot the file tree."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from llm_tool.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
SESSIONS = Path("logs") / "training_sessions"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def one_error(result: tuple[int, str, str], *needles: str) -> str:
    """The run ended with exit code 2 and exactly one short 'error:' line holding every needle."""
    rc, out, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, (rc, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "unexpected" not in err, err
    assert len(lines[0]) <= 1100, len(lines[0])
    assert "\x1b" not in err and "\x07" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def data_file(folder: Path, rows: int = 40, name: str = "data.csv") -> Path:
    """``rows`` rows of the sample (text,label,source), half positive, half negative."""
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    chosen = [r for r in records if r["label"] == "positive"][: rows // 2]
    chosen += [r for r in records if r["label"] == "negative"][: rows // 2]
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(chosen)
    return path


def config(folder: Path, data: Path | str, model: Path | str = "tiny", name: str = "c.json",
           dataset: dict[str, Any] | None = None, **model_config: Any) -> Path:
    raw = {"dataset_config": {"primary_file": str(data), "text_column": "text", "label_column": "label",
                              **(dataset or {})},
           "model_config": {"selected_model": str(model), "epochs": 1, "batch_size": 8, **model_config}}
    path = folder / name
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def session_files(home: Path) -> list[Path]:
    return sorted((home / SESSIONS).glob("training_metadata_*.json"))


def write_session(home: Path, stamp: str, data: Any, *, raw: str | None = None) -> Path:
    folder = home / SESSIONS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"training_metadata_{stamp}.json"
    path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, float]:
    """Every file under ``folder`` with its modification time (to see what a command wrote or removed)."""
    out = {}
    for base, _, names in os.walk(folder):
        for name in names:
            path = Path(base, name)
            try:
                out[str(path)] = path.lstat().st_mtime
            except FileNotFoundError:
                continue
    return out
