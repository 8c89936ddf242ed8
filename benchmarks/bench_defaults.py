"""Good models by default (issue 10): `llm-tool train` given only a data file and its official split, against a
plain transformers.Trainer tuned by hand, and the quick preset against its time budget.

Tasks, on the bundled sample (3,000 review sentences, one fixed stratified train/validation/test split column):
  sentiment  positive / negative
  domain     amazon / imdb / yelp (which site a sentence comes from: a 3-class topic task)
Rows: llm-tool defaults (standard preset, automatic settings) on both tasks; a plain Trainer (dynamic padding,
random batches, same split and model) on both tasks for learning rates 5e-5, 1e-4, 2e-4, evaluated after each
of 4 epochs, the best validation macro-F1 picking the learning rate and epoch (its test macro-F1 is reported);
`--preset quick` with budgets of 1, 2 and 3 minutes (wall time of the whole command against the budget).
Prints a table and writes benchmarks/results/defaults.json.

    python benchmarks/bench_defaults.py [--skip-baseline] [--skip-budgets]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "all-MiniLM-L6-v2"


def split_file(folder: Path, seed: int = 0) -> Path:
    """The sample with a fixed 80/10/10 split column, stratified by label and site (``seed`` 0: the split every
    other row of this benchmark uses)."""
    import random

    with SAMPLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["label"], row["source"]), []).append(row)
    rng = random.Random(seed)
    for members in groups.values():
        rng.shuffle(members)
        n = len(members)
        for i, row in enumerate(members):
            row["split"] = "test" if i < n // 10 else "dev" if i < n // 5 else "train"
    out = folder / ("reviews_split.csv" if seed == 0 else f"reviews_split_{seed}.csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label", "source", "split"])
        writer.writeheader()
        writer.writerows(rows)
    return out


def run_tool(data: Path, label: str, home: Path, *extra: str) -> dict:
    """`llm-tool train` with only the data file, its columns and its split column; wall time of the command."""
    config = home / f"{label}.json"
    config.write_text(json.dumps({"dataset_config": {"primary_file": str(data), "label_column": label,
                                                     "split_column": "split"}}))
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "LLM_TOOL_NON_INTERACTIVE": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "llm_tool", "train", str(config), *extra], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"llm-tool failed on {label}: {proc.stderr[-2000:]}")
    session = sorted((home / "logs" / "training_sessions").glob("training_metadata_*.json"))[-1]
    meta = json.loads(session.read_text())
    metrics = json.loads((home / "models" / meta["training_session"]["session_id"] / "metrics.json").read_text())
    model = meta["model_config"]
    return {"wall_seconds": round(wall, 1), "test_macro_f1": round(metrics["test"]["macro_f1"], 4),
            "validation_macro_f1": round(metrics["best_validation_macro_f1"], 4),
            "epochs_trained": metrics["epochs_trained"], "learning_rate": model["learning_rate"],
            "epochs": model["epochs"], "batch_size": model["batch_size"],
            "completion_reason": meta["execution_status"].get("completion_reason")}


def run_baseline(data: Path, label: str, lr: float, epochs: int) -> dict:
    """A plain Trainer, tuned by hand: one learning rate, evaluated on validation and test after each epoch."""
    code = f"""
