"""Start-up time of light commands (`--help`, `sessions list`): median wall time of N runs, and whether torch
or transformers got imported. Prints a table and writes benchmarks/results/startup.json.

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"llm-tool --help": ["--help"], "llm-tool sessions list": ["sessions", "list"],
            "llm-tool tmux list": ["tmux", "list"]}
PROBE = ("import sys, runpy; sys.argv = ['llm-tool'] + sys.argv[1:]\n"
         "try:\n    runpy.run_module('llm_tool', run_name='__main__')\nexcept SystemExit:\n    pass\n"
         "print('HEAVY=' + ','.join(m for m in ('torch', 'transformers') if m in sys.modules), file=sys.stderr)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "LLM_TOOL_HOME": tempfile.mkdtemp(prefix="bench_startup_"),
           "LLM_TOOL_TMUX_SOCKET": f"bench-startup-{os.getpid()}"}
    results = {}
    for label, argv in COMMANDS.items():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "llm_tool", *argv], capture_output=True, env=env, cwd=ROOT)
            times.append(time.perf_counter() - start)
        probe = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env)
        heavy = next((ln[6:] for ln in probe.stderr.splitlines() if ln.startswith("HEAVY=")), "?")
        results[label] = {"median_seconds": round(statistics.median(times), 3), "min_seconds": round(min(times), 3),
                          "heavy_imports": heavy or "none"}
    print(f"{'command':28} {'median s':>9} {'min s':>7}  heavy imports")
    for label, r in results.items():
        print(f"{label:28} {r['median_seconds']:>9.3f} {r['min_seconds']:>7.3f}  {r['heavy_imports']}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
