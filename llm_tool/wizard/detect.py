"""Guesses that give each step its default: data files under the home, text and label columns, multi-label."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from llm_tool.data.formats import Table
from llm_tool.data.labels import SEPARATORS
from llm_tool.model_folder import CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE

SKIP_DIRS = {"logs", "models", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "build", "dist"}
LABEL_NAMES = ("label", "labels", "category", "categories", "class", "classes", "target", "sentiment", "tag",
               "tags", "topic", "y")
TEXT_NAMES = ("text", "sentence", "content", "body", "review", "document", "message", "comment")
MODEL_FILES = (WEIGHTS_FILE, "pytorch_model.bin", TOKENIZER_FILE, "vocab.txt", "tokenizer_config.json")
MAX_DEPTH = 3
MAX_FILES = 30


def _is_config_json(path: Path) -> bool:
    """A llm-tool config or session file, not data (peeks at the first 4 KB only)."""
    try:
        with path.open("r", encoding="utf-8", errors="ignore") as handle:
            head = handle.read(4096)
    except OSError:
        return True
    return '"dataset_config"' in head or '"model_config"' in head


def _is_model_folder(folder: Path) -> bool:
    """A saved model or tokenizer (config.json beside weights or vocabulary): nothing to train on inside."""
    return (folder / CONFIG_FILE).exists() and any((folder / name).exists() for name in MODEL_FILES)


def find_data_files(root: Path, *, suffixes: tuple[str, ...], max_depth: int = MAX_DEPTH,
                    limit: int = MAX_FILES) -> list[Path]:
    """Data files under ``root`` (not the tool's logs/ or models/, virtualenvs or hidden folders), nearest first."""
    found: list[Path] = []
    level = [root]
    for _ in range(max_depth + 1):
        below: list[Path] = []
        for folder in level:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS and not entry.name.endswith(".egg-info") \
                            and not _is_model_folder(Path(entry.path)):
                        below.append(Path(entry.path))
                elif entry.is_file() and Path(entry.name).suffix.lower() in suffixes:
                    path = Path(entry.path)
                    if path.suffix.lower() == ".json" and _is_config_json(path):
                        continue
                    found.append(path)
                    if len(found) >= limit:
                        return found
        level = below
    return found


SAMPLE_ROWS = 2000  # column descriptions are computed on this many first rows


def _strings(table: Table, column: str, limit: int = SAMPLE_ROWS) -> list[str]:
    values = [row.get(column) for row in table.rows[:limit]]
    return [v if isinstance(v, str) else json.dumps(v) if isinstance(v, list) else str(v)
            for v in values if v is not None and v == v]  # v == v drops NaN


def column_stats(table: Table) -> dict[str, dict[str, float]]:
    """Per column: average length of its values and the number of distinct values (on the first 2000 rows)."""
    stats = {}
    for column in table.columns:
        values = _strings(table, column)
        average = sum(len(v) for v in values) / len(values) if values else 0.0
        stats[column] = {"avg_length": round(average, 1), "distinct": float(len(set(values))),
                         "filled": float(len(values))}
    return stats


def column_hints(table: Table) -> dict[str, str]:
    """Per column: 'N distinct, avg M chars: first value', saying 'in the first 2,000 rows' when it is sampled."""
    hints = {}
    sampled = f" in the first {SAMPLE_ROWS:,} rows" if len(table.rows) > SAMPLE_ROWS else ""
    for column, stat in column_stats(table).items():
        sample = next((v for v in _strings(table, column, 5) if v), "")
        hints[column] = (f"{int(stat['distinct'])} distinct, avg {stat['avg_length']:.0f} chars{sampled}"
                         f"{': ' + sample[:60] if sample else ''}")
    return hints


def guess_text_column(table: Table, exclude: tuple[str, ...] = ()) -> str:
    """The column with the longest values on average (a conventional name wins a near tie), not in ``exclude``
    (e.g. annotation columns, whose JSON may be longer than the texts)."""
    stats = column_stats(table)
    columns = [c for c in table.columns if c not in exclude] or table.columns
    best = max(columns, key=lambda c: (stats[c]["avg_length"], c.lower() in TEXT_NAMES))
    named = [c for c in columns if c.lower() in TEXT_NAMES]
    if named and stats[named[0]]["avg_length"] >= 0.8 * stats[best]["avg_length"]:
        return named[0]
    return best


def guess_label_column(table: Table, text_column: str) -> str | None:
    """A conventional label name, else the column with the fewest distinct values (at least two)."""
    others = [c for c in table.columns if c != text_column]
    for name in LABEL_NAMES:
        for column in others:
            if column.lower() == name:
                return column
    stats = column_stats(table)
    rows = max(1, len(table.rows))
    candidates = [c for c in others if 2 <= stats[c]["distinct"] <= max(2, min(100, rows // 2))]
    if candidates:
        return min(candidates, key=lambda c: (stats[c]["distinct"], others.index(c)))
    return others[0] if others else None


def detect_strategy(values: list[Any]) -> tuple[str, str]:
    """('single-label' | 'multi-label', why): lists or a separator shared by labels mean multi-label."""
    present = [v for v in values if v is not None and v == v]
    if not present:
        return "single-label", "no labels"
    lists = sum(isinstance(v, list) or (isinstance(v, str) and v.strip().startswith("[")) for v in present)
    if lists >= 0.5 * len(present):
        return "multi-label", "labels are lists"
    strings = [v for v in present if isinstance(v, str)]
    for sep in SEPARATORS:
        joined = [v for v in strings if sep in v]
        if not joined or len(joined) < 0.1 * len(present):
            continue
        parts = Counter(p.strip() for v in strings for p in v.split(sep) if p.strip())
        if len(parts) < len(set(strings)):  # pieces are shared between rows: real label sets
            return "multi-label", f"labels joined with '{sep}'"
    return "single-label", "one value per row"


def dataset_section(path: Path, text_column: str, label_column: str, strategy: str, fmt: str = "auto",
                    ) -> dict[str, Any]:
    return {"primary_file": str(path), "text_column": text_column, "label_column": label_column,
            "strategy": strategy, "format": fmt}


# ----- splits ------------------------------------------------------------------------------------
SIBLING_NAMES = {"validation": ("dev", "valid", "validation", "val"), "test": ("test",)}
_TRAIN_WORD = re.compile(r"(?<![a-z])train(?:ing)?(?![a-z])", re.IGNORECASE)


def split_column_candidates(table: Table, exclude: tuple[str, ...]) -> list[tuple[str, dict[str, int]]]:
    """Columns whose every value names a split (train/dev/validation/test...) with train and one other:
    (column, rows per split) each."""
    from llm_tool.data.labels import SPLIT_NAMES

    found = []
    for column in table.columns:
        if column in exclude:
            continue
        counts: Counter[str] = Counter()
        for row in table.rows:
            name = SPLIT_NAMES.get(str(row.get(column, "")).strip().lower())
            if name is None:
                break
            counts[name] += 1
        else:
            if counts.get("train") and len(counts) >= 2:
                found.append((column, {k: counts.get(k, 0) for k in ("train", "validation", "test")}))
    return found


def sibling_split_files(path: Path) -> dict[str, Path]:
    """For a file named like ``train.csv`` / ``fr_train.tsv``, the existing ``dev``/``valid*`` and ``test``
    files beside it with the same pattern: {"validation": path, "test": path} (either may be missing)."""
    if not _TRAIN_WORD.search(path.stem):
        return {}
    found: dict[str, Path] = {}
    for split, words in SIBLING_NAMES.items():
        for word in words:
            candidate = path.with_name(_TRAIN_WORD.sub(word, path.stem, count=1) + path.suffix)
            if candidate != path and candidate.is_file():
                found[split] = candidate
                break
    return found


# ----- leakage-safe splits: id-like and date-like columns ----------------------------------------------
_ID_NAME = re.compile(r"(?:^|[_\W])(?:id|doc|document|speech|speaker|user|author|post|thread|article|manifesto|"
                      r"party|group|session|interview|respondent)(?:$|[_\W])|_id$|id$", re.IGNORECASE)
_DATE_NAME = re.compile(r"date|time|year|day|month|published|created|posted", re.IGNORECASE)
MAX_SPLIT_CANDIDATES = 3


def group_column_candidates(table: Table, exclude: tuple[str, ...]) -> list[tuple[str, int]]:
    """Columns whose rows come in groups (an id-like name, or values repeated on many rows; at least 3 groups):
    (column, number of groups) each, id-like names first."""
    found: list[tuple[bool, str, int]] = []
    rows = len(table.rows)
    for column in table.columns:
        if column in exclude or rows < 6:
            continue
        values = [str(row.get(column, "")).strip() for row in table.rows]
        if any(not v for v in values):
            continue
        groups = len(set(values))
        named = bool(_ID_NAME.search(column))
        repeated = 3 <= groups <= rows // 2
        if repeated or (named and 3 <= groups < rows):
            found.append((not named, column, groups))
    return [(column, groups) for _, column, groups in sorted(found)[:MAX_SPLIT_CANDIDATES]]


def date_column_candidates(table: Table, exclude: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Columns whose every sampled cell is a date (bare numbers only under a date-like name): (column, oldest,
    newest) each."""
    import pandas as pd

    found = []
    sample = table.rows[:500]
    for column in table.columns:
        if column in exclude or not sample:
            continue
        values = [str(row.get(column, "")).strip() for row in sample]
        numeric = all(v.replace(".", "", 1).isdigit() for v in values)
        if not all(values) or (numeric and not _DATE_NAME.search(column)) or len(set(values)) < 3:
            continue
        stamps = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce", format="mixed", utc=True)
        if stamps.isna().any():
            continue
        found.append((column, str(stamps.min().date()), str(stamps.max().date())))
    return found[:MAX_SPLIT_CANDIDATES]
