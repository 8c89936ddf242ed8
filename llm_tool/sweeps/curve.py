"""`llm-tool curve`: a sweep over nested fractions of the training rows (x seeds), its parent session (workflow
`curve`) and, once the runs end, the learning curve, its fit and its plot recorded there."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from llm_tool import paths
from llm_tool.config.schema import ModelConfig
from llm_tool.errors import ConfigError, SessionError
from llm_tool.sessions import transitions
from llm_tool.sessions.create import create_session
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.spec import SweepSpec, build_jobs, with_seeds
from llm_tool.sweeps.state import SweepState

WORKFLOW = "curve"
CHILDREN_KEY = "child_sessions"
RECORD_KEY = "learning_curve"  # meta.extra of the parent
FRACTION_KEY = "dataset_config.train_fraction"
DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
MAX_FRACTIONS = 20


def parse_fractions(text: str | None) -> list[float]:
    """``0.1,0.25,0.5,1`` as sorted distinct fractions, each above 0 and at most 1 (else a one-line error)."""
    if text is None:
        return list(DEFAULT_FRACTIONS)
    values: list[float] = []
    for part in text.replace(" ", "").split(","):
        try:
            value = float(part)
        except ValueError:
            raise ConfigError(f"--fractions: {part[:40]!r} is not a number: give e.g. 0.1,0.25,0.5,1") from None
        if not 0 < value <= 1:
            raise ConfigError(f"--fractions: {part[:40]} is not a share of the training rows: each must be above 0 "
                              "and at most 1, e.g. 0.1,0.25,0.5,1")
        values.append(value)
    if not values or len(values) > MAX_FRACTIONS:
        raise ConfigError(f"--fractions: give 1 to {MAX_FRACTIONS} fractions, e.g. 0.1,0.25,0.5,1")
    return sorted(set(values))


def curve_from_config(raw: dict[str, Any], fractions: list[float], *, base_dir: Path, source: str = "curve",
                      seeds: int | None = None, per_class: bool = False) -> SweepSpec:
    """One job per fraction and seed on the same base config; the split seed is fixed (the base's split seed, else
    its model seed), so every job is scored on the same validation and test rows."""
    base = copy.deepcopy(raw)
    dataset, model = base.setdefault("dataset_config", {}), base.setdefault("model_config", {})
    if not isinstance(dataset, dict) or not isinstance(model, dict):
        raise ConfigError(f"{source}: dataset_config and model_config must be objects")
    if dataset.get("split_seed") is None:
        dataset["split_seed"] = model.get("seed", ModelConfig.__dataclass_fields__["seed"].default)
    dataset.pop("train_fraction", None)  # the curve sets it per job
    base, entries = with_seeds(base, [{FRACTION_KEY: f} for f in fractions], seeds, source)
    jobs = build_jobs(base, entries, base_dir, source)
    return SweepSpec(source=source, base=base, base_dir=base_dir, jobs=jobs, kind="curve", group_by=FRACTION_KEY,
                     options={"per_class": per_class})


def create_parent(store: SessionStore, base: dict[str, Any], *, base_dir: Path, name: str,
                  per_class: bool = False) -> tuple[Path, str]:
    """A session that trains nothing itself: it records the curve (same base config) once its runs end."""
    path, _ = create_session(store, base, base_dir=base_dir, session_name=f"curve-{name}", sweep_id=name,
                             workflow=WORKFLOW)

    def apply(meta: SessionMetadata) -> None:
        meta.training_session.extra[CHILDREN_KEY] = []
        meta.extra[RECORD_KEY] = {"sweep": name, "per_class": per_class}
        meta.output_paths.model_dir = meta.output_paths.checkpoints_dir = meta.output_paths.metrics_file = None
    meta = store.update(path, apply)
    return path, meta.session_id


def add_children(store: SessionStore, parent: Path, session_ids: list[str]) -> None:
    def apply(meta: SessionMetadata) -> None:
        children = meta.training_session.extra.setdefault(CHILDREN_KEY, [])
        children.extend(sid for sid in session_ids if sid not in children)
        if meta.execution_status.status in ("completed", "failed"):
            transitions.reopen(meta)
    store.update(parent, apply)


def plot_path(state: SweepState, home: Path) -> Path:
    """Where the curve's PNG goes: next to the sweep's state file, in this home (never from a session file)."""
    return paths.sweeps_dir(home) / f"{state.name}-learning-curve.png"


def collect_points(state: SweepState, store: SessionStore) -> list[Any]:
    """One point per fraction: each finished job's score (test macro-F1, else validation) and training rows."""
    from llm_tool.results.learning_curve import CurvePoint
    from llm_tool.sweeps.leaderboard import leaderboard

    rows = {row.key: row for row in leaderboard(state, store)}
    points: dict[float, CurvePoint] = {}
    classes: dict[float, list[dict[str, float]]] = {}
    for job in state.jobs:
        fraction = float(job.overrides.get(FRACTION_KEY, 1.0))
        point = points.setdefault(fraction, CurvePoint(fraction=fraction, train_rows=0))
        row = rows.get(job.key)
        if row is None or row.score is None:
            continue
        try:
            sizes = store.read(Path(job.session_file)).dataset_config.get("split_sizes") or {}
        except SessionError:
            continue
        point.train_rows = int(sizes.get("train") or point.train_rows)
        point.seed_scores.append(row.score)
        classes.setdefault(fraction, []).append(row.per_class)
    for fraction, point in points.items():
        found = classes.get(fraction, [])
        names = sorted({name for per in found for name in per})
        point.per_class = {n: sum(per.get(n, 0.0) for per in found) / len(found) for n in names} if found else {}
        point.summarise()
    return [points[f] for f in sorted(points)]


