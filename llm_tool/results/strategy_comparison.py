"""Multilingual vs per-language models of the same tasks, on the same test rows: each strategy's test macro-F1
overall and per language (with support), and the paired bootstrap difference (per_language - multilingual).

Each arm is a tasks parent (`sessions/task_parent.py`). Its children's saved test predictions (``predictions.npz``,
rows in their split's order) are put back on the rows of the split every task shares (`data/task_split.py`); a
per_language arm answers each test row with its language's model, else with its fallback, as `infer PARENT` does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llm_tool.errors import LlmToolError, ModelError
from llm_tool.model_folder import DEFAULT_THRESHOLD, read_label_mapping
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import TaskEntry, task_entries

STRATEGIES = ("multilingual", "per_language")
MIN_TEST_ROWS = 10  # a language's difference is concluded on from this many test rows on (results.languages)
N_RESAMPLES = 1000
CONFIDENCE = 0.95
FALLBACK = "fallback"  # what `routed` says of a row answered by the all-languages model (as `infer` writes it)


@dataclass
class ScoredRows:
    """One task's test rows in the shared split: index (``p12``: row 12 of the primary file), text, language."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class ArmAnswers:
    """One strategy's answer to each test row of a task: the gold value, its decision, and which model gave it."""

    gold: list[Any]
    predicted: list[Any]
    routed: list[str]


def _dataset(meta: SessionMetadata) -> tuple[Any, int]:
    from llm_tool.config import parse_config

    config = parse_config({"dataset_config": dict(meta.dataset_config), "model_config": dict(meta.model_config)},
                          source=meta.session_id)
    seed = config.dataset.split_seed if config.dataset.split_seed is not None else config.model.seed
    return config.dataset, seed


def shared_test_rows(meta: SessionMetadata, home: Path) -> dict[str, ScoredRows]:
    """{task: its annotated test rows} of a tasks parent, in the order its children's test splits have them."""
    from llm_tool.data.task_split import SOURCES, row_languages, shared_split
    from llm_tool.data.tasks import data_files, load_task_table

    cfg, seed = _dataset(meta)
    tasks = list(dict.fromkeys(entry.task for entry in task_entries(meta)))
    cfg = dataclasses.replace(cfg, tasks=tasks)  # as each child has it (its first task stratifies the split)
    paths = dict(zip(SOURCES, data_files(cfg, home), strict=False))
    if cfg.validation_file is None and "v" in paths:  # only a test file: it is the third path (prepare_task)
        paths["t"] = paths.pop("v")
    tables = {prefix: load_task_table(path, cfg) for prefix, path in paths.items()}
    indices, _ = shared_split(tables, cfg, seed)
    languages = {prefix: row_languages(table, cfg) for prefix, table in tables.items()}
    found: dict[str, ScoredRows] = {}
    for task in tasks:
        rows = found.setdefault(task, ScoredRows())
        for index in indices["test"]:
            prefix, row = index[0], int(index[1:])
            if (tables[prefix].values.get(task) or [None] * (row + 1))[row] is None:
                continue
            rows.ids.append(index)
            rows.texts.append(tables[prefix].rows.texts[row])
            rows.languages.append(languages[prefix][row])
    return found


def _decisions(model_dir: Path) -> tuple[list[Any], list[Any]]:
    """A child's test rows as (gold, decision) label names: argmax, or every label at its tuned threshold."""
    from llm_tool.results.predictions import load_predictions

    saved = load_predictions(model_dir)
    split = saved.splits.get("test") if saved else None
    if saved is None or split is None:
        raise ModelError(f"{model_dir.name} has no saved test predictions")
    names = saved.label_names
    probabilities = np.asarray(split.probabilities, dtype=np.float64)
    if not saved.multi_label:
        return [names[int(i)] for i in split.labels], [names[int(i)] for i in probabilities.argmax(axis=1)]
    from llm_tool.results.thresholds import threshold_vector

    tuned = read_label_mapping(model_dir).get("thresholds")
    cut = threshold_vector(tuned if isinstance(tuned, dict) else None, names)
    if cut is None:
        cut = np.full(len(names), DEFAULT_THRESHOLD)
    truth = [frozenset(n for n, on in zip(names, row, strict=True) if on) for row in split.labels]
    return truth, [frozenset(n for n, p, c in zip(names, row, cut, strict=True) if p >= c) for row in probabilities]


def arm_answers(store: SessionStore, entries: list[TaskEntry], rows: ScoredRows) -> ArmAnswers:
    """The arm's answer on each of ``rows``: the row's language model when the arm has one, else its fallback."""
    answers: dict[str, tuple[Any, Any, str]] = {}
    for entry in sorted(entries, key=lambda e: e.language is not None):  # the fallback first, then each language
        meta = store.read(store.path_for_id(entry.session_id))
        gold, predicted = _decisions(store.output_dirs(meta)[0])
        code = (entry.language or "").strip().upper()
        ids = [i for i, lang in zip(rows.ids, rows.languages, strict=True) if not code or lang == code]
        if len(ids) != len(gold):
            raise ModelError(f"session {entry.session_id} has {len(gold)} test rows, the shared split {len(ids)}: "
                             "its data changed since it was trained")
        for index, truth, decision in zip(ids, gold, predicted, strict=True):
            answers[index] = (truth, decision, code.lower() if code else FALLBACK)
    missing = [i for i in rows.ids if i not in answers]
    if missing:
        raise ModelError(f"no model of this strategy answered test row {missing[0]}")
    found = [answers[i] for i in rows.ids]
    return ArmAnswers([a[0] for a in found], [a[1] for a in found], [a[2] for a in found])


