"""LLM_Tool's `llm-json` sessions as tasks: its annotation column, keys and per-language choice mapped onto ours.

LLM_Tool (v2.0 `training_metadata.json`) records the file it derived for training as `primary_file` with that
file's `format_type` (e.g. jsonl), and the user's CSV as `source_file`; the keys it trained are in
`multiclass_keys`/`onevsall_keys`/`key_strategies`/`files_per_key`. We read the user's CSV itself: one task per key.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from llm_tool.data.annotations import MAX_KEY_CHARS, MAX_TASKS

LLM_JSON = "llm-json"
# LLM_Tool dataset_config keys this mapping uses (or replaces): not reported as unused.
USED_DATASET_KEYS = ("format", "format_type", "annotation_column", "multiclass_keys", "onevsall_keys",
                     "key_strategies", "files_per_key", "source_file", "label_column", "label_columns", "strategy",
                     "training_approach", "original_strategy", "all_keys_values", "value_counts_by_key", "categories",
                     "has_validation", "has_test")
USED_MODEL_KEYS = ("train_by_language", "models_by_language")
DERIVED_FILES = ("multilabel", "onevsall_multilabel")  # files_per_key entries naming derived files, not keys
DERIVED_COLUMNS = ("label_column", "label_columns", "label_separator", "format")  # of the derived file, not the CSV


def is_llm_json(dataset: Any) -> bool:
    """A reference-tool session trained from an annotation column: `format` or `format_type` llm-json, or (when
    both name the derived file's format) an annotation column with the user's `source_file` or trained keys."""
    if not isinstance(dataset, dict):
        return False
    if LLM_JSON in (dataset.get("format"), dataset.get("format_type")):
        return True
    return isinstance(dataset.get("annotation_column"), str) and bool(
        dataset.get("source_file") or dataset.get("multiclass_keys") or dataset.get("files_per_key"))


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else list(value) if isinstance(value, dict) else []
    return [k for k in items if isinstance(k, str) and k.strip() and len(k) <= MAX_KEY_CHARS and k.isprintable()]


def reference_keys(dataset: dict[str, Any]) -> list[str]:
    """The keys the session trained, in its order: multi-class keys, one-vs-all keys, then any other named key."""
    keys: dict[str, None] = {}
    for field in ("multiclass_keys", "onevsall_keys", "key_strategies", "files_per_key"):
        keys.update(dict.fromkeys(k for k in _names(dataset.get(field)) if k not in DERIVED_FILES))
    return list(keys)[:MAX_TASKS]


def _language_choice(data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Whether it trained one model per language, and its {language: model} mapping."""
    language, model = (data[k] if isinstance(data.get(k), dict) else {} for k in ("language_config", "model_config"))
    mapping = language.get("language_model_mapping") or model.get("models_by_language") or {}
    mapping = mapping if isinstance(mapping, dict) else {}
    per_language = bool(model.get("train_by_language") or language.get("per_language_training") or mapping)
    return per_language, mapping


def map_llm_json(data: dict[str, Any], raw: dict[str, dict[str, Any]], unused: list[str]) -> list[str]:
    """Turn the settings taken from an llm-json session into a tasks config (in place); returns notes to show."""
    dataset = data["dataset_config"]
    ours = raw["dataset_config"]
    for key in DERIVED_COLUMNS:
        ours.pop(key, None)
    ours["strategy"] = "single-label"  # each task's kind (single- or multi-label) is found from its values
    column = dataset.get("annotation_column")
    ours["annotation_column"] = column if isinstance(column, str) and column.strip() else "annotation"
    keys = reference_keys(dataset)
    if keys:
        ours["tasks"] = keys
    notes = []
    if _names(dataset.get("onevsall_keys")):
        notes.append("its one-vs-all keys train one model per key here (all the key's values in one model)")
    per_language, mapping = _language_choice(data)
    if per_language:
        raw["model_config"]["language_strategy"] = "per_language"
    models = sorted({m for m in mapping.values() if isinstance(m, str) and m.strip()})
    if len(models) == 1 and not raw["model_config"].get("selected_model"):
        raw["model_config"]["selected_model"] = models[0]
    elif len(models) > 1:
        notes.append(f"its language_model_mapping names {len(models)} models: each language's model here is "
                     "model_config.selected_model (set it with --set)")
    used = {f"dataset_config.{k}" for k in USED_DATASET_KEYS} | {f"model_config.{k}" for k in USED_MODEL_KEYS}
    unused[:] = [entry for entry in unused if entry.split(" ")[0] not in used]
    return notes


HEADER_BYTES = 64 * 1024
TEXT_COLUMNS = ("sentence", "text")  # LLM_Tool's default text column of an llm-json CSV, then the usual name


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV/TSV (read from its first 64 KiB); [] when there is none."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return []
    line = head.splitlines()[0] if head.strip() else ""
    rows = [next(csv.reader([line], delimiter=d), []) for d in (",", ";", "\t", "|")]
    return [name.strip() for name in max(rows, key=len)]


def text_column_of(path: Path, recorded: Any) -> str | None:
    """The text column of the user's CSV: LLM_Tool records the column of the file it derived ("text"), not the
    CSV's own; keep the recorded one when the CSV has it, else LLM_Tool's default name when the CSV has that."""
    header = csv_header(path) if path.suffix.lower() in (".csv", ".tsv", ".txt") else []
    if not header or recorded in header:
        return None
    return next((name for name in TEXT_COLUMNS if name in header), None)
