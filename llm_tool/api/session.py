"""`train`, `Session` and `sessions`: the CLI's train/infer/evaluate/report/resume/relaunch as Python calls."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.api.config_input import ConfigInput, apply_keyword_overrides, read_config_input
from llm_tool.errors import ConfigError, SessionError

if TYPE_CHECKING:
    import pandas as pd

    from llm_tool.dispatch.seam import LaunchOptions, LaunchOutcome, Place
    from llm_tool.sessions.schema import SessionMetadata
    from llm_tool.sessions.store import SessionStore

FINAL = ("completed", "failed", "interrupted")
WAIT_POLL_SECONDS = 1.0


def _store(home: str | Path | None) -> SessionStore:
    from llm_tool.sessions.store import SessionStore

    return SessionStore(Path(home).expanduser() if home is not None else None)


def _launch(store: SessionStore, path: Path, place: Place, options: LaunchOptions, meta: SessionMetadata | None,
            verbose: bool) -> LaunchOutcome:
    """Through the launch seam; ``verbose`` shows the CLI's Rich progress and outcome lines (ui.launch_view)."""
    from llm_tool.dispatch.seam import launch

    if verbose:
        from llm_tool.ui.launch_view import start

        return start(store, path, place, options, meta=meta)
    return launch(store, path, place, options, meta=meta)


def _options(store: SessionStore, place: Place, *, resume: bool = False, nproc: int | None = None,
             start_dir: Path | None = None, max_retries: int = 0) -> LaunchOptions:
    """The launch options, checked before anything is created (a bad place or --nproc creates no session)."""
    from llm_tool.dispatch.seam import PLACES, LaunchOptions, check_nproc

    if place not in PLACES:
        raise ConfigError(f"place must be one of {', '.join(PLACES)}, got {place!r}")
    check_nproc(nproc)
    return LaunchOptions(resume=resume, nproc=nproc, max_retries=max_retries,
                         start_dir=(start_dir or store.home) if place != "foreground" else None)


def train(config: ConfigInput, *, place: Place = "foreground", session_name: str | None = None,
          verbose: bool = False, nproc: int | None = None, max_retries: int = 0, home: str | Path | None = None,
          **overrides: Any) -> Session:
    """Train as `llm-tool train CONFIG` does and return the session. ``config``: a JSON file or a mapping with
    dataset_config and model_config; ``overrides``: ``epochs=3`` (any field name), ``model_config={...}`` or
    ``sets=["model_config.epochs=3"]``. ``place``: foreground (here; returns when done), tmux, slurm or save
    (pending: run it later with ``Session.resume()``). Silent unless ``verbose``."""
    from llm_tool.sessions.create import create_pending

    store = _store(home)
    raw, base_dir = read_config_input(config, overrides)
    options = _options(store, place, nproc=nproc, start_dir=base_dir, max_retries=max_retries)
    created = create_pending(store, raw, base_dir=base_dir, session_name=session_name, workflow="llm-tool api")
    _launch(store, created.path, place, options, created.meta, verbose)
    return Session(created.path, store)


def sessions(status: str | None = None, limit: int | None = 20, *, model: str | None = None,
             dataset: str | None = None, home: str | Path | None = None) -> list[Session]:
    """The history newest first, as `llm-tool sessions list` (same filters); unreadable files are left out."""
    from llm_tool.sessions.summaries import list_rows

    store = _store(home)
    rows = list_rows(store, limit=limit, status=status, model=model, dataset=dataset)
    return [Session(store.dir / row["file"], store) for row in rows if not row.get("error")]


