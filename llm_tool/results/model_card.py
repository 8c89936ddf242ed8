"""A Hugging Face style model card (README.md) for a saved model: data, settings, metrics, use and limits."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from llm_tool.model_folder import MODEL_CARD_FILE
from llm_tool.results.text import as_dict, clean, md, number, yaml_str

FILE_NAME = MODEL_CARD_FILE
SETTINGS = ("selected_model", "epochs", "batch_size", "learning_rate", "optimizer", "weight_decay",
            "warmup_ratio", "gradient_accumulation_steps", "max_length", "max_length_used", "seed", "class_weights",
            "precision", "early_stopping", "early_stopping_patience", "training_mode")


def _section(session: dict[str, Any], name: str) -> dict[str, Any]:
    return as_dict(session.get(name))


def front_matter(metrics: dict[str, Any], session: dict[str, Any]) -> list[str]:
    base = str(metrics.get("model") or _section(session, "model_config").get("selected_model") or "")
    languages = [str(c).lower() for c in _section(session, "language_config").get("confirmed_languages") or []
                 if isinstance(c, str) and c.isalpha() and len(c) <= 3]
    task = "multi-label" if metrics.get("multi_label") else "single-label"
    lines = ["---", "library_name: transformers", "pipeline_tag: text-classification"]
    if base and not PurePath(base).is_absolute() and not base.startswith(".") and not Path(base).exists():
        lines.append(f"base_model: {yaml_str(base)}")  # a hub id; a local folder is named in the text only
    if languages:
        lines += ["language:"] + [f"- {yaml_str(code)}" for code in languages]
    lines += ["tags:", "- text-classification", "- llm-tool", f"- {task}", "metrics:", "- f1", "- accuracy", "---"]
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def _summary(metrics: dict[str, Any]) -> list[str]:
    rows = []
    for key in ("validation", "test", "validation_tuned", "test_tuned"):
        report = metrics.get(key)
        if isinstance(report, dict):
            label = key.replace("_tuned", " (tuned thresholds)")
            rows.append([label] + [number(report.get(k)) for k in ("accuracy", "macro_f1", "micro_f1", "weighted_f1")]
                        + [str(report.get("num_samples", "-"))])
    return _table(["split", "accuracy", "macro-F1", "micro-F1", "weighted-F1", "rows"], rows) if rows else []


def _per_class(metrics: dict[str, Any], split: str) -> list[str]:
    report = metrics.get(split)
    if not isinstance(report, dict) or not isinstance(report.get("per_class"), dict):
        return []
    rows = [[md(name), number(v.get("precision")), number(v.get("recall")), number(v.get("f1")),
             str(v.get("support", "-"))] for name, v in report["per_class"].items() if isinstance(v, dict)]
    return [f"### Per class ({split})", "", *_table(["label", "precision", "recall", "F1", "support"], rows)]


def _per_language(metrics: dict[str, Any]) -> list[str]:
    from llm_tool.results.languages import language_rows

    rows = [[r["split"], md(r["language"]), number(r.get("macro_f1")), number(r.get("accuracy")),
             str(r.get("num_samples", "-"))] for r in language_rows(metrics)]
    if not rows:
        return []
    return ["### Per language", "", *_table(["split", "language", "macro-F1", "accuracy", "rows"], rows)]


def _thresholds(metrics: dict[str, Any]) -> list[str]:
    section = metrics.get("thresholds")
    if not isinstance(section, dict) or not isinstance(section.get("values"), dict):
        return []
    rows = [[md(name), number(value, ".3f")] for name, value in section["values"].items()]
    return ["### Decision thresholds", "", "Per-label thresholds tuned for F1 on the validation set; `llm-tool infer` "
            "and `llm-tool evaluate` apply them (0.5 elsewhere).", "", *_table(["label", "threshold"], rows)]


def _data(session: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    data = _section(session, "dataset_config")
    sizes, distribution = as_dict(data.get("split_sizes")), as_dict(data.get("category_distribution"))
    labels = metrics.get("labels") or list(distribution)
    languages = _section(session, "language_config").get("confirmed_languages") or []
    lines = ["## Data", "",
             f"- file: {md(PurePath(str(data.get('primary_file') or '-')).name)}",
             f"- SHA-256 fingerprint: `{clean(data.get('fingerprint_sha256') or '-', 80)}`",
             f"- rows: {data.get('total_samples', '-')}; split: {md(data.get('split_method') or '-')}",
             "- split sizes: " + ", ".join(f"{md(k)} {v}" for k, v in sizes.items()),
             f"- languages: {', '.join(md(c) for c in languages) or 'not detected'}",
             f"- labels ({len(labels)}): " + ", ".join(
                 f"{md(name)} ({distribution[name]})" if name in distribution else md(name) for name in labels), ""]
    return lines


def _settings(session: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    config = _section(session, "model_config")
    rows = [[md(key), md(config[key])] for key in SETTINGS if key in config]
    env = _section(session, "environment")
    versions = ", ".join(f"{key} {md(env[key])}" for key in ("python", "torch", "transformers", "datasets")
                         if env.get(key))
    lines = ["## Training settings", "", *_table(["setting", "value"], rows)]
    lines += [f"- best checkpoint step: {metrics.get('best_checkpoint_step', '-')}, "
              f"epochs trained: {number(metrics.get('epochs_trained'), '.2f')}",
              f"- versions: {versions or '-'}; device: {md(env.get('device') or '-')}", ""]
    return lines


def model_card(metrics: dict[str, Any], session: dict[str, Any]) -> str:
    """The README.md text; every name that comes from a data file or a setting is escaped."""
    info = _section(session, "training_session")
    sid = clean(metrics.get("session_id") or info.get("session_id") or "-", 80)
    base = md(metrics.get("model") or "-")
    task = "multi-label" if metrics.get("multi_label") else "single-label"
    lines = [*front_matter(metrics, session), "", f"# {md(info.get('session_name') or sid)}", "",
             "## Model description", "",
             f"A {task} text classifier fine-tuned from {base} with llm-tool "
             f"{md(info.get('tool_version') or '')} (training session `{sid}`). "
             f"It assigns {'one or more of' if metrics.get('multi_label') else 'one of'} "
             f"{len(metrics.get('labels') or [])} labels to a text.", ""]
    lines += _data(session, metrics) + _settings(session, metrics)
    lines += ["## Results", "", "Macro-F1 is the mean of the per-class F1 scores; the test set was never used to "
              "choose the checkpoint.", "", *_summary(metrics)]
    for split in ("validation", "test"):
        lines += _per_class(metrics, split)
    lines += _per_language(metrics) + _thresholds(metrics)
    lines += ["## Intended use", "",
              "Classifying texts like those of the training data (same domain, labels and languages), e.g. to "
              "annotate a corpus for research. Check a sample of its predictions before relying on them.", "",
              "## Limitations", "",
              "- The scores hold for data like the test split; other domains, periods or languages may score lower.",
              "- Labels with few training examples are the least reliable (see support in the per-class table).",
              "- Biases in the training data and its annotation are learned by the model.",
              _long_texts(_section(session, "model_config")), "",
              "## How to use", "", "```bash",
              f"llm-tool infer {sid} --text \"a text to classify\"",
              f"llm-tool infer --model-dir models/{sid} --input texts.csv --output predictions.csv",
              f"llm-tool evaluate {sid} --data labelled.csv   # score it on another labelled file",
              "```", ""]
    return "\n".join(lines)


def write_model_card(model_dir: Path, metrics: dict[str, Any], session: dict[str, Any]) -> Path:
    from llm_tool.outputs import Rules, write_text

    path = model_dir / FILE_NAME  # the tool's own file in its own folder, never through a link put there
    return write_text(path, model_card(metrics, session), Rules(force=True, owned=model_dir))


LONG_TEXT_READ = {"head_tail": "are read by their first quarter and last three quarters of tokens (head_tail)",
                  "chunks": "are read in overlapping windows whose probabilities are averaged per text (chunks)"}


def _long_texts(model: dict[str, Any]) -> str:
    """The limitation line on texts longer than max_length, as the run read them."""
    limit = model.get("max_length_used", "max_length")
    read = LONG_TEXT_READ.get(str(model.get("long_text_used")), "are truncated (their end is never seen)")
    return f"- Texts longer than {limit} tokens {read}."
