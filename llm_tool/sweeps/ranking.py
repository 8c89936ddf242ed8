"""The honest leaderboard: jobs grouped by configuration (all but the seed), mean ± sd over seeds, and a paired
bootstrap interval and McNemar's p-value of each configuration against the best on the same test rows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps.configs import ConfigRow
from llm_tool.sweeps.leaderboard import LeaderRow, leaderboard
from llm_tool.sweeps.state import SweepState

__all__ = ["ConfigRow", "best_config", "format_plain", "grouping_note", "rank_configs", "ranking", "score_text",
           "table_cells"]

SEED_KEY = "model_config.seed"
SPLIT_SEED_KEY = "dataset_config.split_seed"
_SEED_LABEL = re.compile(r"_?seed\d+(?=_|-\d+$|$)")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def config_key(job_key: str, overrides: dict[str, Any]) -> str:
    """Jobs whose overrides set a seed are grouped by everything else; other jobs stand alone."""
    if SEED_KEY not in overrides:
        return f"job:{job_key}"
    rest = {k: v for k, v in overrides.items() if k not in (SEED_KEY, SPLIT_SEED_KEY)}
    return "config:" + json.dumps(rest, sort_keys=True, default=str)


def _config_title(rows: list[LeaderRow]) -> str:
    if len(rows) == 1:
        return rows[0].title
    return _SEED_LABEL.sub("", rows[0].title).strip("_-") or rows[0].title


def group_configs(state: SweepState, rows: list[LeaderRow]) -> list[ConfigRow]:
    """Job rows grouped into configurations, in the order of their first job."""
    jobs = {job.key: job for job in state.jobs}
    groups: dict[str, list[LeaderRow]] = {}
    for row in sorted(rows, key=lambda r: jobs[r.key].number if r.key in jobs else 0):
        overrides = jobs[row.key].overrides if row.key in jobs else {}
        groups.setdefault(config_key(row.key, overrides), []).append(row)
    out = []
    for key, members in groups.items():
        scored = [r for r in members if r.score is not None]
        splits = {r.split for r in scored}
        config = ConfigRow(key=key, title=_config_title(members), model=members[0].model, runs=members,
                           jobs=[r.title for r in members], session_ids=[r.session_id or "" for r in members],
                           statuses=[r.status for r in members])
        if scored:
            split = "test" if "test" in splits else "validation"
            scored = [r for r in scored if r.split == split]
            fill_scores(config, scored, split, jobs)
        out.append(config)
    return out


def fill_scores(config: ConfigRow, scored: list[LeaderRow], split: str, jobs: dict[str, Any]) -> None:
    from llm_tool.results.stats import mean_sd

    config.split = split
    config.scores = [float(r.score or 0.0) for r in scored]
    config.seeds = [_seed(jobs[r.key].overrides) if r.key in jobs else None for r in scored]
    config.mean, config.sd = mean_sd(config.scores)
    names = list(dict.fromkeys(c for r in scored for c in r.per_class))
    config.per_class = {c: sum(r.per_class.get(c, 0.0) for r in scored) / len(scored) for c in names}
    config.train_runtime_seconds = _mean([r.train_runtime_seconds for r in scored
                                          if r.train_runtime_seconds is not None])
    config.train_samples_per_second = _mean([r.train_samples_per_second for r in scored
                                             if r.train_samples_per_second is not None])
    config.best_session_id = max(scored, key=lambda r: r.score or 0.0).session_id


def _seed(overrides: dict[str, Any]) -> int | None:
    value = overrides.get(SEED_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _task(config: ConfigRow) -> tuple[str, str]:
    first = config.runs[0] if config.runs else None
    return (first.task or "-", first.test_set or "-") if first else ("-", "-")


def rank_configs(configs: list[ConfigRow], *, with_stats: bool = True) -> list[ConfigRow]:
    """Configurations are ranked only against those of the same task (label column) and test set: a sweep whose
    jobs differ there is ranked group by group (the best group first), each configuration saying its group."""
    tasks = list(dict.fromkeys(_task(c) for c in configs))
    if len(tasks) <= 1:
        return _rank_group(configs, with_stats=with_stats)
    labels_differ = len({t[0] for t in tasks}) > 1
    tests_differ = len({t[1] for t in tasks}) > 1
    groups = []
    for task in tasks:
        members = _rank_group([c for c in configs if _task(c) == task], with_stats=with_stats)
        label = " · ".join([f"label={task[0]}"] * labels_differ + [task[1]] * tests_differ)
        for config in members:
            config.group = label
        groups.append([c for c in members if c.mean is not None])
    groups.sort(key=lambda g: (not g, g[0].split != "test" if g else True, -(g[0].mean or 0.0) if g else 0.0))
    return [c for g in groups for c in g] + [c for c in configs if c.mean is None]


def grouping_note(configs: list[ConfigRow]) -> str | None:
    """One line saying the jobs were ranked group by group, or None when they were all ranked together."""
    groups = list(dict.fromkeys(c.group for c in configs if c.group))
    if len(groups) < 2:
        return None
    return (f"the jobs differ in task or test set, so they are ranked within each group, never across: "
            f"{'; '.join(groups)}")


def _rank_group(configs: list[ConfigRow], *, with_stats: bool = True) -> list[ConfigRow]:
    """Best mean first (test scores before validation-only ones); configurations tied with the best share rank 1,
    the others follow in competition ranking. Unscored configurations come last, without a rank."""
    scored = [c for c in configs if c.mean is not None]
    scored.sort(key=lambda c: (c.split != "test", -(c.mean or 0.0)))
    if scored:
        top = scored[0]
        top.best, top.tied, top.diff = True, None, 0.0
        if with_stats:
            from llm_tool.sweeps.pairing import compare_to_best  # numpy and the statistics: only when ranking

            compare_to_best(top, [c for c in scored[1:] if c.split == top.split])
        tied = [c for c in scored[1:] if c.tied]
        others = [c for c in scored[1:] if not c.tied]
        scored = [top, *tied, *others]
        for config in (top, *tied):
            config.rank = 1
        for position, config in enumerate(others, start=len(tied) + 2):
            config.rank = position
    return scored + [c for c in configs if c.mean is None]


def ranking(state: SweepState, store: SessionStore | None = None, *, with_stats: bool = True) -> list[ConfigRow]:
    """The configurations of the sweep, ranked from the metrics and predictions files on disk now."""
    store = store or SessionStore(Path(state.home) if state.home else None)
    return rank_configs(group_configs(state, leaderboard(state, store)), with_stats=with_stats)


def best_config(configs: list[ConfigRow]) -> ConfigRow | None:
    return next((c for c in configs if c.best), None)


def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def score_text(config: ConfigRow) -> str:
    """`0.8123 ± 0.0100` (the sd only with several seeds), `(val)` when no test split."""
    text = _fmt(config.mean) + (f" ± {config.sd:.4f}" if len(config.scores) > 1 and config.sd is not None else "")
    return text + ("" if config.split in (None, "test") else " (val)")


def diff_text(config: ConfigRow) -> str:
    """`best`, `-0.0123 [-0.031, +0.004]`, or `-` without an interval."""
    if config.best:
        return "best"
    if config.ci_low is None or config.ci_high is None or config.diff is None:
        return "-" if config.diff is None else f"{config.diff:+.4f}"
    return f"{config.diff:+.4f} [{config.ci_low:+.3f}, {config.ci_high:+.3f}]"


def rank_text(config: ConfigRow) -> str:
    """`2`, `1 tied`; in a sweep ranked group by group: `1 (label=topic)`."""
    if config.rank is None:
        return "-"
    text = f"{config.rank} tied" if config.tied else str(config.rank)
    return f"{text} ({config.group})" if config.group else text


def table_cells(configs: list[ConfigRow]) -> tuple[list[str], list[list[str]]]:
    """Header and cells shared by the plain-text and Markdown renderings (full names, every column)."""
    classes = list(dict.fromkeys(c for config in configs for c in config.per_class))
    header = ["rank", "configuration", "model", "seeds", "status", "macro-F1 (mean ± sd)", "Δ to best [95% CI]",
              "McNemar p", *[f"F1 {c}" for c in classes], "train time (s)", "samples/s", "best session"]
    cells = []
    for c in configs:
        cells.append([rank_text(c), c.title, c.model or "-", str(len(c.scores) or len(c.jobs)), c.status,
                      score_text(c), diff_text(c), _fmt(c.p_value, ".3g"), *[_fmt(c.per_class.get(n)) for n in classes],
                      _fmt(c.train_runtime_seconds, ".1f"), _fmt(c.train_samples_per_second, ".1f"),
                      c.best_session_id or (c.session_ids[0] if len(c.session_ids) == 1 else "-") or "-"])
    return header, cells


def format_plain(configs: list[ConfigRow]) -> str:
    """A fixed-width text table (for the scheduler's pane and logs)."""
    header, cells = table_cells(configs)
    cells = [[c if i != 2 else c.rstrip("/").rsplit("/", 1)[-1] for i, c in enumerate(row)] for row in cells]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) for row in cells]
    note = grouping_note(configs)
    return "\n".join(lines + ([note] if note else []))
