"""The report's figures (matplotlib, Agg backend); each function returns the numbers it plotted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_tool.results.history import ATTEMPT_KEY, closing_epoch
from llm_tool.results.text import clean

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LABEL_CHARS = 30


@contextmanager
def _figure(path: Path, width: float, height: float, ncols: int = 1,
            nrows: int = 1) -> Iterator[tuple[Figure, np.ndarray]]:
    """A figure saved to ``path`` on exit; names are drawn as plain text (no math markup from '$')."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
        try:
            yield fig, axes
            fig.tight_layout()
            save_png(fig, path, dpi=110)
        finally:
            plt.close(fig)


def _name(value: Any) -> str:
    return clean(value, LABEL_CHARS)


def curve_series(metrics: dict[str, Any]) -> dict[str, tuple[list[float], list[float]]]:
    """Training loss and validation loss per step, validation macro-F1 per epoch, from metrics.json's log; an
    evaluation is drawn at the epoch the run's log gives it (one at epoch 0.527, when a time budget or a stop
    ended the epoch early, is epoch 1: its label says it covers part of it)."""
    log = [e for e in metrics.get("log_history") or [] if isinstance(e, dict)]
    series: dict[str, tuple[list[float], list[float]]] = {}

    def take(name: str, x_key: str, y_key: str) -> None:
        points = [(float(closing_epoch(e[x_key]) if x_key == "epoch" else e[x_key]), float(e[y_key])) for e in log
                  if isinstance(e.get(x_key), (int, float)) and isinstance(e.get(y_key), (int, float))]
        if points:
            series[name] = ([p[0] for p in points], [p[1] for p in points])

    take("train_loss", "step", "loss")
    take("validation_loss", "step", "eval_loss")
    take("validation_macro_f1", "epoch", "eval_macro_f1")
    return series


def _marks(metrics: dict[str, Any]) -> list[tuple[float | None, int | None]]:
    """For each validation point: the share of its epoch it covers when that is not all of it, and the earlier
    attempt it belongs to when it was made before a resume."""
    out: list[tuple[float | None, int | None]] = []
    for e in metrics.get("log_history") or []:
        if isinstance(e, dict) and isinstance(e.get("epoch"), (int, float)) and \
                isinstance(e.get("eval_macro_f1"), (int, float)):
            attempt = e.get(ATTEMPT_KEY)
            out.append((round(float(e["epoch"]), 6) % 1 or None, attempt if isinstance(attempt, int) else None))
    return out


def plot_curves(metrics: dict[str, Any], path: Path) -> dict[str, tuple[list[float], list[float]]]:
    from matplotlib.ticker import MaxNLocator

    series = curve_series(metrics)
    if not series:
        return series
    with _figure(path, 10, 3.8, ncols=2) as (_, axes):
        loss, f1 = axes[0][0], axes[0][1]
        for name, style in (("train_loss", "-"), ("validation_loss", "o-")):
            if name in series:
                loss.plot(*series[name], style, label=name.replace("_", " "))
        loss.set(xlabel="step", ylabel="loss", title="Loss")
        if loss.get_legend_handles_labels()[0]:  # validation metrics without any loss: no empty legend
            loss.legend()
        loss.grid(alpha=0.3)
        if "validation_macro_f1" in series:
            f1.plot(*series["validation_macro_f1"], "o-", color="tab:green")
            for (x, y), (part, attempt) in zip(zip(*series["validation_macro_f1"], strict=False), _marks(metrics),
                                               strict=False):
                notes = ([f"{part:.0%} of it"] if part else []) + \
                    ([f"attempt {attempt}, before a resume"] if attempt else [])
                f1.annotate(f"{y:.3f}" + (f" ({'; '.join(notes)})" if notes else ""), (x, y),
                            textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        f1.set(xlabel="epoch", ylabel="macro-F1", title="Validation macro-F1", ylim=(0, 1.05))
        f1.xaxis.set_major_locator(MaxNLocator(integer=True))
        f1.grid(alpha=0.3)
    return series


def plot_confusion(report: dict[str, Any], path: Path, title: str) -> dict[str, Any]:
    """Single-label: the matrix as a heatmap. Multi-label: one 2x2 matrix (rows true 0/1) per label."""
    matrix = report.get("confusion_matrix") or {}
    if "matrix" in matrix:
        names = [_name(n) for n in matrix["labels"]]
        grid = [[int(v) for v in row] for row in matrix["matrix"]]
        size = max(4.0, 0.6 * len(names) + 2.5)
        with _figure(path, size, size * 0.85) as (_, axes):
            _heatmap(axes[0][0], grid, names, names, title)
        return {"labels": names, "matrix": grid}
    panels = {name: [[int(m["tn"]), int(m["fp"])], [int(m["fn"]), int(m["tp"])]]
              for name, m in matrix.items() if isinstance(m, dict)}
    if not panels:
        return {}
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    with _figure(path, 3.2 * cols, 3.0 * rows, ncols=cols, nrows=rows) as (fig, axes):
        flat = [ax for row in axes for ax in row]
        for ax, (name, grid) in zip(flat, panels.items(), strict=False):
            _heatmap(ax, grid, ["not", "is"], ["not", "is"], _name(name))
        for ax in flat[len(panels):]:
            ax.axis("off")
        fig.suptitle(title)
    return {_name(k): v for k, v in panels.items()}


def _heatmap(ax: Axes, grid: list[list[int]], rows: list[str], cols: list[str], title: str) -> None:
    top = max((v for row in grid for v in row), default=0) or 1
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=top)
    ax.set_xticks(range(len(cols)), labels=cols, rotation=45 if len(cols) > 2 else 0, ha="right")
    ax.set_yticks(range(len(rows)), labels=rows)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > top / 2 else "black")


