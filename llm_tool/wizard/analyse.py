"""The analysis panel's numbers and the model recommendations they lead to (plain data, heavy imports lazy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tool.config import DatasetConfig
from llm_tool.config.schema import DEFAULT_MODEL
from llm_tool.data.analysis import detect_languages, imbalance_ratio, task_rows, token_length_stats
from llm_tool.data.formats import Table
from llm_tool.data.labels import extract, label_counts
from llm_tool.data.tasks import is_multi_task, read_task_table, table_tasks, task_problem

IMBALANCE_WARNING = 3.0  # largest class / smallest class
LONG_DOCUMENT_TOKENS = 512  # p95 above this: most encoders truncate

ENGLISH = (
    (DEFAULT_MODEL, "small and fast (22 M parameters), bundled"),
    ("distilbert-base-uncased", "fast English baseline"),
    ("roberta-base", "strong English model"),
    ("microsoft/deberta-v3-base", "best English accuracy, slower"),
)
MULTILINGUAL = (
    ("xlm-roberta-base", "100 languages"),
    ("distilbert-base-multilingual-cased", "faster multilingual"),
    ("microsoft/mdeberta-v3-base", "strong multilingual"),
)
PER_LANGUAGE = {
    "FR": ("camembert-base", "French"), "DE": ("deepset/gbert-base", "German"),
    "ES": ("dccuchile/bert-base-spanish-wwm-cased", "Spanish"), "IT": ("dbmdz/bert-base-italian-cased", "Italian"),
    "NL": ("GroNLP/bert-base-dutch-cased", "Dutch"), "PT": ("neuralmind/bert-base-portuguese-cased", "Portuguese"),
    "ZH": ("bert-base-chinese", "Chinese"), "JA": ("cl-tohoku/bert-base-japanese-v3", "Japanese"),
}
LONG_ENGLISH = (("allenai/longformer-base-4096", "English long documents (4096 tokens)"),
                ("google/bigbird-roberta-base", "long documents (4096 tokens)"))
LONG_MULTILINGUAL = (("markussagen/xlm-roberta-longformer-base-4096", "multilingual long documents"),)


def label_distribution(table: Table, dataset: dict[str, Any]) -> dict[str, int]:
    """Label counts exactly as training will see them (the core extractor; DatasetError on bad rows)."""
    cfg = DatasetConfig(**dataset)
    rows = extract(table, cfg, Path(dataset["primary_file"]).name)
    counts = label_counts(rows.labels, cfg.strategy == "multi-label")
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def token_lengths(texts: list[str]) -> tuple[list[int], str]:
    """Token counts with the bundled default tokenizer when it loads, else a word-based estimate."""
    try:
        from llm_tool.catalog.resolve import load_tokenizer
        from llm_tool.training.features import token_lengths as count

        return count(load_tokenizer(DEFAULT_MODEL), texts), DEFAULT_MODEL
    except Exception:  # noqa: BLE001 - no transformers or no bundled model: estimate instead
        return [max(1, round(len(t.split()) * 1.3)) + 2 for t in texts], "estimate (words × 1.3)"


def analyse(table: Table, dataset: dict[str, Any], *, seed: int = 42) -> dict[str, Any]:
    cfg = DatasetConfig(**dataset)
    if is_multi_task(cfg):
        return _analyse_tasks(table, cfg, seed)
    rows = extract(table, cfg, Path(dataset["primary_file"]).name)
    multi = cfg.strategy == "multi-label"
    distribution = dict(sorted(label_counts(rows.labels, multi).items(), key=lambda kv: (-kv[1], kv[0])))
    lengths, tokenizer = token_lengths(rows.texts)
    stats = token_length_stats(lengths)
    languages = detect_languages(rows.texts, seed=seed)
    ratio = imbalance_ratio(distribution)
    warnings = []
    if len(distribution) < 2:
        warnings.append("only one class: a classifier needs at least two")
    if ratio > IMBALANCE_WARNING:
        warnings.append(f"classes are imbalanced ({ratio:g}:1): consider class_weights = balanced (custom mode)")
    rare = [name for name, n in distribution.items() if n < 2]
    if rare:
        warnings.append(f"{len(rare)} label(s) have a single example (e.g. {rare[0]!r}): training will refuse them")
    if stats.get("token_p95", 0) > LONG_DOCUMENT_TOKENS:
        warnings.append(f"5% of texts exceed {LONG_DOCUMENT_TOKENS} tokens: they will be truncated; "
                        "a long-document model is suggested")
    return {
        "rows": len(rows.texts), "classes": len(distribution), "distribution": distribution,
        "imbalance_ratio": ratio, "multi_label": multi, "token_stats": stats, "tokenizer": tokenizer,
        "languages": languages.get("confirmed_languages", []),
        "language_distribution": languages.get("language_distribution", {}),
        "long_documents": stats.get("token_p95", 0) > LONG_DOCUMENT_TOKENS, "warnings": warnings,
    }


def _analyse_tasks(table: Table, cfg: DatasetConfig, seed: int) -> dict[str, Any]:
    """The analysis of a data set with several tasks: texts as for one task, classes per task (the task table)."""
    task_table = read_task_table(table, cfg, Path(cfg.primary_file).name)
    infos = table_tasks([task_table], cfg)
    lengths, tokenizer = token_lengths(task_table.rows.texts)
    stats = token_length_stats(lengths)
    languages = detect_languages(task_table.rows.texts, seed=seed)
    warnings = [problem for problem in map(task_problem, infos) if problem]
    if stats.get("token_p95", 0) > LONG_DOCUMENT_TOKENS:
        warnings.append(f"5% of texts exceed {LONG_DOCUMENT_TOKENS} tokens: they will be truncated; "
                        "a long-document model is suggested")
    return {
        "rows": len(task_table.rows.texts), "classes": 0, "distribution": {}, "imbalance_ratio": 1.0,
        "multi_label": False, "token_stats": stats, "tokenizer": tokenizer, "tasks": task_rows(infos),
        "languages": languages.get("confirmed_languages", []),
        "language_distribution": languages.get("language_distribution", {}),
        "long_documents": stats.get("token_p95", 0) > LONG_DOCUMENT_TOKENS, "warnings": warnings,
    }


def offline(name: str) -> bool:
    from llm_tool.catalog.offline import usable_offline

    return usable_offline(name)


def recommend_models(languages: list[str], long_documents: bool) -> list[tuple[str, str, bool]]:
    """(name, why, available offline), best first for the detected languages and text lengths."""
    langs = [code.upper() for code in languages]
    english = not langs or langs == ["EN"]
    picks: list[tuple[str, str]] = []
    if long_documents:
        picks += list(LONG_ENGLISH if english else LONG_MULTILINGUAL)
    if english:
        picks += list(ENGLISH)
    else:
        if len(langs) == 1 and langs[0] in PER_LANGUAGE:
            name, language = PER_LANGUAGE[langs[0]]
            picks.append((name, f"{language} model"))
        picks += list(MULTILINGUAL)
        picks.append((DEFAULT_MODEL, "bundled English model (works offline; weaker on other languages)"))
    seen: set[str] = set()
    out = []
    for name, why in picks:
        if name not in seen:
            seen.add(name)
            out.append((name, why, offline(name)))
    return out


def fits_languages(name: str, languages: list[str]) -> bool:
    from llm_tool.catalog.registry import language_warning

    return language_warning(name, {code: 1 for code in languages}) is None


def default_model(suggestions: list[tuple[str, str, bool]], languages: list[str] | None = None) -> str | None:
    """The first suggestion that suits the data's languages and works offline; else the first that suits them
    (picking it then says how to get it); else the first usable offline."""
    fitting = [s for s in suggestions if fits_languages(s[0], languages or [])]
    for name, _, ok in fitting:
        if ok:
            return name
    if fitting:
        return fitting[0][0]
    return next((name for name, _, ok in suggestions if ok), suggestions[0][0] if suggestions else None)
