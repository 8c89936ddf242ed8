"""Issue 23 target: `llm-tool curve` on the bundled sample (examples/quickstart.json, MiniLM) with 3 fractions x 2
seeds finishes in under 10 minutes on the 2-core dev machine. Runs it in a fresh home (tmux, one job at a time,
`--wait`), then prints the wall time, a table of macro-F1 per fraction and the fit, and writes the JSON to
benchmarks/results/bench_curve.json.

    python benchmarks/bench_curve.py [--fractions 0.25,0.5,1] [--seeds 2] [--max-parallel 1] [--preset quick]

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
    args = parser.parse_args()
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
    state = json.loads((home / "logs" / "sweeps" / "bench.json").read_text())
    parent = json.loads(Path(state["parent_session"]["session_file"]).read_text())
    curve = parent["learning_curve"]
    load = os.getloadavg()
    print(f"\nwall time {wall:.0f} s for {len(state['jobs'])} runs (load average at the end {load[0]:.1f} on "
          f"{os.cpu_count()} CPUs); exit code {done.returncode}")
    print(f"{'fraction':>9} {'rows':>6} {'macro-F1 mean':>14} {'95% interval':>17}  seeds")
    for p in curve["points"]:
        interval = f"{p['ci_low']:.3f}-{p['ci_high']:.3f}" if p["ci_low"] is not None else "-"
        print(f"{p['fraction']:>9} {p['train_rows']:>6} {p['mean']:>14.3f} {interval:>17}  "
              + ", ".join(f"{s:.3f}" for s in p["seed_scores"]))
    print("fit:", json.dumps(curve["fit"]))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_curve.json").write_text(json.dumps({"wall_seconds": wall, "exit_code": done.returncode,
                                                      "load_average": load, "runs": len(state["jobs"]),
                                                      "curve": curve}, indent=2))
    shutil.copy(curve["plot"], out / "bench_curve.png")
    subprocess.run(["tmux", "-L", env["LLM_TOOL_TMUX_SOCKET"], "kill-server"], capture_output=True)
    print(f"JSON: {out / 'bench_curve.json'}; plot: {out / 'bench_curve.png'}; home: {home}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