import csv, json, numpy as np
from sklearn.metrics import f1_score
import datasets
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                          TrainingArguments, set_seed)
from transformers.utils import logging
from llm_tool.catalog.resolve import packaged_model_dir
logging.set_verbosity_error(); datasets.disable_progress_bars()
rows = list(csv.DictReader(open({str(data)!r}, encoding="utf-8")))
names = sorted({{r[{label!r}] for r in rows}})
path = str(packaged_model_dir({MODEL!r}))
tok = AutoTokenizer.from_pretrained(path)
def part(s):
    sub = [r for r in rows if r["split"] == s]
    labels = [names.index(r[{label!r}]) for r in sub]
    ds = datasets.Dataset.from_dict({{"text": [r["text"] for r in sub], "label": labels}})
    return ds.map(lambda b: tok(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
set_seed(42)
model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
def metric(p):
    return {{"macro_f1": f1_score(p.label_ids, p.predictions.argmax(-1), average="macro")}}
args = TrainingArguments(output_dir="out", num_train_epochs={epochs}, per_device_train_batch_size=16,
    learning_rate={lr}, warmup_steps=0.1, weight_decay=0.01, eval_strategy="epoch", save_strategy="no",
    report_to="none", disable_tqdm=True, use_cpu=True, seed=42, logging_strategy="no")
trainer = Trainer(model=model, args=args, train_dataset=part("train"),
                  eval_dataset={{"val": part("dev"), "test": part("test")}},
                  data_collator=DataCollatorWithPadding(tok), compute_metrics=metric)
trainer.train()
evals = [e for e in trainer.state.log_history if "eval_val_macro_f1" in e or "eval_test_macro_f1" in e]
by_epoch = {{}}
for e in evals:
    by_epoch.setdefault(round(e["epoch"]), {{}}).update(e)
best = max(by_epoch.values(), key=lambda e: e["eval_val_macro_f1"])
found = {{"epoch": best["epoch"], "val": best["eval_val_macro_f1"], "test": best["eval_test_macro_f1"]}}
print("RESULT " + json.dumps(found))
"""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=folder,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"baseline failed: {proc.stderr[-2000:]}")
    found = json.loads(line[7:])
    return {"learning_rate": lr, "best_epoch": found["epoch"], "validation_macro_f1": round(found["val"], 4),
            "test_macro_f1": round(found["test"], 4), "wall_seconds": round(time.perf_counter() - start, 1)}


def baseline_grid(data: Path, label: str, task: str, epochs: int, out: dict) -> None:
    """The plain Trainer at three learning rates; the best on validation is the tuned baseline."""
    grid = [run_baseline(data, label, lr, epochs) for lr in (5e-5, 1e-4, 2e-4)]
    best = max(grid, key=lambda r: r["validation_macro_f1"])
    out[f"{task}_baseline_grid"], out[f"{task}_baseline_best"] = grid, best
    for row in grid:
        print(f"{task:10} plain Trainer lr {row['learning_rate']:g}: best epoch {row['best_epoch']}, "
              f"val {row['validation_macro_f1']:.4f}, test {row['test_macro_f1']:.4f}  "
              f"({row['wall_seconds']:.0f} s)", flush=True)
    gap = out.get(f"{task}_defaults", {}).get("test_macro_f1", float("nan")) - best["test_macro_f1"]
    out[f"{task}_gap"] = round(gap, 4)
    print(f"{task:10} defaults - tuned baseline (picked on validation): {gap:+.4f} (target >= -0.02)", flush=True)


def other_splits(folder: Path, seeds: list[int], out: dict) -> None:
    """The sentiment defaults on the splits of ``seeds`` besides split 0: how much of a test score is the split."""
    from scipy import stats

    scores = [out["sentiment_defaults"]["test_macro_f1"]] if "sentiment_defaults" in out else []
    out["sentiment_other_splits"] = {}
    for seed in seeds:
        home = folder / f"sentiment_split{seed}"
        home.mkdir()
        row = run_tool(split_file(folder, seed), "label", home)
        out["sentiment_other_splits"][seed] = row
        scores.append(row["test_macro_f1"])
        print(f"sentiment  llm-tool defaults, split {seed}: test macro-F1 {row['test_macro_f1']:.4f} "
              f"(val {row['validation_macro_f1']:.4f}, lr {row['learning_rate']:g}, trained "
              f"{row['epochs_trained']:g} epochs, {row['wall_seconds']:.0f} s)", flush=True)
    mean = sum(scores) / len(scores)
    half = stats.t.ppf(0.975, len(scores) - 1) * stats.sem(scores) if len(scores) > 1 else float("nan")
    out["sentiment_splits_summary"] = {"scores": scores, "mean": round(mean, 4), "ci95_half_width": round(half, 4)}
    print(f"sentiment  defaults over {len(scores)} splits: mean test macro-F1 {mean:.4f} +/- {half:.4f} (95% CI)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-budgets", action="store_true")
    parser.add_argument("--fp32", action="store_true", help="also run the defaults in fp32 (bf16's cost in F1)")
    parser.add_argument("--tasks", default="sentiment,domain", help="which tasks' defaults to run")
    parser.add_argument("--baseline-tasks", default="sentiment,domain", help="which tasks' plain Trainer grid to run")
    parser.add_argument("--epochs", type=int, default=4, help="baseline epochs (each one evaluated)")
    parser.add_argument("--split-seeds", default="", help="e.g. 1,2: also run the sentiment defaults on other "
                                                          "stratified splits (mean and 95%% CI over all splits)")
    args = parser.parse_args()
    out: dict = {"model": MODEL}
    with tempfile.TemporaryDirectory(prefix="bench_defaults_") as folder:
        data = split_file(Path(folder))
        variants = [("defaults", ())] + ([("fp32", ("--set", "model_config.precision=fp32"))] if args.fp32 else [])
        for (label, task), (variant, extra) in itertools.product((("label", "sentiment"), ("source", "domain")),
                                                                variants):
            if task not in args.tasks.split(","):
                continue
            home = Path(folder) / f"{task}_{variant}"
            home.mkdir()
            out[f"{task}_{variant}"] = row = run_tool(data, label, home, *extra)
            print(f"{task:10} llm-tool {variant:9} test macro-F1 {row['test_macro_f1']:.4f}  "
                  f"wall {row['wall_seconds']:6.1f} s"
                  f"  (auto: lr {row['learning_rate']:g}, up to {row['epochs']} epochs, trained "
                  f"{row['epochs_trained']:g})", flush=True)
        if not args.skip_baseline:
            for label, task in (("label", "sentiment"), ("source", "domain")):
                if task in args.baseline_tasks.split(","):
                    baseline_grid(data, label, task, args.epochs, out)
        if "sentiment_defaults" in out:
            print(f"sentiment  defaults test macro-F1 {out['sentiment_defaults']['test_macro_f1']:.4f} "
                  "(target >= 0.93)")
        if args.split_seeds:
            other_splits(Path(folder), [int(seed) for seed in args.split_seeds.split(",")], out)
        if not args.skip_budgets:
            out["quick_budgets"] = []
            for minutes in (1, 2, 3):
                home = Path(folder) / f"quick{minutes}"
                home.mkdir()
                row = run_tool(data, "label", home, "--preset", "quick", "--time-budget", f"{minutes}m")
                row["budget_seconds"] = minutes * 60
                out["quick_budgets"].append(row)
                print(f"quick      budget {minutes * 60:4d} s  wall {row['wall_seconds']:6.1f} s  test macro-F1 "
                      f"{row['test_macro_f1']:.4f}  ({row['completion_reason'] or 'finished its epochs'})",
                      flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "defaults.json").write_text(json.dumps(out, indent=2))
    print(f"written {RESULTS / 'defaults.json'}")


if __name__ == "__main__":
    main()
