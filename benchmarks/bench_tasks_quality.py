"""Quality of a tasks run (issue 22): each task of one tasks run against the same model trained on that task alone
with the same split, and against a plain transformers.Trainer tuned by hand on that task.

Data: the bundled sample (3,000 review sentences, two annotation dimensions on the same texts: `label`
positive/negative and `source` amazon/imdb/yelp) with bench_defaults' fixed stratified 80/10/10 split column; to
have rows missing a dimension, as real annotation files do, 15% of the rows lose their `source` and another 10%
their `label` (random, seed 7, the same rows every run). Rows:
  tasks run     `llm-tool train` on `label_columns: [label, source]`, default settings (one child per task);
  alone         `llm-tool train` on each task's annotated rows only (what a user does by hand), same split column;
  plain Trainer bench_defaults' script on the same per-task file: lr 5e-5 and 1e-4 x 4 epochs, lr and epoch picked
                on validation (its test macro-F1 reported).
Targets: tasks run >= alone - 0.01 and >= plain Trainer - 0.02 per task; the tasks run's wall time against the
sum of the alone runs (K x one task + 10%). Prints a table and writes benchmarks/results/tasks_quality.json.

    python benchmarks/bench_tasks_quality.py [--skip-baseline] [--parts tasks,alone,baseline]
        [--baseline-lrs 5e-5,1e-4] [--output tasks_quality.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_defaults import run_baseline, run_tool, split_file  # the benchmark folder is not a package

RESULTS = Path(__file__).resolve().parent / "results"
TASKS = ("label", "source")
BLANKED = {"source": 0.15, "label": 0.10}


def with_gaps(split: Path, folder: Path) -> Path:
    """The split file with some rows missing one dimension (never both)."""
    with split.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    order = list(range(len(rows)))
    random.Random(7).shuffle(order)
    start = 0
    for task, share in BLANKED.items():
        count = round(share * len(rows))
        for i in order[start:start + count]:
            rows[i][task] = ""
        start += count
    out = folder / "reviews_tasks.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def task_file(data: Path, task: str, folder: Path) -> Path:
    """The rows annotated for ``task``: what a user trains on when the tool has no tasks."""
    with data.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r[task]]
    out = folder / f"only_{task}.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def run_tasks(data: Path, home: Path) -> dict:
    config = home / "tasks.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": str(data), "label_columns": list(TASKS),
                                                     "split_column": "split"}}))
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "LLM_TOOL_NON_INTERACTIVE": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "llm_tool", "train", str(config)], env=env, capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"tasks run failed: {proc.stderr[-2000:]}")
    out: dict = {"wall_seconds": round(wall, 1)}
    for path in sorted((home / "logs" / "training_sessions").glob("training_metadata_*.json")):
        meta = json.loads(path.read_text())
        task = meta["dataset_config"].get("task")
        if not task:
            continue
        metrics = json.loads((home / "models" / meta["training_session"]["session_id"] / "metrics.json").read_text())
        out[task] = {"test_macro_f1": round(metrics["test"]["macro_f1"], 4),
                     "validation_macro_f1": round(metrics["best_validation_macro_f1"], 4),
                     "epochs_trained": metrics["epochs_trained"], "rows_used": meta["dataset_config"].get("rows_used"),
                     "rows_not_annotated": meta["dataset_config"].get("rows_not_annotated"),
                     "test_rows": meta["dataset_config"].get("split_sizes", {}).get("test")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--parts", default="tasks,alone,baseline", help="which rows to run (separate processes "
                                                                        "can share the work: the data are the same)")
    parser.add_argument("--baseline-lrs", default="5e-5,1e-4", help="the plain Trainer's learning rates; TASK=LR "
                                                                     "pairs (label=5e-5,source=1e-4) give one per task")
    parser.add_argument("--output", default="tasks_quality.json")
    args = parser.parse_args()
    parts = set(args.parts.split(",")) - ({"baseline"} if args.skip_baseline else set())
    named = dict(item.split("=") for item in args.baseline_lrs.split(",") if "=" in item)
    lrs = {task: [float(named[task])] if task in named else [float(v) for v in args.baseline_lrs.split(",")]
           for task in TASKS}
    folder = Path(tempfile.mkdtemp(prefix="bench_tasks_quality_"))
    data = with_gaps(split_file(folder), folder)
    out: dict = {"data": "bundled sample, fixed split, " + ", ".join(f"{int(s * 100)}% of rows without {t}"
                                                                     for t, s in BLANKED.items())}
    if "tasks" in parts:
        (folder / "tasks").mkdir()
        out["tasks_run"] = run_tasks(data, folder / "tasks")
        print(f"tasks run: {out['tasks_run']}", flush=True)
    for task in TASKS:
        only = task_file(data, task, folder)
        if "alone" in parts:
            home = folder / f"alone_{task}"
            home.mkdir()
            out[f"{task}_alone"] = run_tool(only, task, home)
            print(f"{task} alone: {out[f'{task}_alone']}", flush=True)
        if "baseline" in parts:
            grid = [run_baseline(only, task, lr, 4) for lr in lrs[task]]
            out[f"{task}_baseline_grid"] = grid
            out[f"{task}_baseline_best"] = max(grid, key=lambda r: r["validation_macro_f1"])
            print(f"{task} plain Trainer: {grid}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.output).write_text(json.dumps(out, indent=2))
    if not {"tasks", "alone"} <= parts:
        return
    alone_wall = sum(out[f"{t}_alone"]["wall_seconds"] for t in TASKS)
    out["wall_ratio_tasks_to_alone_sum"] = round(out["tasks_run"]["wall_seconds"] / alone_wall, 3)
    print(f"\n{'task':8} {'tasks run':>10} {'alone':>8} {'diff':>7} {'plain Trainer':>14} {'diff':>7}")
    for task in TASKS:
        mine, alone = out["tasks_run"][task]["test_macro_f1"], out[f"{task}_alone"]["test_macro_f1"]
        base = out.get(f"{task}_baseline_best", {}).get("test_macro_f1", float("nan"))
        out[f"{task}_diff_to_alone"], out[f"{task}_diff_to_baseline"] = round(mine - alone, 4), round(mine - base, 4)
        print(f"{task:8} {mine:10.4f} {alone:8.4f} {mine - alone:+7.4f} {base:14.4f} {mine - base:+7.4f}")
    print(f"wall: tasks run {out['tasks_run']['wall_seconds']:.0f} s, tasks alone {alone_wall:.0f} s in all "
          f"(ratio {out['wall_ratio_tasks_to_alone_sum']}; target <= 1.10)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tasks_quality.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