def plot_per_class_f1(report: dict[str, Any], path: Path, title: str) -> dict[str, float]:
    """Horizontal bars with the value written next to each; a class at 0 shows as a marked 0.000."""
    values = {_name(name): float(v.get("f1") or 0.0) for name, v in (report.get("per_class") or {}).items()
              if isinstance(v, dict)}
    if not values:
        return values
    with _figure(path, 7, max(2.5, 0.45 * len(values) + 1.2)) as (_, axes):
        ax = axes[0][0]
        names = list(values)[::-1]
        bars = ax.barh(names, [values[n] for n in names], color="tab:blue", edgecolor="black", linewidth=0.8)
        for bar, name in zip(bars, names, strict=False):
            value = values[name]
            ax.text(value + 0.01, bar.get_y() + bar.get_height() / 2, f"{value:.3f}", va="center",
                    color="tab:red" if value == 0 else "black", fontweight="bold" if value == 0 else "normal")
        ax.axvline(0, color="black", linewidth=1)
        ax.set(xlim=(0, 1.12), xlabel="F1", title=title)
        ax.grid(axis="x", alpha=0.3)
    return values


def plot_pr_curves(probabilities: Any, labels: Any, names: list[str], path: Path,
                   title: str) -> dict[str, dict[str, Any]]:
    """Multi-label: precision-recall curve and average precision of each label (from saved probabilities)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    curves: dict[str, dict[str, Any]] = {}
    with _figure(path, 6.5, 5) as (_, axes):
        ax = axes[0][0]
        for j, name in enumerate(names):
            truth = labels[:, j]
            if truth.sum() == 0:
                continue
            precision, recall, _ = precision_recall_curve(truth, probabilities[:, j])
            ap = float(average_precision_score(truth, probabilities[:, j]))
            curves[_name(name)] = {"precision": precision.tolist(), "recall": recall.tolist(), "ap": ap}
            ax.step(recall, precision, where="post", label=f"{_name(name)} (AP {ap:.3f})")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.05), title=title)
        ax.grid(alpha=0.3)
        if curves:
            ax.legend(fontsize=8, loc="lower left")
    return curves


def plot_per_language(per_language: dict[str, Any], path: Path, title: str) -> dict[str, float]:
    values = {_name(code): float(v.get("macro_f1") or 0.0) for code, v in per_language.items() if isinstance(v, dict)}
    if not values:
        return values
    with _figure(path, 6, max(2.2, 0.45 * len(values) + 1.2)) as (_, axes):
        ax = axes[0][0]
        names = list(values)[::-1]
        bars = ax.barh(names, [values[n] for n in names], color="tab:purple", edgecolor="black", linewidth=0.8)
        for bar, name in zip(bars, names, strict=False):
            count = per_language.get(name, {}).get("num_samples", "")
            ax.text(values[name] + 0.01, bar.get_y() + bar.get_height() / 2, f"{values[name]:.3f}  (n={count})",
                    va="center")
        ax.set(xlim=(0, 1.25), xlabel="macro-F1", title=title)
    return values


def save_png(fig: Figure, path: Path, *, dpi: float | None = None) -> None:
    """The figure as a PNG replacing ``path`` atomically: a report or a curve read while it is redrawn is never
    empty or partial."""
    import io

    from llm_tool.atomic import write_text_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_text_atomic(path, buffer.getvalue())
