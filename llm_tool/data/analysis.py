"""Describe a data set: label distribution, token-length statistics and detected languages."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from llm_tool.data.tasks import TaskInfo

LANGUAGE_SAMPLE = 500  # texts run through the language detector (a seeded sample beyond that): 0.25 s on 2 cores
CONFIRM_SHARE = 0.05  # a language is "confirmed" when at least this share of the sample has it


def token_length_stats(lengths: list[int]) -> dict[str, float]:
    if not lengths:
        return {}
    ordered = sorted(lengths)
    n = len(ordered)

    def pct(q: float) -> int:
        return ordered[min(n - 1, max(0, round(q * (n - 1))))]

    return {
        "token_mean": round(sum(ordered) / n, 2),
        "token_median": float(pct(0.5)),
        "token_p95": float(pct(0.95)),
        "token_max": float(ordered[-1]),
        "token_min": float(ordered[0]),
    }


def detect_languages(texts: list[str], seed: int = 0) -> dict[str, Any]:
    """Language counts from lingua (offline) on at most LANGUAGE_SAMPLE texts; empty when lingua is missing."""
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        return {"language_distribution": {}, "confirmed_languages": [], "detected_on_rows": 0}
    sample = texts
    if len(texts) > LANGUAGE_SAMPLE:
        sample = random.Random(seed).sample(texts, LANGUAGE_SAMPLE)
    detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
    found = detector.detect_languages_in_parallel_of(sample)
    counts = Counter(lang.iso_code_639_1.name if lang else "UNKNOWN" for lang in found)
    confirmed = [code for code, n in counts.most_common() if code != "UNKNOWN" and n >= CONFIRM_SHARE * len(sample)]
    return {
        "language_distribution": dict(counts.most_common()),
        "confirmed_languages": confirmed,
        "detected_on_rows": len(sample),
        "model_strategy": "multilingual" if len(confirmed) > 1 else ("monolingual" if confirmed else None),
    }


def imbalance_ratio(distribution: dict[str, int]) -> float:
    counts = [c for c in distribution.values() if c > 0]
    return round(max(counts) / min(counts), 2) if counts else 1.0


MAX_TEXTS = 50_000  # texts run through the detector (beyond that: not detected, '')
MAX_CHARS = 1_000  # characters of each text given to the detector


def detect_each(texts: list[str], languages: list[str] | None = None) -> list[str]:
    """The ISO 639-1 code of each text ('' when unknown), among ``languages`` (codes such as 'EN') when given,
    else among every language lingua knows. Empty codes everywhere when lingua is not installed."""
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
    except ImportError:
        return [""] * len(texts)
    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code)) for code in languages or []
              if isinstance(code, str) and hasattr(IsoCode639_1, code)]
    builder = (LanguageDetectorBuilder.from_languages(*chosen) if len(chosen) >= 2
               else LanguageDetectorBuilder.from_all_languages())
    detector = builder.with_low_accuracy_mode().build()
    sample = [text[:MAX_CHARS] for text in texts[:MAX_TEXTS]]
    found = detector.detect_languages_in_parallel_of(sample)
    codes = [lang.iso_code_639_1.name if lang else "" for lang in found]
    return codes + [""] * (len(texts) - len(codes))


CLASSES_SHOWN = 6  # classes named per task in a table row; the rest are counted


def task_rows(infos: list[TaskInfo]) -> list[dict[str, Any]]:
    """One row per task for a table: kind, classes with counts (most frequent first), rows annotated and coverage."""
    rows = []
    for info in infos:
        named = [f"{label} {count}" for label, count in list(info.classes.items())[:CLASSES_SHOWN]]
        more = len(info.classes) - CLASSES_SHOWN
        rows.append({
            "task": info.name,
            "kind": "multi-label" if info.multi_label else "single-label",
            "classes": len(info.classes),
            "counts": ", ".join(named) + (f", +{more} more" if more > 0 else ""),
            "annotated": info.rows_annotated,
            "not_annotated": info.rows_not_annotated,
            "coverage": round(100 * info.coverage, 1),
        })
    return rows
