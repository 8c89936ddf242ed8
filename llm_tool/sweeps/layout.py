"""Window layout: jobs grouped by a key, at most N panes per window, overflow to `<group>-2`; window 0 is control."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llm_tool.sweeps.state import SweepJob

CONTROL_WINDOW = "control"


@dataclass
class WindowPlan:
    """One planned tmux window: its name, group, planned index (0 is the control window) and job titles."""

    name: str
    group: str
    index: int
    jobs: list[str] = field(default_factory=list)  # job keys, in pane order


def window_names(group: str) -> Iterable[str]:
    """`group`, `group-2`, `group-3`..."""
    yield group
    n = 2
    while True:
        yield f"{group}-{n}"
        n += 1


def assign_windows(groups: Sequence[str], existing: Sequence[SweepJob], max_panes: int) -> list[str]:
    """The window of each new job (by its group), filling windows that existing jobs already use first.

    ``existing`` are the sweep's current jobs (each with `window` and `group`): every job ever placed keeps its
    pane (a finished pane stays visible), so it keeps counting against its window's limit."""
    if max_panes < 1:
        raise ValueError("max_panes must be at least 1")
    counts: dict[str, int] = {}
    for job in existing:
        counts[job.window] = counts.get(job.window, 0) + 1
    reserved = {CONTROL_WINDOW}
    out = []
    for group in groups:
        for name in window_names(group):
            if name in reserved:
                continue
            if counts.get(name, 0) < max_panes:
                counts[name] = counts.get(name, 0) + 1
                out.append(name)
                break
    return out


def plan_windows(jobs: Sequence[SweepJob]) -> list[WindowPlan]:
    """Windows in the order their first job starts (jobs start in order): index 1, 2...; 0 is the control window."""
    plans: dict[str, WindowPlan] = {}
    for job in sorted(jobs, key=lambda j: j.number):
        name = job.window
        if name not in plans:
            plans[name] = WindowPlan(name=name, group=job.group or name, index=len(plans) + 1)
        plans[name].jobs.append(job.key)
    return list(plans.values())
