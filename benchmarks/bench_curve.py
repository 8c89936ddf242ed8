"""Issue 23 target: `llm-tool curve` on the bundled sample (examples/quickstart.json, MiniLM) with 3 fractions x 2
seeds finishes in under 10 minutes on the 2-core dev machine. Runs it in a fresh home (tmux, one job at a time,
`--wait`), then prints the wall time, a table of macro-F1 per fraction and the fit, and writes the JSON to
benchmarks/results/bench_curve.json.

    python benchmarks/bench_curve.py [--fractions 0.25,0.5,1] [--seeds 2] [--max-parallel 1] [--preset quick]
    python benchmarks/bench_curve.py --collect HOME   # the table of a run still going (or cut off), per-run times

The quick preset (at most 2 epochs, early stopping) is what a first "should I annotate more?" check uses; the
standard preset's 10 epochs take about 5x longer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", default="0.25,0.5,1")
    parser.add_argument("--seeds", default="2")
    parser.add_argument("--max-parallel", default="1")
    parser.add_argument("--preset", default="quick", help="session type of every run (quick: at most 2 epochs)")
    parser.add_argument("--collect", type=Path, metavar="HOME", help="summarise the curve in HOME; run nothing")
    args = parser.parse_args()
    if args.collect:  # `sweep status` records the curve so far on the parent session first
        env = {**os.environ, "LLM_TOOL_HOME": str(args.collect.resolve()), "COLUMNS": "120"}
        subprocess.run([sys.executable, "-m", "llm_tool", "sweep", "status", "bench"], env=env, capture_output=True,
                       timeout=300)
        summarise(args.collect.resolve(), None, None)
        return 0
    home = Path(tempfile.mkdtemp(prefix="bench_curve_"))
    config = home / "quickstart.json"
    raw = json.loads((ROOT / "examples" / "quickstart.json").read_text())
    raw["dataset_config"]["primary_file"] = str((ROOT / "examples" / raw["dataset_config"]["primary_file"]).resolve())
    config.write_text(json.dumps(raw, indent=2))
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "COLUMNS": "120",
           "LLM_TOOL_TMUX_SOCKET": f"bench-curve-{os.getpid()}"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "llm_tool", "curve", str(config), "--fractions", args.fractions,
                           "--seeds", args.seeds, "--max-parallel", args.max_parallel, "--preset", args.preset,
                           "--name", "bench", "--wait"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    print(done.stdout[-6000:], done.stderr[-3000:], sep="\n")
    summarise(home, wall, done.returncode)
    subprocess.run(["tmux", "-L", env["LLM_TOOL_TMUX_SOCKET"], "kill-server"], capture_output=True)
    return done.returncode


def _seconds(session: dict) -> float | None:
    from datetime import datetime

    status = session["execution_status"]
    if not status.get("started_at") or not status.get("completed_at"):
        return None
    start, end = (datetime.fromisoformat(status[k]) for k in ("started_at", "completed_at"))
    return (end - start).total_seconds()


def summarise(home: Path, wall: float | None, code: int | None) -> None:
    """Print the curve of HOME's sweep `bench` (each run's time too) and write the JSON and the plot."""
    state = json.loads((home / "logs" / "sweeps" / "bench.json").read_text())
    runs = []
    for job in state["jobs"]:
        session = json.loads(Path(job["session_file"]).read_text())
        runs.append({"title": job["title"], "status": session["execution_status"]["status"],
                     "train_rows": session["dataset_config"].get("split_sizes", {}).get("train"),
                     "epochs": session["model_config"].get("epochs"), "seconds": _seconds(session),
                     "test_macro_f1": session["execution_status"].get("test_f1")})
        print(f"  {job['title']:<16} {runs[-1]['status']:<10} rows {runs[-1]['train_rows']}  "
              f"{runs[-1]['seconds'] or 0:.0f} s  test macro-F1 {runs[-1]['test_macro_f1']}")
    parent = json.loads(Path(state["parent_session"]["session_file"]).read_text())
    curve = parent["learning_curve"]
    load = os.getloadavg()
    print(f"\nwall time {wall or 0:.0f} s for {len(state['jobs'])} runs (load average at the end {load[0]:.1f} on "
          f"{os.cpu_count()} CPUs); exit code {code}")
    print(f"{'fraction':>9} {'rows':>6} {'macro-F1 mean':>14} {'95% interval':>17}  seeds")
    for p in curve["points"]:
        interval = f"{p['ci_low']:.3f}-{p['ci_high']:.3f}" if p["ci_low"] is not None else "-"
        if p["mean"] is None:
            continue
        print(f"{p['fraction']:>9} {p['train_rows']:>6} {p['mean']:>14.3f} {interval:>17}  "
              + ", ".join(f"{s:.3f}" for s in p["seed_scores"]))
    print("fit:", json.dumps(curve["fit"]))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_curve.json").write_text(json.dumps({"wall_seconds": wall, "exit_code": code,
                                                      "load_average": load, "runs": runs,
                                                      "curve": curve}, indent=2))
    if curve.get("plot"):
        shutil.copy(curve["plot"], out / "bench_curve.png")
    print(f"JSON: {out / 'bench_curve.json'}; plot: {out / 'bench_curve.png'}; home: {home}")


if __name__ == "__main__":
    sys.exit(main())
