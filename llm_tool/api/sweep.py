"""Sweeps the xmux way from Python: `Job`s (configurations, never callables), `launch_sweep`, and `Sweep`."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from llm_tool.errors import ConfigError
from llm_tool.sweeps.state_schema import SweepError

if TYPE_CHECKING:
    import pandas as pd

    from llm_tool.sweeps.spec import JobPlan, SweepSpec
    from llm_tool.sweeps.start_stop import SweepPlan
    from llm_tool.sweeps.state import SweepStore

SweepPlace = Literal["tmux", "slurm"]
KEEP_GROUP_BY = "model_config.selected_model"


@dataclass(frozen=True)
class Job:
    """One job: ``overrides`` of the sweep's base config (``{"model_config.learning_rate": 2e-5}`` or
    ``{"model_config": {...}}``); ``window``: the tmux window (group) it joins (default: by the sweep's group_by);
    ``title``: its pane title (default: from the settings that differ). ``function``: ``"pkg.mod:fn"`` runs your
    own importable function with ``overrides`` as its JSON config instead of a training (same supervisor, panes,
    log and control window)."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    window: str | None = None
    title: str | None = None
    function: str | None = None

def _base_of(base: str | Path | Mapping[str, Any]) -> tuple[Any, Path]:
    if isinstance(base, (str, Path)):
        path = Path(base).expanduser().resolve()
        return str(path), path.parent
    if isinstance(base, Mapping):
        return dict(base), Path.cwd()
    raise ConfigError(f"base must be a config file path or a mapping, got {type(base).__name__}")


def _check_jobs(jobs: Sequence[Job]) -> None:
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence) or not jobs:
        raise ConfigError("jobs must be a non-empty list of Job(...)")
    for number, job in enumerate(jobs, start=1):
        if not isinstance(job, Job):
            raise ConfigError(f"job {number} is a {type(job).__name__}, not a Job(overrides, window, title)")
    titles = [job.title for job in jobs if job.title]
    if len(titles) != len(set(titles)):
        raise ConfigError("two jobs have the same title: titles name the panes, give each its own")


def build_spec(jobs: Sequence[Job], *, base: str | Path | Mapping[str, Any], name: str,
               max_parallel: int | None, max_panes_per_window: int, group_by: str | None,
               max_retries: int) -> SweepSpec:
    """The sweep a `sweep start` file with these jobs would give (validated the same way), titles and windows
    set where a Job names them; function jobs keep their config as it is (JSON) and the base config."""
    from llm_tool.dispatch.user_function import check_function, config_text
    from llm_tool.sweeps.spec import JobPlan, parse_sweep

    _check_jobs(jobs)
    trainings = [dict(job.overrides) for job in jobs if job.function is None]
    for job in jobs:
        if job.function is not None:
            check_function(job.function)
            config_text(dict(job.overrides))
    raw_base, base_dir = _base_of(base)
    data: dict[str, Any] = {"base": raw_base, "jobs": trainings or [{}], "name": name,
                            "group_by": group_by or "none", "max_panes_per_window": max_panes_per_window,
                            "max_retries": max_retries}
    if max_parallel is not None:
        data["max_parallel"] = max_parallel
    spec = parse_sweep(data, base_dir=base_dir, source=f"sweep {name}")  # the base is checked even for functions
    planned = iter(spec.jobs if trainings else [])
    plans = []
    for number, job in enumerate(jobs, start=1):
        if job.function is None:
            plan = dataclasses.replace(next(planned), number=number)
        else:
            plan = JobPlan(number=number, overrides=dict(job.overrides), raw=copy.deepcopy(spec.base),
                           function=job.function, title=_function_title(job, number))
        plans.append(_placed(plan, job))
    spec.jobs = plans
    return spec


def _function_title(job: Job, number: int) -> str:
    return job.title or f"{str(job.function).rpartition(':')[2]}-{number}"


def _placed(plan: JobPlan, job: Job) -> JobPlan:
    """The plan with the Job's own title and window (made safe for tmux), when it names them."""
    from llm_tool.dispatch.names import sanitize
    from llm_tool.sweeps.naming import MAX_WINDOW, clean_title

    title = job.title or plan.title
    window = job.window or (str(job.function).rpartition(":")[2] if job.function else "")  # a function: its name
    return dataclasses.replace(plan, title=clean_title(title) if title else "",
                               group=sanitize(window, limit=MAX_WINDOW) if window else "")


