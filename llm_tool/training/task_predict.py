"""Predict with every model of a tasks parent: each task's model (per language, else the fallback), one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.errors import DatasetError, SessionError
from llm_tool.model_folder import CONFIG_FILE
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sessions.task_parent import is_tasks_parent, task_entries
from llm_tool.untrusted import quoted, shown

if TYPE_CHECKING:
    from llm_tool.training.inference import Prediction, Predictor

FALLBACK = "fallback"  # `<task>_routed` of a row whose language has no model of its own
NO_MODEL = "no model"  # `<task>_routed` of a row whose language has no model, in a run without a fallback


@dataclass
class TaskModels:
    """One task's model folders: one per language (codes in upper case) and the all-languages fallback."""

    task: str
    multi_label: bool
    fallback: Path | None = None
    by_language: dict[str, Path] = field(default_factory=dict)

    @property
    def routed(self) -> bool:
        return bool(self.by_language)

    def route(self, language: str) -> tuple[Path | None, str]:
        """The model for a row in ``language`` and what `<task>_routed` says of it (the language, or fallback)."""
        code = language.strip().upper()
        if code in self.by_language:
            return self.by_language[code], code.lower()
        return self.fallback, FALLBACK if self.fallback is not None else NO_MODEL


@dataclass
class TasksParent:
    path: Path
    meta: SessionMetadata
    tasks: list[TaskModels]

    @property
    def routed(self) -> bool:
        return any(t.routed for t in self.tasks)


def tasks_parent_of(store: SessionStore, ref: str | Path | None) -> tuple[Path, SessionMetadata] | None:
    """The session file and metadata of the tasks parent ``ref`` names (number, id or name), or None when it names
    anything else (a model folder, `latest`, a single session): those go through the one-model commands unchanged."""
    if ref is None or Path(str(ref)).expanduser().is_dir() or str(ref).strip().lower() == "latest":
        return None
    path = store.resolve(str(ref))
    meta = store.read(path)
    return (path, meta) if is_tasks_parent(meta) else None


def find_tasks_parent(store: SessionStore, ref: str | Path | None) -> TasksParent | None:
    """``tasks_parent_of`` with each task's model folders (every child must have saved its model)."""
    found = tasks_parent_of(store, ref)
    return None if found is None else TasksParent(*found, task_models(store, found[1]))


def task_models(store: SessionStore, meta: SessionMetadata) -> list[TaskModels]:
    """Each task's model folders, from the parent's table; a child without a saved model is an error naming it."""
    found: dict[str, TaskModels] = {}
    for entry in task_entries(meta):
        child = store.path_for_id(entry.session_id)
        if not child.exists():
            raise SessionError(f"task '{shown(entry.task, 80)}': its session {shown(entry.session_id, 40)} is gone; "
                               f"relaunch the tasks run (`llm-tool sessions relaunch {meta.session_id}`)")
        child_meta = store.read(child)
        model_dir = store.output_dirs(child_meta)[0]
        if not (model_dir / CONFIG_FILE).exists():
            raise SessionError(f"task '{shown(entry.task, 80)}'{_in(entry.language)} has no saved model yet (session "
                               f"{child_meta.session_id}, {effective_status(store, child_meta)}): finish it with "
                               f"`llm-tool sessions resume {meta.session_id}`")
        models = found.setdefault(entry.task, TaskModels(entry.task, entry.multi_label))
        if entry.language:
            models.by_language[entry.language.strip().upper()] = model_dir
        else:
            models.fallback = model_dir
    if not found:
        raise SessionError(f"{meta.session_id} is a tasks run with no task recorded: relaunch it "
                           f"(`llm-tool sessions relaunch {meta.session_id}`)")
    return list(found.values())


def _in(language: str | None) -> str:
    return f" in language {quoted(language, 20)}" if language else ""


@dataclass
class TaskOutput:
    """One task's predictions for every row: labels (columns in this order), each row's prediction and route."""

    task: str
    labels: list[str]
    multi_label: bool
    predictions: list[Prediction | None]
    routed: list[str] | None  # None: the task has one model for every language

    def columns(self) -> list[str]:
        names = [f"{self.task}_label"] + [f"{self.task}_prob_{label}" for label in self.labels]
        return names + ([f"{self.task}_routed"] if self.routed is not None else [])

    def cells(self, row: int) -> dict[str, Any]:
        pred = self.predictions[row]
        out: dict[str, Any] = {f"{self.task}_label": "|".join(pred.labels) if pred else None}
        out.update({f"{self.task}_prob_{label}": pred.probabilities.get(label) if pred else None
                    for label in self.labels})
        if self.routed is not None:
            out[f"{self.task}_routed"] = self.routed[row]
        return out


