"""Start-up of `llm-tool train` on the bundled sample: seconds from the process start to the first training step,
with the time of each stage before it (reading data, tokenizer, analysis, model, tokenizing, trainer set-up).

Each run is a fresh process calling `llm_tool.cli.main(["train", CONFIG])`; it stops at the first step.
Prints a table (median of N runs, warm file cache) and writes benchmarks/results/first_step.json.

    python benchmarks/bench_first_step.py [--runs 3]
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
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"


def child(config: Path) -> None:
    """In the measured process: time each stage event, leave at the first optimizer step."""
    import psutil

    born = psutil.Process().create_time()
    marks: list[tuple[str, float]] = [("interpreter, imports, config, session", 0.0)]

    from llm_tool.cli import main
    from llm_tool.training import callbacks, engine

    def stage(self, message: str) -> None:
        name = " ".join(message.split(" ")[:2]) if message.startswith("loading") else message[:36]
        marks.append((name, time.time() - born))

    def first_step(self, args, state, control, **kwargs):
        marks.append(("first step done", time.time() - born))
        print("RESULT " + json.dumps(marks), flush=True)
        os._exit(0)

    engine.Run.stage = stage  # type: ignore[method-assign]
    callbacks.SessionCallback.on_step_end = first_step  # type: ignore[method-assign]
    main(["train", str(config)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child))
        return 0
    home = Path(tempfile.mkdtemp(prefix="bench_first_step_"))
    config = home / "config.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": str(SAMPLE)},
                                  "model_config": {"epochs": 1, "batch_size": 16}}))
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "LLM_TOOL_NON_INTERACTIVE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a warm cache, as on a user's machine: bytecode written once, reused
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "llm_tool")], env=env, check=False)
    runs = []
    for _ in range(args.runs):
        proc = subprocess.run([sys.executable, __file__, "--child", str(config)], capture_output=True, text=True,
                              env=env, cwd=home, timeout=600)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(proc.stdout[-2000:], proc.stderr[-3000:])
            return 1
        runs.append(json.loads(line[7:]))
    stages = [name for name, _ in runs[0]]
    median = {name: statistics.median(dict(r)[name] for r in runs) for name in stages}
    print(f"{'stage':36} {'starts at s':>12} {'takes s':>8}")
    for name, following in zip(stages, [*stages[1:], None], strict=True):
        start = 0.0 if name == stages[0] else median[name]
        took = "" if following is None else f"{median[following] - start:>8.2f}"
        print(f"{name:36} {start:>12.2f} {took}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "first_step.json").write_text(json.dumps({"runs": runs, "median": median}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