def encode(gold: list[Any], *arms: list[Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Gold and each arm's decisions as label indices (single-label) or 0/1 rows over every label (multi-label)."""
    values = [v for column in (gold, *arms) for v in column]
    if values and isinstance(values[0], frozenset):
        names = sorted({n for v in values for n in v})
        index = {n: i for i, n in enumerate(names)}

        def rows(column: list[Any]) -> np.ndarray:
            out = np.zeros((len(column), len(names)), dtype=np.int64)
            for r, chosen in enumerate(column):
                out[r, [index[n] for n in chosen]] = 1
            return out
        return rows(gold), [rows(a) for a in arms]
    names = sorted({str(v) for v in values})
    index = {n: i for i, n in enumerate(names)}
    return (np.asarray([index[str(v)] for v in gold], dtype=np.int64),
            [np.asarray([index[str(v)] for v in a], dtype=np.int64) for a in arms])


def conclusion(diff: float, low: float, high: float, support: int) -> str:
    """What the interval says, in words (a language with few test rows is said to be too small to conclude)."""
    if support < MIN_TEST_ROWS:
        return f"too few test rows to conclude ({support}; at least {MIN_TEST_ROWS} are needed)"
    if low > 0:
        return "per_language is better (the 95% interval is above 0)"
    if high < 0:
        return "multilingual is better (the 95% interval is below 0)"
    return "no clear difference (the 95% interval contains 0)"


def _difference(y: np.ndarray, per_language: np.ndarray, multilingual: np.ndarray) -> dict[str, Any]:
    from llm_tool.results.stats import macro_f1, paired_bootstrap_diff

    diff, low, high = paired_bootstrap_diff(y, per_language, multilingual, macro_f1, n_resamples=N_RESAMPLES,
                                            confidence=CONFIDENCE)
    return {"diff": diff, "ci_low": low, "ci_high": high, "conclusion": conclusion(diff, low, high, len(y))}


def compare_task(task: str, rows: ScoredRows, multilingual: ArmAnswers, per_language: ArmAnswers) -> dict[str, Any]:
    """One task's comparison: overall and per-language macro-F1 of both strategies and their paired differences."""
    from sklearn.metrics import f1_score

    from llm_tool.results.languages import per_language as by_language

    y, (a_multi, a_lang) = encode(multilingual.gold, multilingual.predicted, per_language.predicted)
    record: dict[str, Any] = {"task": task, "test_rows": len(rows.ids), "multi_label": y.ndim == 2}
    record["macro_f1"] = {"multilingual": float(f1_score(y, a_multi, average="macro", zero_division=0)),
                          "per_language": float(f1_score(y, a_lang, average="macro", zero_division=0))}
    record["difference"] = _difference(y, a_lang, a_multi)
    multi_by, lang_by = by_language(y, a_multi, rows.languages, 1), by_language(y, a_lang, rows.languages, 1)
    codes = np.asarray(rows.languages)
    record["languages"] = []
    for code, found in multi_by.items():
        mask = codes == code
        routes = sorted(set(np.asarray(per_language.routed)[mask]))
        record["languages"].append({
            "language": code, "support": found["num_samples"], "multilingual_macro_f1": found["macro_f1"],
            "per_language_macro_f1": lang_by[code]["macro_f1"], "answered_by": ", ".join(routes),
            **_difference(y[mask], a_lang[mask], a_multi[mask])})
    unknown = int(np.sum(codes == ""))
    if unknown:
        record["rows_without_language"] = unknown
    return record


def compare_arms(store: SessionStore, multilingual: SessionMetadata,
                 per_language: SessionMetadata) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Every task's comparison (or why it cannot be made yet), and each task's per-row answers of both arms."""
    rows_by_task = shared_test_rows(per_language, store.home)
    other = shared_test_rows(multilingual, store.home)
    results, answers = [], {}
    for task, rows in rows_by_task.items():
        if other.get(task) is None or other[task].ids != rows.ids:
            results.append({"task": task, "note": "the two strategies were not scored on the same test rows"})
            continue
        try:
            multi = arm_answers(store, [e for e in task_entries(multilingual) if e.task == task], rows)
            lang = arm_answers(store, [e for e in task_entries(per_language) if e.task == task], rows)
        except LlmToolError as exc:  # a child still training, failed, or its model gone
            results.append({"task": task, "note": f"not compared yet: {exc}"})
            continue
        results.append(compare_task(task, rows, multi, lang))
        answers[task] = [{"row": i, "language": code, "text": text, "gold": _cell(g), "multilingual": _cell(m),
                          "per_language": _cell(p), "routed": r}
                         for i, code, text, g, m, p, r in zip(rows.ids, rows.languages, rows.texts, lang.gold,
                                                              multi.predicted, lang.predicted, lang.routed,
                                                              strict=True)]
    return results, answers


def _cell(value: Any) -> str:
    return "|".join(sorted(value)) if isinstance(value, frozenset) else str(value)