class ModelPool:
    """The Predictors of a run's model folders, each opened once (a folder used by several tasks too)."""

    def __init__(self, backend: str = "auto", on_status: Callable[[str], None] | None = None) -> None:
        self.backend, self.on_status = backend, on_status
        self._open: dict[Path, Predictor] = {}

    def get(self, model_dir: Path) -> Predictor:
        from llm_tool.training.inference import Predictor

        if model_dir not in self._open:
            self._open[model_dir] = Predictor(model_dir, backend=self.backend, on_status=self.on_status)
        return self._open[model_dir]


def predict_task(models: TaskModels, texts: list[str], languages: list[str] | None, pool: ModelPool) -> TaskOutput:
    """Every row through its language's model (else the fallback, said in `routed`); rows of one model together."""
    routes = [models.route(languages[i] if languages else "") for i in range(len(texts))]
    groups: dict[Path, list[int]] = {}
    for row, (model_dir, _) in enumerate(routes):
        if model_dir is not None:
            groups.setdefault(model_dir, []).append(row)
    predictions: list[Prediction | None] = [None] * len(texts)
    labels: dict[str, None] = {}
    for model_dir in [models.fallback, *models.by_language.values()]:
        if model_dir is not None:
            labels.update(dict.fromkeys(pool.get(model_dir).labels))
    for model_dir, rows in groups.items():
        predictor = pool.get(model_dir)
        predictor.open(len(rows))
        for row, pred in zip(rows, predictor.predict([texts[i] for i in rows]), strict=True):
            predictions[row] = pred
    routed = [name for _, name in routes] if models.routed else None
    return TaskOutput(models.task, list(labels), models.multi_label, predictions, routed)


def predict_tasks(parent: TasksParent, texts: list[str], languages: list[str] | None,
                  pool: ModelPool) -> list[TaskOutput]:
    return [predict_task(models, texts, languages, pool) for models in parent.tasks]


def row_languages(table: Any, texts: list[str], column: str | None) -> list[str]:
    """Each row's language (upper case, '' unknown): ``column`` of ``table`` when given, else lingua's guess."""
    if column:
        if column not in table.columns:
            raise DatasetError(f"language column '{shown(column, 80)}' not found; the file's columns are: "
                               f"{shown(', '.join(table.columns), 300)} (use --language-column)")
        return [str(row.get(column) or "").strip().upper() for row in table.rows]
    from llm_tool.data.analysis import detect_each

    return detect_each(texts)


def language_column(parent: TasksParent, table: Any, chosen: str | None) -> str | None:
    """The column giving each row's language: ``chosen`` (--language-column), else the run's own when the file has
    it; None: detect the language of each text."""
    if chosen:
        return chosen
    recorded = parent.meta.dataset_config.get("language_column")
    return recorded if isinstance(recorded, str) and recorded in table.columns else None


def check_input_columns(parent: TasksParent, columns: list[str]) -> None:
    """Refuse (before any model loads) an input that has a column the predictions would fill, e.g. an earlier
    prediction file: `<task>_label`, `<task>_prob_...`, `<task>_routed`."""
    for name in columns:
        for models in parent.tasks:
            task = models.task
            if name in (f"{task}_label", f"{task}_routed") or name.startswith(f"{task}_prob_"):
                raise DatasetError(f"the input already has a column {quoted(name, 80)}, which the predictions "
                                   "would fill: rename or remove it (is it an earlier prediction file?)")


def combined_columns(table: Any, outputs: list[TaskOutput]) -> list[str]:
    """The input's columns, then each task's."""
    return list(table.columns) + [name for out in outputs for name in out.columns()]


def write_task_predictions(table: Any, outputs: list[TaskOutput], output_path: Path, rules: Any = None, *,
                           safe_csv: bool = False) -> None:
    """Every row of ``table`` with each task's label, probabilities (and route) as CSV/TSV or JSONL (flat)."""
    import csv
    import json

    from llm_tool.outputs import Rules, open_text, spreadsheet_safe

    rules = rules or Rules()
    columns = combined_columns(table, outputs)
    rows = ({**row, **{k: v for out in outputs for k, v in out.cells(i).items()}} for i, row in enumerate(table.rows))
    if output_path.suffix.lower() in (".jsonl", ".ndjson"):
        with open_text(output_path, rules) as handle:
            for record in rows:
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        return
    with open_text(output_path, rules, newline="") as handle:
        writer = csv.writer(handle, delimiter="\t" if output_path.suffix.lower() == ".tsv" else ",")
        cell: Callable[[Any], Any] = spreadsheet_safe if safe_csv else (lambda value: value)
        writer.writerow([cell(name) for name in columns])
        for record in rows:
            writer.writerow([cell(record.get(name)) for name in columns])
