"""Learning curves: macro-F1 per training fraction (mean and 95% interval over seeds), an inverse power law fitted
to it (scipy), its estimate at 2x and 4x the data, and the PNG plot."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIN_ROWS_TO_EXTRAPOLATE = 500  # fewer full training rows: the estimate is not given (too noisy to act on)
MIN_R2 = 0.6  # a poorer fit of the points: not extrapolated
MAX_ESTIMATE_INTERVAL = 0.2  # a wider 95% interval at 2x the data: the fit is too loose to extrapolate
PLATEAU_SPREAD = 0.02  # fraction means this close together (and no better fit): the curve is flat, a plateau
DRAWS = 2000  # parameter draws from the fit's covariance for the estimate's interval


@dataclass
class CurvePoint:
    """One training fraction: its rows and each seed's score (test macro-F1, validation when there is no test)."""

    fraction: float
    train_rows: int
    seed_scores: list[float] = field(default_factory=list)
    per_class: dict[str, float] = field(default_factory=dict)  # mean F1 per class over seeds
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    def summarise(self) -> None:
        """Mean and a 95% t-interval over seeds (none with one seed)."""
        import numpy as np
        from scipy import stats

        if not self.seed_scores:
            return
        scores = np.asarray(self.seed_scores, dtype=float)
        self.mean = float(scores.mean())
        if len(scores) > 1:
            half = float(stats.t.ppf(0.975, len(scores) - 1) * scores.std(ddof=1) / math.sqrt(len(scores)))
            self.ci_low, self.ci_high = self.mean - half, self.mean + half


@dataclass
class CurveFit:
    """macro-F1(n) = a - b * n^(-c) over the training rows n; ``estimates`` at 2x and 4x the full data."""

    a: float | None = None
    b: float | None = None
    c: float | None = None
    r2: float | None = None
    estimates: list[dict[str, Any]] = field(default_factory=list)  # {factor, train_rows, macro_f1, low, high}
    extrapolated: bool = False
    note: str = ""


def power_law(n: Any, a: Any, b: Any, c: Any) -> Any:
    return a - b * n ** (-c)


def plateau_note(points: list[CurvePoint]) -> str:
    """A flat curve said as such: the fraction means within PLATEAU_SPREAD of each other (else "")."""
    means = [(p.train_rows, p.mean) for p in sorted(points, key=lambda p: p.train_rows) if p.mean is not None]
    if len(means) < 3:
        return ""
    values = [m for _, m in means]
    spread = max(values) - min(values)
    if spread > PLATEAU_SPREAD:
        return ""
    return (f"the curve is flat, a plateau: macro-F1 stays within {spread:.3f} from {means[0][0]} to {means[-1][0]} "
            "training rows, so more annotations like these are unlikely to raise it much (nothing to extrapolate); "
            "harder or rarer examples may help more")


