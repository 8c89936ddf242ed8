"""Tasks runs on the bundled sample (two annotation dimensions: `label` and `source`), MiniLM, 1 epoch:

(a) each task alone, as a normal session (`llm-tool train` on a config with that label column);
(b) both tasks as one tasks run in the foreground (`llm-tool train` on a config with `label_columns`): its wall time
    against the sum of (a) (the issue asks for at most K x one task + 10%), and each task's test macro-F1;
(c) the same tasks run side by side in tmux (`--backend tmux --max-parallel 2`): what parallel runs gain here;
(d) the tokenization a second task would repeat (the fast tokenizer over every text, as the engine does it), to size
    what a cache of tokenized texts shared by the tasks could save.

Each run is an `llm-tool` process of its own with a fresh home. Prints a table and writes
benchmarks/results/tasks.json.

    python benchmarks/bench_tasks.py [--rows 0] [--epochs 1] [--skip-tmux]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "all-MiniLM-L6-v2"
TASKS = ("label", "source")


def _data(rows: int, folder: Path) -> Path:
    if not rows:
        return SAMPLE
    with SAMPLE.open(encoding="utf-8") as handle:
        data = list(csv.DictReader(handle))
    step = max(1, len(data) // rows)  # every n-th row: all sources and labels kept
    out = folder / "subset.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data[::step][:rows])
    return out


def _home(name: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"bench_tasks_{name}_")) / "home"
    home.mkdir()
    return home


def _config(home: Path, data: Path, epochs: int, dataset: dict[str, Any]) -> Path:
    config = {"dataset_config": {"primary_file": str(data), "text_column": "text", **dataset},
              "model_config": {"selected_model": MODEL, "epochs": epochs, "seed": 42}}
    path = home / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _llm_tool(home: Path, *args: str, socket: str | None = None) -> float:
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "LLM_TOOL_NON_INTERACTIVE": "1"}
    if socket:
        env["LLM_TOOL_TMUX_SOCKET"] = socket
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "llm_tool", *args], cwd=home, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"llm-tool {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def _sessions(home: Path) -> list[dict[str, Any]]:
    folder = home / "logs" / "training_sessions"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("training_metadata_*.json"))]


def _seconds(meta: dict[str, Any]) -> float | None:
    segments = meta["execution_status"].get("segment_seconds")
    return sum(segments) if segments else meta["execution_status"].get("duration_seconds")


def alone(data: Path, epochs: int, task: str) -> dict[str, Any]:
    home = _home(task)
    wall = _llm_tool(home, "train", str(_config(home, data, epochs, {"label_column": task})))
    (meta,) = _sessions(home)
    return {"wall_seconds": wall, "training_seconds": _seconds(meta),
            "test_macro_f1": meta["execution_status"]["test_f1"]}


def _children(home: Path) -> dict[str, dict[str, Any]]:
    metas = _sessions(home)
    return {m["dataset_config"]["task"]: {"training_seconds": _seconds(m), "status": m["execution_status"]["status"],
                                          "test_macro_f1": m["execution_status"]["test_f1"]}
            for m in metas if m["dataset_config"].get("task")}


def tasks_foreground(data: Path, epochs: int) -> dict[str, Any]:
    home = _home("foreground")
    wall = _llm_tool(home, "train", str(_config(home, data, epochs, {"label_columns": list(TASKS)})))
    return {"wall_seconds": wall, "tasks": _children(home)}


def tasks_tmux(data: Path, epochs: int) -> dict[str, Any]:
    home = _home("tmux")
    socket = f"bench-tasks-{os.getpid()}"
    start = time.perf_counter()
    try:
        _llm_tool(home, "train", str(_config(home, data, epochs, {"label_columns": list(TASKS)})), "--backend",
                  "tmux", "--max-parallel", str(len(TASKS)), socket=socket)
        while True:  # every child final: completed or failed
            children = _children(home)
            if children and all(c["status"] in ("completed", "failed") for c in children.values()):
                break
            time.sleep(0.5)
        wall = time.perf_counter() - start
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
    return {"wall_seconds": wall, "tasks": children}


def tokenization(data: Path) -> dict[str, Any]:
    """Seconds the engine's tokenization of every text takes (lengths pass + truncated pass), once."""
    from transformers import AutoTokenizer

    from llm_tool.catalog.resolve import resolve_model

    with data.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(MODEL))
    start = time.perf_counter()
    tokenizer(texts, add_special_tokens=True, truncation=False)
    tokenizer(texts, truncation=True, max_length=128)
    return {"texts": len(texts), "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="rows of the sample (0: all 3,000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--skip-tmux", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_tasks_data_"))
    data = _data(args.rows, work)
    result: dict[str, Any] = {"model": MODEL, "epochs": args.epochs, "rows": args.rows or 3000,
                              "cpus": os.cpu_count(), "note": "shared machine: other jobs ran meanwhile"}
    result["alone"] = {task: alone(data, args.epochs, task) for task in TASKS}
    result["foreground"] = tasks_foreground(data, args.epochs)
    if not args.skip_tmux:
        result["tmux"] = tasks_tmux(data, args.epochs)
    result["tokenization"] = tokenization(data)
    sum_alone = sum(r["wall_seconds"] for r in result["alone"].values())
    result["foreground_over_sum_alone"] = result["foreground"]["wall_seconds"] / sum_alone
    print(f"{'run':34} {'wall s':>8}  " + "  ".join(f"{t + ' F1':>10}" for t in TASKS))
    for task, r in result["alone"].items():
        print(f"{task + ' alone (normal session)':34} {r['wall_seconds']:8.1f}  "
              + "  ".join(f"{r['test_macro_f1']:10.4f}" if t == task else f"{'':>10}" for t in TASKS))
    for kind in ("foreground", "tmux"):
        if kind in result:
            r = result[kind]
            print(f"{'both tasks, ' + kind:34} {r['wall_seconds']:8.1f}  "
                  + "  ".join(f"{r['tasks'][t]['test_macro_f1']:10.4f}" for t in TASKS))
    print(f"foreground / sum of the tasks alone: {result['foreground_over_sum_alone']:.3f} (at most 1.10 asked)")
    tok = result["tokenization"]
    print(f"tokenizing all {tok['texts']} texts (both passes): {tok['seconds']:.2f} s per task")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tasks.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written {RESULTS / 'tasks.json'}")


if __name__ == "__main__":
    main()
