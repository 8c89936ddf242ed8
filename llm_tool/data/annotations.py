"""Annotation cells and task values, read safely: JSON objects or Python-dict strings, bounded, never evaluated."""

from __future__ import annotations

import ast
import contextlib
import json
import math
from typing import Any

from llm_tool.errors import DatasetError
from llm_tool.untrusted import json_depth_exceeds, quoted, shown

MAX_CELL_CHARS = 64 * 1024  # one annotation cell: a few keys and labels; 64 KiB is far beyond a real one
MAX_CELL_DEPTH = 8  # an object of labels or lists of labels nests 2 levels; deeper is a broken or hostile cell
MAX_TASKS = 1000  # distinct keys over a whole file: more is not an annotation column
MAX_KEY_CHARS = 200
NULL_STRING = "null"  # LLM_Tool writes the string 'null' for "no value": not annotated unless null_as_class


def bracket_depth(text: str) -> int:
    """The deepest nesting of {} and [] (and () of Python tuples) in ``text``, outside quoted strings."""
    depth = deepest = 0
    quote: str | None = None
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "{[(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}])":
            depth -= 1
    return deepest


def _where(source: str, number: int) -> str:
    return f"{shown(source)} row {number}"


def parse_cell(value: Any, source: str, number: int, column: str) -> dict[str, Any] | None:
    """The object in one annotation cell (None when the cell is empty); any other content is a DatasetError."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dict):
        if json_depth_exceeds(value, MAX_CELL_DEPTH):
            raise DatasetError(f"{_where(source, number)}: the '{shown(column, 80)}' object nests deeper than "
                               f"{MAX_CELL_DEPTH} levels; annotations are labels or lists of labels")
        return value
    if not isinstance(value, str):
        raise DatasetError(f"{_where(source, number)}: '{shown(column, 80)}' holds {quoted(value, 60)}, not an "
                           'object of annotations like {"sentiment": "negative"}; fix the row or the column name')
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_CELL_CHARS:
        raise DatasetError(f"{_where(source, number)}: the '{shown(column, 80)}' cell is over "
                           f"{MAX_CELL_CHARS // 1024} KiB; annotations are a few labels: fix the row")
    if sum(map(text.count, "{[(")) > MAX_CELL_DEPTH and bracket_depth(text) > MAX_CELL_DEPTH:  # count: fast
        raise DatasetError(f"{_where(source, number)}: the '{shown(column, 80)}' cell nests deeper than "
                           f"{MAX_CELL_DEPTH} levels; annotations are labels or lists of labels")
    parsed = _parse_object(text)
    if isinstance(parsed, str) and parsed.strip().startswith("{"):  # JSON text of an object, encoded twice
        parsed = _parse_object(parsed.strip())
    if not isinstance(parsed, dict):
        raise DatasetError(f"{_where(source, number)}: '{shown(column, 80)}' holds {quoted(text, 60)}, not an "
                           'object of annotations like {"sentiment": "negative"}; fix the row or the column name')
    return parsed


def _parse_object(text: str) -> Any:
    """JSON, else a Python literal (``{'a': 'x', 'b': None}``) read by ``ast.literal_eval``: data only, never code."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if not text.startswith("{"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def check_key(key: Any, source: str, number: int) -> str:
    """A task name from an annotation key: text without control characters, of sensible length."""
    if isinstance(key, bool) or not isinstance(key, (str, int, float)):
        raise DatasetError(f"{_where(source, number)}: annotation key {quoted(key, 60)} is not a name: use text keys")
    name = str(key)
    if not name.strip():
        raise DatasetError(f"{_where(source, number)}: an annotation key is empty: name every key")
    if len(name) > MAX_KEY_CHARS:
        raise DatasetError(f"{_where(source, number)}: annotation key '{shown(name, 60)}' is over "
                           f"{MAX_KEY_CHARS} characters: shorten it")
    if not name.isprintable():
        raise DatasetError(f"{_where(source, number)}: annotation key '{shown(name, 80)}' holds control "
                           "characters: rename it")
    return name


def _scalar(value: Any) -> str | None:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            value = int(value)
    return str(value).strip() or None


def task_value(value: Any, *, null_as_class: bool, source: str, number: int, task: str) -> str | list[str] | None:
    """One row's value for a task: a label, a list of labels (multi-label), or None when not annotated
    (missing, null, empty, an empty list, or the string "null" unless ``null_as_class``)."""
    if isinstance(value, str) and value.strip().startswith("["):
        with contextlib.suppress(ValueError, RecursionError):  # not a JSON list: one label that starts with [
            value = json.loads(value)
    if isinstance(value, (list, tuple)):
        labels = [_label(item, null_as_class=null_as_class, source=source, number=number, task=task)
                  for item in value]
        kept = list(dict.fromkeys(label for label in labels if label is not None))
        return kept or None
    return _label(value, null_as_class=null_as_class, source=source, number=number, task=task)


def _label(value: Any, *, null_as_class: bool, source: str, number: int, task: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, tuple, set)):
        raise DatasetError(f"{_where(source, number)}: task '{shown(task, 80)}' holds {quoted(value, 60)}; a task's "
                           "value is a label or a list of labels: fix the row")
    label = _scalar(value)
    if label is None or (label.lower() == NULL_STRING and not null_as_class):
        return None
    if not label.isprintable():
        raise DatasetError(f"{_where(source, number)}: task '{shown(task, 80)}' has label {quoted(label, 60)} with "
                           "control characters: fix the row")
    return label
