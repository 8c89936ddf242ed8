"""Step cuts, quality first: `llm-tool train` on the bundled sample with today's defaults and with each cut
(word embeddings frozen, dropout off, both), over several seeds. Test macro-F1 (mean over the seeds, and its change
from the defaults) and training samples/s for each. Each run is its own process, one after another; time them on a
quiet machine only. Prints a table and writes benchmarks/results/step_cuts.json.

    python benchmarks/bench_step_cuts.py [--seeds 42,43,44] [--variants defaults,frozen,no-dropout,both]
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
MODEL = "all-MiniLM-L6-v2"
VARIANTS = {  # name: model_config settings added to the defaults
    "defaults": {},
    "frozen": {"word_embeddings": "frozen"},
    "no-dropout": {"dropout": "off"},
    "both": {"word_embeddings": "frozen", "dropout": "off"},
}


def child(variant: str, seed: int) -> None:
    """One `llm-tool train` run as the CLI does it: a session created, then trained in this process."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session
    from llm_tool.training.engine import run_session

    home = Path(tempfile.mkdtemp(prefix="bench_cuts_"))
    os.environ["LLM_TOOL_HOME"] = str(home)
    raw = {"dataset_config": {"primary_file": str(SAMPLE)},
           "model_config": {"selected_model": MODEL, "seed": seed, **VARIANTS[variant]}}
    store = SessionStore(home)
    path, _ = create_session(store, raw, base_dir=home)
    started = time.perf_counter()
    outcome = run_session(store, path)
    meta = store.read(path)
    metrics = outcome.metrics or {}
    print("RESULT " + json.dumps({
        "variant": variant, "seed": seed, "test_macro_f1": metrics["test"]["macro_f1"],
        "train_samples_per_second": metrics["train_samples_per_second"],
        "train_runtime_seconds": metrics["train_runtime_seconds"],
        "run_seconds": round(time.perf_counter() - started, 1),
        "epochs_run": metrics.get("epoch"), "recorded": {"word_embeddings": meta.environment.word_embeddings,
                                                         "dropout": meta.environment.dropout,
                                                         "precision": meta.environment.precision}}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    runs = []
    for variant in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            proc = subprocess.run([sys.executable, __file__, "--child", variant, str(seed)], capture_output=True,
                                  text=True, cwd=ROOT)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(proc.stdout[-2000:], proc.stderr[-4000:])
                return 1
            runs.append(json.loads(line[7:]))
            print(runs[-1], flush=True)
    summary = _summary(runs)
    _print_table(summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "step_cuts.json").write_text(json.dumps({"model": MODEL, "runs": runs, "summary": summary}, indent=2))
    return 0


def _summary(runs: list[dict]) -> dict[str, dict]:
    by_variant: dict[str, list[dict]] = {}
    for run in runs:
        by_variant.setdefault(run["variant"], []).append(run)
    out = {}
    for name, rows in by_variant.items():
        out[name] = {"seeds": [r["seed"] for r in rows],
                     "test_macro_f1": [round(r["test_macro_f1"], 4) for r in rows],
                     "mean_f1": round(statistics.mean(r["test_macro_f1"] for r in rows), 4),
                     "samples_per_second": round(statistics.mean(r["train_samples_per_second"] for r in rows), 1)}
    base = out.get("defaults")
    for row in out.values():
        if base:
            row["f1_change"] = round(row["mean_f1"] - base["mean_f1"], 4)
            row["speed_up"] = round(row["samples_per_second"] / base["samples_per_second"], 2)
    return out


def _print_table(summary: dict[str, dict]) -> None:
    print(f"\n{'variant':12} {'test macro-F1 per seed':30} {'mean':>7} {'change':>7} {'samples/s':>10} {'speed-up':>9}")
    for name, row in summary.items():
        print(f"{name:12} {row['test_macro_f1']!s:30} {row['mean_f1']:>7.4f} {row.get('f1_change', 0):>+7.4f} "
              f"{row['samples_per_second']:>10.1f} {row.get('speed_up', 1):>8.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