def fit_curve(points: list[CurvePoint]) -> CurveFit:
    """Fit every seed's score (scipy.optimize.curve_fit, bounded: the ceiling a within [0, 1]); the estimates'
    intervals come from parameter draws of the fit's covariance. Too few rows or a poor fit: said in ``note``."""
    import numpy as np
    from scipy.optimize import curve_fit

    xs = np.asarray([p.train_rows for p in points for _ in p.seed_scores], dtype=float)
    ys = np.asarray([s for p in points for s in p.seed_scores], dtype=float)
    full = max((p.train_rows for p in points), default=0)
    if len({p.train_rows for p in points if p.seed_scores}) < 3 or len(ys) < 4:
        return CurveFit(note="too few points to fit a curve: use at least 3 fractions (and 4 runs in all)")
    try:
        params, cov = curve_fit(power_law, xs, ys, p0=(min(1.0, ys.max() + 0.05), 1.0, 0.4),
                                bounds=([0.0, 0.0, 0.01], [1.0, 100.0, 3.0]), maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        return CurveFit(note=f"the curve could not be fitted ({exc}): not extrapolated")
    residual = float(((ys - power_law(xs, *params)) ** 2).sum())
    spread = float(((ys - ys.mean()) ** 2).sum())
    r2 = 1 - residual / spread if spread > 0 else 0.0
    fit = CurveFit(a=float(params[0]), b=float(params[1]), c=float(params[2]), r2=r2)
    fitted = r2 >= MIN_R2 and bool(np.all(np.isfinite(cov)))
    estimates = _estimates(full, params, cov) if fitted else []
    first = estimates[0] if estimates else {}
    if full < MIN_ROWS_TO_EXTRAPOLATE:
        fit.note = (f"too few training rows to extrapolate ({full}, below {MIN_ROWS_TO_EXTRAPOLATE}): annotate more "
                    "and run the curve again")
    elif not fitted:
        fit.note = plateau_note(points) or \
            f"the curve fits the points poorly (R² {r2:.2f}): not extrapolated; add seeds or fractions"
    elif first["high"] - first["low"] > MAX_ESTIMATE_INTERVAL:  # e.g. 0.00-1.00, the ceiling pinned at 1: says nothing
        fit.note = plateau_note(points) or (
            f"the fit is too loose to extrapolate (the estimate at 2x the data has a 95% interval of "
            f"{first['low']:.2f}-{first['high']:.2f}): add seeds or fractions")
    else:
        fit.extrapolated = True
        fit.note = "estimates from the fitted inverse power law; the interval covers the fit's uncertainty only"
    fit.estimates = estimates if fit.extrapolated else \
        [{"factor": factor, "train_rows": full * factor, "macro_f1": None, "low": None, "high": None}
         for factor in (2, 4)]
    return fit


def _estimates(full: int, params: Any, cov: Any) -> list[dict[str, Any]]:
    """macro-F1 at 2x and 4x the training rows, with a 95% interval from DRAWS draws of the fit's parameters."""
    import numpy as np

    draws = np.random.default_rng(0).multivariate_normal(params, cov, size=DRAWS)
    out = []
    for factor in (2, 4):
        n = full * factor
        values = np.clip(power_law(n, draws[:, 0], draws[:, 1], np.clip(draws[:, 2], 1e-3, None)), 0, 1)
        low, high = (float(v) for v in np.percentile(values, [2.5, 97.5]))
        out.append({"factor": factor, "train_rows": n, "macro_f1": float(power_law(n, *params)), "low": low,
                    "high": high})
    return out


def curve_record(points: list[CurvePoint], fit: CurveFit, plotted: dict[str, list[list[float]]] | None,
                 image: Path | None) -> dict[str, Any]:
    """What the curve's parent session records (``extra.learning_curve``)."""
    return {"points": [asdict(p) for p in points], "fit": asdict(fit), "plotted": plotted or {},
            "plot": str(image) if image else None, "model": "macro_f1 = a - b * train_rows^(-c)"}


def plot_curve(points: list[CurvePoint], fit: CurveFit, path: Path, *, title: str,
               per_class: bool = False) -> dict[str, list[list[float]]]:
    """Write the PNG; returns the (x, y) data of its main series (``mean``, ``seeds``, ``fit``) as drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    shown = [p for p in points if p.mean is not None]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    try:
        xs = [p.train_rows for p in shown]
        low = [p.mean - p.ci_low if p.ci_low is not None and p.mean is not None else 0.0 for p in shown]
        high = [p.ci_high - p.mean if p.ci_high is not None and p.mean is not None else 0.0 for p in shown]
        mean = ax.errorbar(xs, [p.mean or 0.0 for p in shown], yerr=[low, high], fmt="o-", color="C0", capsize=4,
                           label="macro-F1, mean ± 95% interval over seeds")
        seeds = ax.plot([p.train_rows for p in shown for _ in p.seed_scores],
                        [s for p in shown for s in p.seed_scores], "x", color="C0", alpha=0.55, label="each seed")
        drawn = {"mean": _xy(mean.lines[0]), "seeds": _xy(seeds[0])}
        if fit.a is not None and fit.b is not None and fit.c is not None and xs:
            grid = np.linspace(min(xs), max(xs) * (4 if fit.extrapolated else 1), 200)
            line = ax.plot(grid, power_law(grid, fit.a, fit.b, fit.c), "--", color="C1",
                           label=f"fit a - b·n^-c (R² {fit.r2:.2f})")
            drawn["fit"] = _xy(line[0])
        for e in fit.estimates:
            if e["macro_f1"] is not None:
                err = [[e["macro_f1"] - (e["low"] or e["macro_f1"])], [(e["high"] or e["macro_f1"]) - e["macro_f1"]]]
                ax.errorbar([e["train_rows"]], [e["macro_f1"]], yerr=err, fmt="s", color="C1", capsize=4)
        if per_class:
            for k, name in enumerate(sorted({c for p in shown for c in p.per_class})):
                line = ax.plot(xs, [p.per_class.get(name, float("nan")) for p in shown], ":", color=f"C{k + 2}",
                               alpha=0.7, label=f"F1 {name}"[:40])
                drawn[f"class {name}"] = _xy(line[0])
        ax.set_xlabel("training rows")
        ax.set_ylabel("macro-F1")
        ax.set_ylim(0, 1)
        ax.set_title(title[:80])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        if fit.note and not fit.extrapolated:  # under the axes: never over the points or the legend
            import textwrap

            lines = textwrap.wrap(fit.note, 130)[:3]
            fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="C3", va="bottom")
            fig.tight_layout(rect=(0, 0.025 * len(lines) + 0.01, 1, 1))
        else:
            fig.tight_layout()
        from llm_tool.results.plots import save_png

        save_png(fig, path)
    finally:
        plt.close(fig)
    return drawn


def _xy(line: Any) -> list[list[float]]:
    """A drawn line's points, as matplotlib holds them."""
    import numpy as np

    return [[float(x), float(y)] for x, y in np.asarray(line.get_xydata())]