def finalize(state: SweepState, store: SessionStore | None = None) -> dict[str, Any] | None:
    """Fit and plot the curve from the finished runs and record it on the parent session (completed once every
    run has ended). Returns the record, or None without a parent."""
    from llm_tool.results.learning_curve import curve_record, fit_curve, plot_curve
    from llm_tool.sweeps.queue import all_final

    parent = state.parent_session.session_file if state.parent_session else None
    if not parent:
        return None
    store = store or SessionStore(Path(state.home) if state.home else None)
    try:
        recorded = store.read(Path(parent)).extra.get(RECORD_KEY)
    except SessionError:
        return None
    per_class = isinstance(recorded, dict) and recorded.get("per_class") is True
    points = collect_points(state, store)
    fit = fit_curve([p for p in points if p.seed_scores])
    image = plot_path(state, store.home) if any(p.seed_scores for p in points) else None
    plotted = plot_curve(points, fit, image, title=f"Learning curve {state.name}", per_class=per_class) \
        if image else None
    record = curve_record(points, fit, plotted, image)
    final = all_final(state.jobs)
    last = next((p for p in reversed(points) if p.mean is not None), None)

    def apply(meta: SessionMetadata) -> None:
        meta.extra[RECORD_KEY] = {"sweep": state.name, "per_class": per_class, **record}
        status = meta.execution_status
        status.best_f1 = last.mean if last else None
        status.test_f1 = last.mean if last else None
        if final:
            transitions.mark_ended(meta, succeeded=last is not None,
                                   failure="no run of the curve finished with metrics")
    try:
        store.update(Path(parent), apply)
    except SessionError:
        return None
    return record


def markdown(name: str, record: dict[str, Any], parent: str | None, image: str | None) -> str:
    """The curve as Markdown: per-fraction table, the fit and its 2x/4x estimates, what it means, the plot."""
    from llm_tool.sweeps.report import markdown_table

    def num(value: Any) -> str:
        return f"{value:.3f}" if isinstance(value, (int, float)) else "-"

    cells = [[f"{100 * p['fraction']:g}%", str(p["train_rows"]), str(len(p["seed_scores"])), num(p["mean"]),
              f"{num(p['ci_low'])} – {num(p['ci_high'])}" if p.get("ci_low") is not None else "-"]
             for p in record.get("points", [])]
    fit = record.get("fit") or {}
    cells += [[f"{e['factor']}x (estimate)", str(e["train_rows"]), "-", num(e["macro_f1"]),
               f"{num(e['low'])} – {num(e['high'])}" if e.get("low") is not None else "-"]
              for e in fit.get("estimates", []) if e.get("macro_f1") is not None]
    lines = [f"# Learning curve `{name}`", "", f"Parent session: `{parent or '-'}`.", "",
             markdown_table(["training data", "rows", "runs", "macro-F1", "95% interval"], cells), ""]
    if fit.get("a") is not None:
        lines.append(f"Fit: macro-F1 = {fit['a']:.3f} − {fit['b']:.3f} · rows^−{fit['c']:.3f} "
                     f"(R² {num(fit.get('r2'))}).")
    lines += [str(fit.get("note") or ""), "", "Scores: test macro-F1 (validation without a test split) of each run; "
              "the interval over seeds is a 95% t-interval; every run is scored on the same test rows.", ""]
    if image:
        lines.append(f"![learning curve]({image})")
    return "\n".join(lines) + "\n"


def write_report(state: SweepState, out_dir: Path, *, force: bool = False,
                 store: SessionStore | None = None) -> list[Path]:
    """`<out_dir>/<name>.md` and `<out_dir>/<name>_learning_curve.png` (through llm_tool.outputs)."""
    from llm_tool import outputs

    record = finalize(state, store) or {}
    name = state.name or "curve"
    files: dict[str, bytes] = {}
    plot = plot_path(state, (store or SessionStore(Path(state.home) if state.home else None)).home)
    image = f"{name}_learning_curve.png" if record.get("plot") and plot.is_file() else None
    if image:
        files[image] = plot.read_bytes()
    parent = state.parent_session.session_id if state.parent_session else None
    files[f"{name}.md"] = markdown(name, record, parent, image).encode("utf-8")
    return outputs.write_files(out_dir, files, outputs.Rules(force=force))
