"""xmux at scale: the 72-job demo shape (3 models x 4 lrs x 3 batch sizes x 2 optimisers, grouped by model and
optimiser, 4 panes per window) and a 500-job queued sweep (--max-parallel 2), launched with the Python API in a
private tmux server. By default the jobs are user function jobs that return at once (`examples/xmux_demo_job.py`,
seconds=0), so what is measured is the tool: planning, scheduler overhead per job (supervisor + pane + Python
start), `sweep status --json` time, control-window refresh time and tmux server memory. Prints a table and writes
benchmarks/results/xmux_scale.json.

`--real-72` runs the 72 jobs as real trainings instead (benchmarks/xmux_real72.py): 3 tiny BERTs, 4 learning
rates, 3 batch sizes, model_config.optimizer adamw/sgd, 2 at a time; writes benchmarks/results/xmux_real72.json.

    python benchmarks/bench_xmux_scale.py [--parallel-72 8] [--jobs-500 500] [--run-500 120]
    python benchmarks/bench_xmux_scale.py --real-72 [--rows 48] [--timeout 3600]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _timed(fn: Any, runs: int = 5) -> float:
    """The median seconds of ``fn()`` over ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tmux_rss_mb(socket: str) -> float | None:
    import psutil

    out = subprocess.run(["tmux", "-L", socket, "display-message", "-p", "#{pid}"], capture_output=True, text=True)
    return round(psutil.Process(int(out.stdout.strip())).memory_info().rss / 2**20, 1) if out.returncode == 0 else None


def measure(name: str, jobs: list[Any], parallel: int, run_seconds: float | None, socket: str) -> dict[str, Any]:
    """Plan, launch, run (to the end, or ``run_seconds``), and time status, control refresh and tmux memory."""
    from xmux_demo import BASE

    from llm_tool.api import Sweep, launch_sweep
    from llm_tool.sweeps_ui.control import ControlApp, render_lines

    start = time.perf_counter()
    planned = launch_sweep(jobs, base=BASE, name=name, max_parallel=parallel, group_by=None, dry_run=True)
    plan_s = time.perf_counter() - start
    layout = planned.layout()
    start = time.perf_counter()
    sweep = launch_sweep(jobs, base=BASE, name=name, max_parallel=parallel, group_by=None)
    launch_s = time.perf_counter() - start
    begun = time.perf_counter()
    done = 0
    while True:
        counts = sweep.status()["sweep"]["counts"]
        done = sum(n for status, n in counts.items() if status in ("completed", "failed", "interrupted"))
        elapsed = time.perf_counter() - begun
        if done == len(jobs) or (run_seconds is not None and elapsed >= run_seconds):
            break
        time.sleep(1.0)
    status_s = _timed(sweep.status)
    app = ControlApp(name, home=Path(os.environ["LLM_TOOL_HOME"]), socket=socket)
    refresh_s = _timed(lambda: (app.refresh(), render_lines(name, app.state, app.list)))
    rss = tmux_rss_mb(socket)
    panes = len(Sweep.load(name).status()["jobs"])
    sweep.kill(grace=5)
    return {"jobs": len(jobs), "windows": int(layout["window"].nunique()), "max_parallel": parallel,
            "plan_seconds": round(plan_s, 3), "launch_seconds": round(launch_s, 3),
            "finished_jobs": done, "run_seconds": round(elapsed, 1),
            "seconds_per_job_slot": round(elapsed * parallel / max(done, 1), 2),
            "status_json_seconds": round(status_s, 3), "control_refresh_seconds": round(refresh_s, 3),
            "tmux_server_rss_mb": rss, "job_rows": panes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel-72", type=int, default=8)
    parser.add_argument("--jobs-500", type=int, default=500)
    parser.add_argument("--run-500", type=float, default=120.0, help="seconds to let the 500-job sweep run")
    parser.add_argument("--real-72", action="store_true", help="the 72 jobs as real tiny trainings (only that)")
    parser.add_argument("--rows", type=int, default=48, help="--real-72: rows of the bundled sample")
    parser.add_argument("--timeout", type=float, default=3600.0, help="--real-72: give up after this many seconds")
    parser.add_argument("--limit", type=int, help="--real-72: only the first N jobs (a quick check)")
    args = parser.parse_args()
    if args.real_72:
        from xmux_real72 import run_real_72

        run_real_72(rows=args.rows, timeout=args.timeout, limit=args.limit)
        return
    from xmux_demo import jobs_for

    socket = f"llmtool-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="xmux_scale_") as home:
        os.environ.update(LLM_TOOL_HOME=home, LLM_TOOL_TMUX_SOCKET=socket, LLM_TOOL_NON_INTERACTIVE="1",
                          HF_HUB_OFFLINE="1")
        try:
            large = measure("demo72", jobs_for("large", stand_in=0), args.parallel_72, None, socket)
            queued = [*jobs_for("large", stand_in=0)] * (args.jobs_500 // 72 + 1)
            from llm_tool.api import Job

            many = [Job({**dict(j.overrides), "n": n}, window=j.window, title=f"q{n}-{j.title}", function=j.function)
                    for n, j in enumerate(queued[:args.jobs_500])]
            big = measure("queue500", many, 2, args.run_500, socket)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    result = {"machine": f"{platform.node()} ({os.cpu_count()} CPUs, shared)", "python": platform.python_version(),
              "demo_72": large, "queued_500": big}
    print(f"{'':24} {'72-job demo':>14} {'500 queued':>14}")
    for key in large:
        print(f"{key:24} {large[key]!s:>14} {big[key]!s:>14}")
    out = ROOT / "benchmarks" / "results" / "xmux_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