class Session:
    """One training session: its file is read afresh on each property, so a running one shows its progress."""

    def __init__(self, path: Path, store: SessionStore) -> None:
        self.path = path
        self._store = store

    @classmethod
    def load(cls, ref: str | int, *, home: str | Path | None = None) -> Session:
        """By row number (1 = newest, as `sessions list`), session id or session name."""
        store = _store(home)
        path = store.resolve(str(ref))
        store.read(path)  # an unreadable file is an error here, not on first use
        return cls(path, store)

    # ----- what the session file says -----------------------------------------------------------
    @property
    def metadata(self) -> SessionMetadata:
        return self._store.read(self.path)

    @property
    def id(self) -> str:
        from llm_tool.sessions.store import session_id_for

        return session_id_for(self.path)

    @property
    def name(self) -> str | None:
        return self.metadata.training_session.session_name

    @property
    def status(self) -> str:
        """pending, running, completed, failed or interrupted (a run whose process is gone reads interrupted)."""
        from llm_tool.sessions.lifecycle import effective_status

        return effective_status(self._store, self.metadata)

    @property
    def metrics(self) -> dict[str, Any]:
        """The model's metrics.json (validation, test, per class, ...); empty until the run saved its model."""
        from llm_tool.sessions.summaries import saved_metrics

        return saved_metrics(self.metadata, self._store) or {}

    @property
    def test_macro_f1(self) -> float | None:
        from llm_tool.sessions.summaries import headline

        meta = self.metadata
        value = headline(meta, self._store, self.metrics)["test_macro_f1"]
        return float(value) if value is not None else None

    @property
    def model_dir(self) -> Path:
        return self._store.output_dirs(self.metadata)[0]

    def metrics_table(self) -> pd.DataFrame:
        """One row per split (validation, test): accuracy and macro/micro/weighted F1."""
        import pandas as pd

        found = self.metrics
        keys = ("accuracy", "macro_f1", "micro_f1", "weighted_f1")
        rows = {split: {k: found[split].get(k) for k in keys} for split in ("validation", "test")
                if isinstance(found.get(split), dict)}
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(keys))

    def __repr__(self) -> str:
        return f"Session({self.id!r}, status={self.status!r})"

    # ----- using the trained model ----------------------------------------------------------------
    def _model_ref(self) -> Any:
        from llm_tool.training.evaluate import resolve_model

        return resolve_model(self._store, self.id)

    def predict(self, data: Sequence[str] | pd.DataFrame, *, text_column: str | None = None,
                backend: str = "auto") -> pd.DataFrame:
        """What `llm-tool infer` writes: the input's columns, predicted_label ("|"-joined for multi-label) and a
        prob_<label> column per label, in the input's order. ``data``: texts or a DataFrame with the session's text
        column (or ``text_column``)."""
        import pandas as pd

        from llm_tool.training.evaluate import session_columns
        from llm_tool.training.inference import Predictor

        ref = self._model_ref()
        column = text_column or session_columns(self._store, ref).get("text_column") or "text"
        if isinstance(data, pd.DataFrame):
            if column not in data.columns:
                raise ConfigError(f"column {column!r} not found in the DataFrame; its columns are: "
                                  f"{', '.join(map(str, data.columns))} (give text_column=)")
            table = data.reset_index(drop=True)
            texts = ["" if pd.isna(v) else str(v) for v in table[column]]
        elif isinstance(data, str) or not isinstance(data, Sequence):
            raise ConfigError("predict takes a list of texts or a DataFrame")
        else:
            texts = [str(t) for t in data]
            table = pd.DataFrame({"text": texts})
        predictor = Predictor(ref.model_dir, backend=backend)
        predictions = predictor.predict(texts)
        out = table.copy()
        out["predicted_label"] = ["|".join(p.labels) for p in predictions]
        for label in predictor.labels:
            out[f"prob_{label}"] = [p.probabilities[label] for p in predictions]
        return out

    def evaluate(self, data: str | Path | pd.DataFrame, *, text_column: str | None = None,
                 label_column: str | None = None, save: bool = True) -> dict[str, Any]:
        """`llm-tool evaluate`: every metric on a labelled file or DataFrame, saved in <model>/evaluations/ and
        recorded in the session (unless ``save=False``); returns the result without per-row predictions."""
        import tempfile

        import pandas as pd

        from llm_tool.training.evaluate import evaluate_file, save_evaluation, session_columns, session_languages

        ref = self._model_ref()
        columns = session_columns(self._store, ref)
        with tempfile.TemporaryDirectory(prefix="llm_tool_eval_") as scratch:
            if isinstance(data, pd.DataFrame):
                path = Path(scratch) / "dataframe.csv"
                data.to_csv(path, index=False)
            else:
                path = Path(data).expanduser()
            result = evaluate_file(ref.model_dir, path, text_column=text_column or columns.get("text_column", "text"),
                                   label_column=label_column or columns.get("label_column") or "label",
                                   label_columns=None if label_column else columns.get("label_columns"),
                                   label_separator=columns.get("label_separator"),
                                   languages=session_languages(self._store, ref))
        summary = {k: v for k, v in result.items() if k != "predictions"}
        if save:
            summary["result_file"] = str(save_evaluation(self._store, ref, result))
        return summary

    def report(self, output: str | Path | None = None, *, force: bool = False) -> Path:
        """`llm-tool report`: report.html with its figures (default <model>/report); returns the HTML file."""
        from llm_tool.results.report import build_model_report

        out_dir = Path(output).expanduser() if output is not None else None
        return Path(build_model_report(self._store, self._model_ref(), out_dir, force=force).html)

    # ----- running it again -------------------------------------------------------------------------
    def resume(self, *, place: Place = "foreground", verbose: bool = False, nproc: int | None = None,
               time_budget: str | None = None) -> Session:
        """`llm-tool sessions resume`: continue from the last checkpoint (a saved session simply starts);
        ``time_budget`` (e.g. "1h"): the run's new budget, as --time-budget."""
        from llm_tool.config.presets import parse_duration
        from llm_tool.dispatch.seam import resume_mode
        from llm_tool.sessions.operations import check_resumable, require_confirmed_data

        meta = check_resumable(self._store, self.path)
        require_confirmed_data(meta, False)  # an imported session's outside data: relaunch with dataset= instead
        resume = resume_mode(self._store, self.path, meta)
        if time_budget is not None:
            parse_duration(time_budget)
            meta = self._store.update(self.path, lambda m: m.model_config.update({"time_budget": time_budget}))
        _launch(self._store, self.path, place, _options(self._store, place, resume=resume, nproc=nproc), meta,
                verbose)
        return self

    def relaunch(self, *, place: Place = "foreground", session_name: str | None = None, verbose: bool = False,
                 dataset: str | Path | None = None, **overrides: Any) -> Session:
        """`llm-tool sessions relaunch`: a new session with these settings (plus ``overrides``)."""
        from llm_tool.sessions.create import create_pending
        from llm_tool.sessions.operations import relaunch_config

        raw, _ = relaunch_config(self._store, self.path, dataset=Path(dataset) if dataset else None)
        raw = apply_keyword_overrides(raw, overrides)
        options = _options(self._store, place)
        created = create_pending(self._store, raw, base_dir=self._store.home, session_name=session_name,
                                 parent=self.id, workflow="llm-tool api relaunch")
        _launch(self._store, created.path, place, options, created.meta, verbose)
        return Session(created.path, self._store)

    def wait(self, timeout: float | None = None) -> Session:
        """Block until the run ends (completed, failed or interrupted); a SessionError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (status := self.status) not in FINAL:
            if deadline is not None and time.monotonic() >= deadline:
                raise SessionError(f"{self.id} is still {status} after {timeout:g} s")
            time.sleep(WAIT_POLL_SECONDS)
        return self

