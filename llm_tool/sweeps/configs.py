"""One configuration of a sweep (its jobs over seeds) with its scores and its comparison to the best."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llm_tool.sweeps.leaderboard import LeaderRow


@dataclass
class ConfigRow:
    """One configuration: its seeds' scores, mean ± sd, and its difference to the best with a 95% interval.

    ``diff``/``ci_low``/``ci_high``: this configuration's mean macro-F1 minus the best's (paired bootstrap over the
    test rows, each resample scoring every seed of both); ``tied``: the interval contains 0 (same rank as the best);
    ``note``: why there is no interval (no predictions, rows that do not align)."""

    key: str
    title: str
    model: str | None
    jobs: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    seeds: list[int | None] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    split: str | None = None
    rank: int | None = None
    mean: float | None = None
    sd: float | None = None
    best: bool = False
    tied: bool | None = None
    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    note: str | None = None
    per_class: dict[str, float] = field(default_factory=dict)
    train_runtime_seconds: float | None = None
    train_samples_per_second: float | None = None
    best_session_id: str | None = None  # the best-scoring seed's session (the model to use)
    group: str | None = None  # set when the sweep's jobs differ in task or test set: ranked within this group
    runs: list[LeaderRow] = field(default_factory=list, repr=False)

    @property
    def status(self) -> str:
        """`completed`, or a tally such as `1 completed, 1 running` when the seeds differ."""
        from llm_tool.sweeps.summaries import counts, tally_text

        tally = counts(self.statuses)
        return next(iter(tally)) if len(tally) == 1 else tally_text(tally, ordered=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("runs")
        data["status"] = self.status
        data["n_seeds"] = len(self.scores)
        return data
