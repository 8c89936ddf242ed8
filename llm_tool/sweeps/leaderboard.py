"""The leaderboard of a sweep, computed from the metrics files on disk: ranked by test macro-F1."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.errors import SessionError
from llm_tool.model_folder import metrics_or_none, metrics_path
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.summaries import duration_seconds
from llm_tool.sweeps.state import SweepJob, SweepState


@dataclass
class LeaderRow:
    """One job's results: ``score`` is the test macro-F1 (validation when the data has no test split)."""

    key: str
    title: str
    model: str | None
    session_id: str | None
    status: str
    rank: int | None = None
    score: float | None = None
    split: str | None = None  # test | validation: where ``score`` and ``per_class`` come from
    test_macro_f1: float | None = None
    validation_macro_f1: float | None = None
    accuracy: float | None = None
    per_class: dict[str, float] = field(default_factory=dict)
    train_runtime_seconds: float | None = None
    train_samples_per_second: float | None = None
    duration_seconds: float | None = None
    metrics_file: str | None = None
    task: str | None = None  # the label column(s) it predicts
    test_set: str | None = None  # what it is scored on: the test file, or the split of the data file

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def metrics_file(store: SessionStore, session_file: Path) -> Path | None:
    """The session's metrics.json (always inside the home's models folder), or None when the session is unreadable."""
    try:
        meta = store.read(session_file)
    except SessionError:
        return None
    recorded = meta.output_paths.metrics_file
    models = paths.models_dir(store.home)
    if isinstance(recorded, str) and recorded and paths.is_within(Path(recorded), models):
        return Path(recorded)
    return metrics_path(store.output_dirs(meta)[0])


def read_metrics(path: Path | None) -> dict[str, Any] | None:
    return None if path is None else metrics_or_none(file=path)


def fill_from_metrics(row: LeaderRow, metrics: dict[str, Any]) -> None:
    test, validation = metrics.get("test"), metrics.get("validation")
    test = test if isinstance(test, dict) else None
    validation = validation if isinstance(validation, dict) else None
    row.test_macro_f1 = _number(test.get("macro_f1")) if test else None
    row.validation_macro_f1 = _number(validation.get("macro_f1")) if validation else None
    chosen, row.split = (test, "test") if row.test_macro_f1 is not None else (validation, "validation")
    if chosen is None or _number(chosen.get("macro_f1")) is None:
        row.split = None
        return
    row.score = _number(chosen.get("macro_f1"))
    row.accuracy = _number(chosen.get("accuracy"))
    per_class = chosen.get("per_class")
    if isinstance(per_class, dict):
        row.per_class = {str(k): f for k, v in per_class.items()
                         if isinstance(v, dict) and (f := _number(v.get("f1"))) is not None}
    row.train_runtime_seconds = _number(metrics.get("train_runtime_seconds"))
    row.train_samples_per_second = _number(metrics.get("train_samples_per_second"))
    if not row.model and isinstance(metrics.get("model"), str):
        row.model = metrics["model"]


def job_row(store: SessionStore, job: SweepJob) -> LeaderRow:
    row = LeaderRow(key=job.key or "?", title=job.title or "?", model=job.model,
                    session_id=job.session_id or None, status=job.status)
    session_file = Path(job.session_file) if job.session_file else None
    if session_file is None:
        return row
    try:
        meta = store.read(session_file)
        status = effective_status(store, meta)
        row.status = job.status if status == "pending" else status
        row.duration_seconds = duration_seconds(meta)
        row.task, row.test_set = task_of(meta.dataset_config, meta.model_config)
    except SessionError:
        row.status = "unreadable"
    path = metrics_file(store, session_file)
    metrics = read_metrics(path)
    if metrics is not None:
        row.metrics_file = str(path)
        fill_from_metrics(row, metrics)
    return row


def task_of(dataset: dict[str, Any], model: dict[str, Any]) -> tuple[str, str]:
    """What a job predicts (its label column) and the rows it is scored on: jobs differing in either are not
    comparable, so they are ranked apart."""
    from llm_tool.sessions.summaries import task_label

    test_file = dataset.get("test_file")
    if test_file:
        return task_label(dataset) or "-", f"test file {Path(str(test_file)).name}"
    seed = dataset.get("split_seed") if dataset.get("split_seed") is not None else model.get("seed")
    split = f"column {dataset['split_column']}" if dataset.get("split_column") else \
        f"{dataset.get('test_split', 0.1)} split, seed {seed}"
    return task_label(dataset) or "-", f"{Path(str(dataset.get('primary_file') or '-')).name} ({split})"


def rank_rows(rows: list[LeaderRow]) -> list[LeaderRow]:
    """Scored rows first (test scores before validation-only ones), best first; ties keep job order."""
    scored = [r for r in rows if r.score is not None]
    scored.sort(key=lambda r: (r.split != "test", -(r.score or 0.0)))
    for rank, row in enumerate(scored, start=1):
        row.rank = rank
    return scored + [r for r in rows if r.score is None]


def leaderboard(state: SweepState, store: SessionStore | None = None) -> list[LeaderRow]:
    """Every job of the sweep, ranked by the metrics files found on disk now."""
    store = store or SessionStore(Path(state.home) if state.home else None)
    jobs = sorted(state.jobs, key=lambda j: j.number)
    return rank_rows([job_row(store, job) for job in jobs])


def best(rows: list[LeaderRow]) -> LeaderRow | None:
    return next((r for r in rows if r.rank == 1), None)


def class_names(rows: list[LeaderRow]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.per_class))
    return list(names)


def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def table_cells(rows: list[LeaderRow]) -> tuple[list[str], list[list[str]]]:
    """Header and cells shared by the plain-text, Markdown and Rich renderings."""
    classes = class_names(rows)
    header = ["rank", "job", "model", "status", "macro-F1", *[f"F1 {c}" for c in classes], "train time (s)",
              "samples/s", "session"]
    cells = []
    for r in rows:
        score = _fmt(r.score) + ("" if r.split in (None, "test") else " (val)")
        cells.append([str(r.rank or "-"), r.title, r.model or "-", r.status, score,
                      *[_fmt(r.per_class.get(c)) for c in classes], _fmt(r.train_runtime_seconds, ".1f"),
                      _fmt(r.train_samples_per_second, ".1f"), r.session_id or "-"])
    return header, cells


def format_plain(rows: list[LeaderRow]) -> str:
    """A fixed-width text table (for the scheduler's pane and logs)."""
    header, cells = table_cells(rows)
    cells = [[c if i != 2 else c.rsplit("/", 1)[-1] for i, c in enumerate(row)] for row in cells]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)
