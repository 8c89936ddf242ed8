"""A self-contained HTML report of a trained model or an evaluation (PNGs embedded), plus the PNG files."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.results import plots

if TYPE_CHECKING:
    from llm_tool.outputs import Rules
from llm_tool.results.text import as_dict, htm, number

SPLITS = ("validation", "test", "evaluation")
SETTING_KEYS = ("selected_model", "epochs", "batch_size", "learning_rate", "optimizer", "weight_decay",
                "warmup_ratio", "gradient_accumulation_steps", "max_length_used", "seed", "class_weights", "precision",
                "early_stopping", "training_mode")
STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px}"
         "th{background:#f2f2f2}td.n{text-align:right}img{max-width:100%;display:block;margin:0.5em 0 1.5em}")


@dataclass
class Report:
    html: Path
    images: list[Path] = field(default_factory=list)
    plotted: dict[str, Any] = field(default_factory=dict)  # the numbers each figure shows, by image stem


def write_report(out_dir: Path, metrics: dict[str, Any], session: dict[str, Any] | None = None,
                 predictions: Any = None, title: str = "Training report", rules: Rules | None = None) -> Report:
    """Write ``report.html`` and its PNGs in ``out_dir`` through llm_tool.outputs (``rules``: --force, the folder the
    tool owns). ``metrics`` is a metrics.json (or an evaluation result shaped like one); ``predictions`` the model's
    SavedPredictions for the PR curves. Figures are drawn in a private folder first: nothing is written if any
    name is refused."""
    import tempfile

    from llm_tool import outputs

    report = Report(out_dir / "report.html")
    with tempfile.TemporaryDirectory(prefix="llm-tool-report-") as scratch:
        body: list[str] = [f"<h1>{htm(title)}</h1>", _overview(metrics, session or {})]
        figures = _figures(Path(scratch), metrics, predictions, report)
        body.append(_summary_table(metrics))
        for heading, path in figures:
            body.append(f"<h2>{htm(heading)}</h2>{_img(path)}")
        for split in SPLITS:
            body.append(_per_class_table(metrics, split))
        body.append(_settings(session or {}))
        stamp = datetime.now().isoformat(timespec="seconds")
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{htm(title)}</title><style>{STYLE}</style>"
                f"</head><body>{''.join(body)}<p><small>written by llm-tool on {stamp}</small></p></body></html>")
        files = {path.name: path.read_bytes() for path in report.images}
        outputs.write_files(out_dir, {**files, "report.html": page.encode("utf-8")}, rules or outputs.Rules())
    report.images = [out_dir / path.name for path in report.images]
    return report


def _figures(out_dir: Path, metrics: dict[str, Any], predictions: Any, report: Report) -> list[tuple[str, Path]]:
    figures: list[tuple[str, Path]] = []

    def add(stem: str, heading: str, data: Any) -> None:
        path = out_dir / f"{stem}.png"
        if data:
            report.images.append(path)
            report.plotted[stem] = data
            figures.append((heading, path))

    add("training_curves", "Training curves", plots.plot_curves(metrics, out_dir / "training_curves.png"))
    names, multi = list(metrics.get("labels") or []), bool(metrics.get("multi_label"))
    for split in SPLITS:
        split_report = metrics.get(split)
        if not isinstance(split_report, dict):
            continue
        add(f"confusion_{split}", f"Confusion matrix ({split})",
            plots.plot_confusion(split_report, out_dir / f"confusion_{split}.png", f"Confusion matrix ({split})"))
        add(f"per_class_f1_{split}", f"F1 per class ({split})",
            plots.plot_per_class_f1(split_report, out_dir / f"per_class_f1_{split}.png", f"F1 per class ({split})"))
        if isinstance(split_report.get("per_language"), dict):
            heading = f"Macro-F1 per language ({split})"
            add(f"per_language_{split}", heading, plots.plot_per_language(
                split_report["per_language"], out_dir / f"per_language_{split}.png", heading))
        saved = predictions.splits.get(split) if predictions is not None else None
        if multi and saved is not None and len(saved.labels):
            add(f"pr_curves_{split}", f"Precision-recall per label ({split})", plots.plot_pr_curves(
                saved.probabilities, saved.labels, names, out_dir / f"pr_curves_{split}.png",
                f"Precision-recall per label ({split})"))
    return figures


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{htm(path.stem)}' src='data:image/png;base64,{data}'>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{htm(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class='n'>{c}</td>" if i else f"<td>{c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


html_table = _table  # for the other reports of results/ (a tasks run's index)


def _overview(metrics: dict[str, Any], session: dict[str, Any]) -> str:
    data = as_dict(session.get("dataset_config"))
    info = as_dict(session.get("training_session"))
    sizes = as_dict(data.get("split_sizes"))
    rows = [
        ["session", htm(metrics.get("session_id") or info.get("session_id") or "-")],
        ["name", htm(info.get("session_name") or "-")],
        ["model", htm(metrics.get("model") or "-")],
        ["task", "multi-label" if metrics.get("multi_label") else "single-label"],
        ["labels", htm(", ".join(map(str, metrics.get("labels") or [])), 1000)],
        ["data file", htm(Path(str(data.get("primary_file") or metrics.get("data_file") or "-")).name)],
        ["data fingerprint (SHA-256)", htm(data.get("fingerprint_sha256") or metrics.get("fingerprint_sha256") or "-")],
        ["split", htm(", ".join(f"{k} {v}" for k, v in sizes.items()) + f" ({data.get('split_method') or '-'})")
         if sizes else "-"],
    ]
    if metrics.get("thresholds"):
        values = (metrics["thresholds"] or {}).get("values") or {}
        rows.append(["tuned thresholds", htm(", ".join(f"{k}: {number(v, '.3f')}" for k, v in values.items()), 1000)])
    return _table(["item", "value"], rows)


def _summary_table(metrics: dict[str, Any]) -> str:
    rows = []
    for key in (*SPLITS, *(f"{s}_tuned" for s in SPLITS)):
        report = metrics.get(key)
        if isinstance(report, dict):
            rows.append([htm(key.replace("_tuned", " (tuned thresholds)"))]
                        + [number(report.get(k)) for k in ("accuracy", "macro_f1", "micro_f1", "weighted_f1")]
                        + [htm(report.get("num_samples", "-"))])
    return "<h2>Results</h2>" + _table(["split", "accuracy", "macro-F1", "micro-F1", "weighted-F1", "rows"], rows)


def _per_class_table(metrics: dict[str, Any], split: str) -> str:
    report = metrics.get(split)
    if not isinstance(report, dict) or not isinstance(report.get("per_class"), dict):
        return ""
    rows = [[htm(name), number(v.get("precision")), number(v.get("recall")), number(v.get("f1")),
             htm(v.get("support", "-"))] for name, v in report["per_class"].items() if isinstance(v, dict)]
    text = f"<h2>Per class ({htm(split)})</h2>" + _table(["label", "precision", "recall", "F1", "support"], rows)
    if isinstance(report.get("per_language"), dict):
        langs = [[htm(code), number(v.get("macro_f1")), number(v.get("accuracy")), htm(v.get("num_samples", "-"))]
                 for code, v in report["per_language"].items() if isinstance(v, dict)]
        text += f"<h3>Per language ({htm(split)})</h3>" + _table(["language", "macro-F1", "accuracy", "rows"], langs)
    return text


def _settings(session: dict[str, Any]) -> str:
    config = as_dict(session.get("model_config"))
    env = as_dict(session.get("environment"))
    info = as_dict(session.get("training_session"))
    rows = [[htm(k), htm(config[k])] for k in SETTING_KEYS if k in config]
    rows += [[htm(k), htm(env[k])] for k in ("python", "torch", "transformers", "datasets", "device", "platform")
             if env.get(k)]
    if info.get("tool_version"):
        rows.append(["llm-tool", htm(info["tool_version"])])
    return "<h2>Settings and versions</h2>" + _table(["setting", "value"], rows) if rows else ""


def read_metrics(model_dir: Path) -> dict[str, Any]:
    """The model's metrics.json (a ModelError naming the fix when it is missing or unreadable)."""
    from llm_tool import model_folder

    return model_folder.read_metrics(model_dir)


def build_model_report(store: Any, ref: Any, out_dir: Path | None = None, *, force: bool = False) -> Report:
    """The report of a trained model (``ref``: a training.evaluate.ModelRef) into ``out_dir`` or <model>/report (the
    tool's own folder: replaced freely); an existing report elsewhere is replaced only with ``force``."""
    from llm_tool.outputs import Rules
    from llm_tool.results.predictions import load_predictions

    metrics = read_metrics(ref.model_dir)
    session = store.read(ref.session_path).to_dict() if ref.session_path is not None else {}
    info = session.get("training_session") or {}
    name = info.get("session_name") or metrics.get("session_id") or ref.model_dir.name
    own = ref.model_dir / "report"
    rules = Rules.of(force=force or out_dir is None, inputs=[ref.session_path], owned=own)
    return write_report(out_dir or own, metrics, session, load_predictions(ref.model_dir),
                        title=f"Training report: {name}", rules=rules)