def launch_sweep(jobs: Sequence[Job], *, base: str | Path | Mapping[str, Any], name: str,
                 max_parallel: int | None = None, max_panes_per_window: int = 4,
                 group_by: str | None = KEEP_GROUP_BY, dry_run: bool = False, place: SweepPlace = "tmux",
                 max_retries: int = 0, home: str | Path | None = None) -> Sweep:
    """Start ``jobs`` as sweep ``name`` (as `llm-tool sweep start`): one tmux session with a control window and
    a scheduler, jobs in windows of at most ``max_panes_per_window`` panes, ``max_parallel`` at once. A sweep of
    that name already there gets these jobs added (xmux's way). ``dry_run``: plan only (``Sweep.layout()``)."""
    from llm_tool.sweeps import seam

    if place not in seam.PLACES:
        raise ConfigError(f"place must be one of {', '.join(seam.PLACES)}, got {place!r}")
    if place == "slurm" and any(job.function for job in jobs if isinstance(job, Job)):
        raise ConfigError("function jobs run in tmux only: launch them with place='tmux'")
    sweeps = _sweep_store(home)
    spec = build_spec(jobs, base=base, name=name, max_parallel=max_parallel,
                      max_panes_per_window=max_panes_per_window, group_by=group_by, max_retries=max_retries)
    planned = seam.plan(spec, name=name, max_parallel=max_parallel, sweeps=sweeps)
    if not dry_run:
        seam.start(spec, place, planned=planned, sweeps=sweeps)
    return Sweep(planned.name, sweeps, plan=planned if dry_run else None)


def _sweep_store(home: str | Path | None) -> SweepStore:
    from llm_tool.sweeps.state import SweepStore

    return SweepStore(Path(home).expanduser().resolve() if home is not None else None)


class Sweep:
    """A sweep by name: its state, jobs and leaderboard as `llm-tool sweep status --json` gives them."""

    def __init__(self, name: str, sweeps: SweepStore, *, plan: SweepPlan | None = None) -> None:
        self.name = name
        self._sweeps = sweeps
        self.plan = plan  # a dry run's plan (nothing started)

    @classmethod
    def load(cls, name: str, *, home: str | Path | None = None) -> Sweep:
        sweeps = _sweep_store(home)
        sweeps.read(name)  # an unknown name is a SweepError now
        return cls(name, sweeps)

    def _started(self) -> None:
        if self.plan is not None:
            raise SweepError(f"sweep {self.name} was a dry run: nothing was started")

    def layout(self) -> pd.DataFrame:
        """One row per job: window (tmux window name), pane title, job key and overrides (planned or running)."""
        import pandas as pd

        if self.plan is not None:
            plan = self.plan
            rows = [{"key": plan.job_key(j), "window": j.window, "title": j.title, "overrides": j.overrides}
                    for j in plan.jobs]
        else:
            rows = [{"key": j.key, "window": j.window, "title": j.title, "overrides": j.overrides}
                    for j in self._sweeps.read(self.name).jobs]
        return pd.DataFrame(rows, columns=["key", "window", "title", "overrides"])

    def status(self) -> dict[str, Any]:
        """`sweep status --json`: {"sweep": ..., "jobs": [...], "leaderboard": [...], "runs": [...]}."""
        from llm_tool.sweeps import seam

        self._started()
        return seam.status_document(self.name, sweeps=self._sweeps)

    def leaderboard(self) -> pd.DataFrame:
        """The configurations ranked (the `leaderboard` of `sweep status --json`, one row each)."""
        import pandas as pd

        return pd.DataFrame(self.status()["leaderboard"])

    def jobs(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.status()["jobs"])

    def wait(self, timeout: float | None = None, *, poll: float = 1.0) -> Sweep:
        """Until every job ended; a SweepError when its scheduler is gone or ``timeout`` seconds passed."""
        from llm_tool.sweeps import seam

        self._started()
        outcome = seam.wait(self.name, poll=poll, sweeps=self._sweeps, timeout=timeout)
        if outcome.scheduler_lost:
            raise SweepError(f"the scheduler of sweep {self.name} is not running: Sweep.resume() continues it")
        if outcome.timed_out:
            raise SweepError(f"sweep {self.name} is still running after {timeout:g} s")
        return self

    def kill(self, grace: float | None = None) -> dict[str, int]:
        """Stop every job (running ones checkpoint, queued ones are cancelled); the per-status counts."""
        from llm_tool.sweeps import seam

        self._started()
        return seam.kill(self.name, grace=grace, sweeps=self._sweeps).counts

    def resume(self, max_parallel: int | None = None) -> int:
        """Queue the interrupted and cancelled jobs again; how many."""
        from llm_tool.sweeps import seam

        self._started()
        return len(seam.resume(self.name, max_parallel=max_parallel, sweeps=self._sweeps).jobs)

    def __repr__(self) -> str:
        return f"Sweep({self.name!r})"
