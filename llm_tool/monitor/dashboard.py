"""`llm-tool tmux monitor`: a Rich Live dashboard of every training in tmux, or one snapshot (`--once`, pipes)."""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.text import Text

from llm_tool.dispatch.jobs import JobInfo, collect_jobs, tail_lines
from llm_tool.dispatch.tmux_server import TmuxServer
from llm_tool.monitor.system import Sampler
from llm_tool.monitor.views import eta_seconds, job_panel, system_line

LOG_LINES = 4


class Dashboard:
    """Builds one frame: machine load, then a panel per job (status, progress, ETA, metrics, log tail)."""

    def __init__(self, server: TmuxServer, *, log_lines: int = LOG_LINES) -> None:
        self.server = server
        self.log_lines = log_lines
        self.sampler = Sampler()
        self.first_seen: dict[str, tuple[float, int]] = {}

    def frame(self, *, footer: str = "") -> RenderableType:
        jobs = collect_jobs(self.server)
        stamp = datetime.now().strftime("%H:%M:%S")
        header = Text.assemble(("llm-tool trainings in tmux", "bold cyan"),
                               f"   socket {self.server.socket}   {stamp}   {len(jobs)} job(s)")
        parts: list[RenderableType] = [header, system_line(self.sampler.system())]
        if not jobs:
            parts.append(Text("no trainings in tmux: start one with `llm-tool tmux start --config CFG`", style="dim"))
        for job in jobs:
            parts.append(self._panel(job))
        if footer:
            parts.append(Text(footer, style="dim"))
        return Group(*parts)

    def _panel(self, job: JobInfo) -> RenderableType:
        usage = self.sampler.process(job.pid if job.status == "running" else None)
        return job_panel(job, log_lines=tail_lines(job.log_file, self.log_lines), eta=eta_seconds(job, self.first_seen),
                         usage=usage)


def run_monitor(*, interval: float = 5.0, once: bool = False, console: Console | None = None,
                server: TmuxServer | None = None) -> int:
    """Refresh every ``interval`` seconds until Ctrl+C; a single snapshot when ``once`` or not on a terminal."""
    from llm_tool.ui.console import console as default_console

    console = console or default_console
    dashboard = Dashboard(server or TmuxServer())
    if once or not console.is_terminal:
        console.print(dashboard.frame())
        return 0
    from rich.live import Live

    footer = f"refreshing every {interval:g} s · Ctrl+C leaves · attach with `llm-tool tmux attach NAME`"
    try:
        with Live(dashboard.frame(footer=footer), console=console, refresh_per_second=4, screen=False,
                  transient=False) as live:
            while True:
                time.sleep(interval)
                live.update(dashboard.frame(footer=footer))
    except KeyboardInterrupt:
        pass
    return 0
