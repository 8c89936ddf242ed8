"""Short readable names: sweep names, pane titles of what differs between jobs (`lr2e-5_bs16`), window groups."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from llm_tool.dispatch.names import NAME_PREFIX, sanitize

SWEEP_PREFIX = f"{NAME_PREFIX}sweep-"  # tmux session of a sweep: `llmtool-sweep-<name>` (seen by `tmux list`)
MAX_TITLE = 60
MAX_WINDOW = 30
# Readable short forms of well-known setting names (the last part of a dotted key).
KEY_ABBREVIATIONS = {
    "learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "warmup_ratio": "wu", "weight_decay": "wd",
    "optimizer": "", "max_length": "len", "seed": "seed", "gradient_accumulation_steps": "ga", "early_stopping": "es",
    "early_stopping_patience": "pat", "eval_batch_size": "ebs", "class_weights": "cw", "precision": "prec",
    "num_threads": "thr", "save_steps": "ss", "save_total_limit": "keep", "group_by_length": "gbl",
    "validation_split": "val", "test_split": "test", "strategy": "", "training_mode": "",
    "selected_model": "", "primary_file": "", "text_column": "txt", "label_column": "lab",
}
SEED_KEY = "model_config.seed"
MODEL_KEYS = frozenset({"selected_model"})
FILE_KEYS = frozenset({"primary_file", "validation_file", "test_file"})
_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_TITLE_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def sweep_name(text: str) -> str:
    """A sweep name usable in file and tmux names: [A-Za-z0-9_-], at most 40 characters."""
    return sanitize(text)


def tmux_session_name(name: str) -> str:
    return f"{SWEEP_PREFIX}{name}"


def short_model_name(model: str) -> str:
    """`sentence-transformers/all-MiniLM-L6-v2` -> `all-MiniLM-L6-v2`; a local folder -> its name."""
    text = str(model).rstrip("/\\")
    return PurePath(text).name or text


def generic_abbreviation(name: str) -> str:
    """An unknown key abbreviated on token boundaries: `label_smoothing_factor` -> `lsf`, `dropout` -> `drop`."""
    tokens = [t.lower() for t in _TOKENS.findall(name)]
    if not tokens:
        return sanitize(name, limit=8).lower()
    if len(tokens) == 1:
        return tokens[0][:4]
    return "".join(t if t.isdigit() else t[0] for t in tokens)


def abbreviate_key(key: str) -> str:
    """`model_config.learning_rate` -> `lr` (known names), else ``generic_abbreviation`` of the last part."""
    last = key.rsplit(".", 1)[-1]
    if last in KEY_ABBREVIATIONS:
        return KEY_ABBREVIATIONS[last]
    return generic_abbreviation(last)


def format_number(value: float) -> str:
    """2e-05 -> `2e-5`, 0.1 -> `0.1`, 3.0 -> `3`."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e6):
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 0.01:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4g}"


def format_value(key: str, value: Any) -> str:
    last = key.rsplit(".", 1)[-1]
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        if last in MODEL_KEYS:
            return short_model_name(value)
        if last in FILE_KEYS:
            return PurePath(value).stem
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def label(key: str, value: Any) -> str:
    """One part of a title: `lr2e-5`, `bs16`, or the bare model name."""
    return clean_title(f"{abbreviate_key(key)}{format_value(key, value)}")


def clean_title(text: str, limit: int = MAX_TITLE) -> str:
    cleaned = _TITLE_UNSAFE.sub("-", text).strip("-_")
    return cleaned[:limit].rstrip("-_") or "job"


def get_dotted(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def differing_keys(configs: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """The keys (in the given order) whose values are not the same in every config."""
    out = []
    for key in keys:
        seen = {json.dumps(get_dotted(c, key), sort_keys=True, default=str) for c in configs}
        if len(seen) > 1:
            out.append(key)
    return out


def _distinct_abbreviations(keys: Sequence[str]) -> dict[str, str]:
    """Abbreviations of ``keys``; two keys sharing one fall back to their full (cleaned) last part."""
    short = {k: abbreviate_key(k) for k in keys}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    for key, value in short.items():
        if counts[value] > 1 and value:
            short[key] = sanitize(key.rsplit(".", 1)[-1], limit=20).lower()
    return short


def job_titles(configs: Sequence[Mapping[str, Any]], override_keys: Sequence[str], *,
               skip: Sequence[str] = (), taken: Sequence[str] = ()) -> list[str]:
    """A short unique title per config from the override keys whose values differ (``skip``: shown elsewhere,
    e.g. the window's group key, unless nothing else differs). Titles in ``taken`` get `-2`, `-3`..."""
    keys = differing_keys(configs, override_keys)
    # the seed alone does not tell configurations apart: then the skipped key (e.g. the model) is shown too
    shown = [k for k in keys if k not in skip] if any(k not in skip and k != SEED_KEY for k in keys) else keys
    if not shown and len(configs) == 1 and override_keys:
        shown = list(override_keys)  # a single job: name it by what it sets
    if shown == [SEED_KEY]:  # seeds of one model (e.g. a candidate added to a benchmark): the model named too
        shown = [k for k in override_keys if k.rsplit(".", 1)[-1] in MODEL_KEYS][:1] + shown
    short = _distinct_abbreviations(shown)
    used = set(taken)
    titles = []
    for number, config in enumerate(configs, start=1):
        parts = [clean_title(f"{short[k]}{format_value(k, get_dotted(config, k))}") for k in shown]
        base = clean_title("_".join(parts)) if parts else f"job{len(taken) + number}"
        title, n = base, 1
        while title in used:
            n += 1
            title = f"{base}-{n}"
        used.add(title)
        titles.append(title)
    return titles


def group_label(key: str | None, config: Mapping[str, Any]) -> str:
    """The window group of a job: the short model name for the model key, else e.g. `lr2e-5`; safe for tmux."""
    if not key:
        return "jobs"
    value = get_dotted(config, key)
    text = format_value(key, value) if key.rsplit(".", 1)[-1] in MODEL_KEYS else label(key, value)
    return sanitize(text.replace(".", "_"), limit=MAX_WINDOW)
