"""Rich views of tmux training jobs: the `tmux list` table and one dashboard panel per job."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from llm_tool.dispatch.jobs import JobInfo
from llm_tool.monitor.system import SystemStats
from llm_tool.ui.console import STATUS_STYLES, status_text


def num(value: Any, spec: str = ".4f") -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return "-" if value is None else str(value)


def size(nbytes: float | None) -> str:
    if nbytes is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return "-"


def duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _when(iso: str | None) -> str:
    try:
        return datetime.fromisoformat(iso or "").strftime("%m-%d %H:%M")
    except ValueError:
        return "-"


def progress_text(job: JobInfo) -> str:
    epoch = f"{job.epoch:.2f}" if job.epoch is not None else "-"
    epochs = f"/{job.total_epochs}" if job.total_epochs else ""
    step = f"{job.step}/{job.total_steps}" if job.step is not None and job.total_steps else num(job.step, "d")
    return f"{epoch}{epochs} · {step}"


def attempt_text(job: JobInfo) -> str:
    if job.attempt is None:
        return "-"
    return f"{job.attempt}/{(job.max_retries or 0) + 1}"


def _job_cells(job: JobInfo) -> dict[str, str]:
    return {"tmux session": job.name, "status": job.status, "epoch · step": progress_text(job),
            "exit": num(job.exit_code, "d"), "loss": num(job.loss), "best F1": num(job.best_f1),
            "try": attempt_text(job), "": "attached" if job.attached else "detached", "created": _when(job.created),
            "last output": job.last_line or job.reason or ""}


# Most important first: on a narrow terminal the last columns are left out rather than squeezed.
_COLUMNS = ("tmux session", "status", "epoch · step", "best F1", "exit", "loss", "try", "", "created", "last output")
_RIGHT = {"exit", "loss", "best F1", "try"}


def jobs_table(jobs: list[JobInfo], title: str, width: int = 200) -> Table:
    """The `tmux list` table, keeping as many columns (in priority order) as ``width`` allows."""
    rows = [_job_cells(job) for job in jobs]
    natural = {c: max([len(c)] + [len(r[c]) for r in rows]) for c in _COLUMNS}
    natural["last output"] = min(natural["last output"], 20)  # it takes whatever room is left
    columns = list(_COLUMNS)
    while len(columns) > 2 and sum(natural[c] for c in columns) + 3 * len(columns) + 1 > width:
        columns.pop()
    table = Table(title=title, title_style="primary")
    for column in columns:
        table.add_column(column, no_wrap=True, min_width=natural[column], overflow="ellipsis",
                         justify="right" if column in _RIGHT else "left")
    for job, cells in zip(jobs, rows, strict=False):
        table.add_row(*(status_text(job.status) if c == "status" else escape(cells[c]) for c in columns))
    return table


def eta_seconds(job: JobInfo, first_seen: dict[str, tuple[float, int]]) -> float | None:
    """Remaining time from the step rate seen by this monitor, else since the run started (not after a resume)."""
    if job.status != "running" or not job.step or not job.total_steps or job.step >= job.total_steps:
        return None
    now = time.time()
    key = f"{job.session_id}:{job.attempt}"
    seen_at, seen_step = first_seen.setdefault(key, (now, job.step))
    if job.step > seen_step and now > seen_at:
        return (job.total_steps - job.step) / ((job.step - seen_step) / (now - seen_at))
    if job.started_at and not job.resumed:
        try:
            elapsed = now - datetime.fromisoformat(job.started_at).timestamp()
        except ValueError:
            return None
        return (job.total_steps - job.step) * elapsed / job.step if elapsed > 0 else None
    return None


def job_panel(job: JobInfo, *, log_lines: list[str], eta: float | None,
              usage: tuple[float | None, int | None]) -> Panel:
    style = STATUS_STYLES.get(job.status, "white")
    head = Text.assemble((job.session_id or "no session", "bold"), "  ", (job.model or "", "dim"),
                         f"  try {attempt_text(job)}" if job.attempt else "")
    total = job.total_steps or 0
    bar = Table.grid(padding=(0, 1))
    bar.add_column(width=30)
    bar.add_column()
    bar.add_row(ProgressBar(total=total or None, completed=min(job.step or 0, total), width=30,  # None: pulses
                            complete_style=style, finished_style="green"),
                f"{progress_text(job)}  ETA {duration(eta)}")
    cpu, rss = usage
    facts = (f"loss {num(job.loss)}   best F1 {num(job.best_f1)}   exit {num(job.exit_code, 'd')}   "
             f"CPU {'-' if cpu is None else f'{cpu:.0f}%'}   RAM {size(rss)}")
    parts: list[RenderableType] = [head, bar, Text(facts)]
    if job.reason:
        parts.append(Text(job.reason, style="yellow"))
    parts.extend(Text(line, style="dim", no_wrap=True, overflow="ellipsis") for line in log_lines)
    title = Text.assemble((job.name, "bold"), "  ", (job.status, style), "  ",
                          ("attached" if job.attached else "detached", "dim"))
    return Panel(Group(*parts), title=title, title_align="left", border_style=style)


def system_line(stats: SystemStats) -> Text:
    ram = f"{size(stats.ram_used)} / {size(stats.ram_total)}" if stats.ram_total else "-"
    text = Text.assemble(("machine  ", "bold"), f"CPU {num(stats.cpu_percent, '.0f')}%   RAM {ram}")
    for gpu in stats.gpus:
        text.append(f"   GPU{gpu.index} {num(gpu.utilization, '.0f')}% "
                    f"{num(gpu.memory_used_mb, '.0f')}/{num(gpu.memory_total_mb, '.0f')} MB")
    return text
