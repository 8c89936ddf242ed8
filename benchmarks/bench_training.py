"""Training throughput on the bundled sample: (a) llm-tool's engine, (b) a naive pipeline padding every text to
128 tokens, (c) a plain transformers Trainer with dynamic padding that validates and checkpoints each epoch and
reloads the best (as the engine does), (d) the same Trainer evaluated once on the test rows after training (the
usual short script: its train() holds no evaluation or saving, so its samples/s is higher). Same data, split, model,
batch size and epochs. The ratios compare the engine with the faster of (c) and (d).

Each pipeline runs in its own process (so peak memory is its own). Prints a table and writes
benchmarks/results/training_throughput.json.

    python benchmarks/bench_training.py [--epochs 1] [--rows 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"
MODEL = "all-MiniLM-L6-v2"
BATCH, LR, SEED = 16, 5e-5, 42


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_engine(epochs: int, rows: int, precision: str = "auto", attention: str = "auto") -> dict:
    """(a) the real engine: a session created and trained exactly as `llm-tool train` does."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session
    from llm_tool.training.engine import run_session

    home = Path(tempfile.mkdtemp(prefix="bench_engine_"))
    os.environ["LLM_TOOL_HOME"] = str(home)
    data = _subset(rows, home)
    raw = {"dataset_config": {"primary_file": str(data)},
           "model_config": {"selected_model": MODEL, "epochs": epochs, "batch_size": BATCH, "learning_rate": LR,
                            "seed": SEED, "early_stopping": False, "precision": precision,
                            "attention": attention}}
    store = SessionStore(home)
    path, _ = create_session(store, raw, base_dir=home)
    outcome = run_session(store, path)
    metrics = outcome.metrics or {}
    env = store.read(path).environment
    return {"precision": env.precision, "attention": env.attention,
            "train_samples_per_second": metrics["train_samples_per_second"],
            "train_runtime_seconds": metrics["train_runtime_seconds"],
            "test_macro_f1": metrics["test"]["macro_f1"]}


def _subset(rows: int, folder: Path) -> Path:
    if not rows:
        return SAMPLE
    import csv

    with SAMPLE.open(encoding="utf-8") as handle:
        data = list(csv.DictReader(handle))[:rows]
    out = folder / "subset.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return out


def run_baseline(kind: str, epochs: int, rows: int) -> dict:
    """(b) naive: pad to 128; (c) plain Trainer, dynamic padding, random batches. Same split as the engine."""
    import datasets
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )
    from transformers.utils import logging as hf_logging

    from llm_tool.catalog.resolve import resolve_model
    from llm_tool.config import parse_config
    from llm_tool.data.prepare import prepare
    from llm_tool.results.metrics import summary_metrics
    from llm_tool.training.features import encode_labels

    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    work = Path(tempfile.mkdtemp(prefix=f"bench_{kind}_"))
    config = parse_config({"dataset_config": {"primary_file": str(_subset(rows, work))}})
    data = prepare(config.dataset, work, seed=SEED)
    path = resolve_model(MODEL)
    tokenizer = AutoTokenizer.from_pretrained(path)

    def encode(split):
        ds = datasets.Dataset.from_dict({"text": split.texts,
                                         "labels": encode_labels(split.labels, data.label_names, False)})
        if kind == "naive":
            fn = lambda b: tokenizer(b["text"], truncation=True, max_length=128, padding="max_length")  # noqa: E731
        else:
            fn = lambda b: tokenizer(b["text"], truncation=True, max_length=128)  # noqa: E731
        return ds.map(fn, batched=True, remove_columns=["text"])

    train, validation, test = (encode(data.splits[n]) for n in ("train", "validation", "test"))
    set_seed(SEED)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(data.label_names))
    per_epoch = kind != "plain-once"  # plain-once: no validation or checkpoint inside train(), one test at the end
    args = TrainingArguments(output_dir=str(work / "out"), num_train_epochs=epochs, per_device_train_batch_size=BATCH,
                             per_device_eval_batch_size=BATCH * 2, learning_rate=LR, warmup_steps=0.1,
                             weight_decay=0.01, eval_strategy="epoch" if per_epoch else "no",
                             save_strategy="epoch" if per_epoch else "no",
                             load_best_model_at_end=per_epoch, metric_for_best_model="macro_f1", seed=SEED,
                             report_to="none", disable_tqdm=True, use_cpu=True, logging_steps=50)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=validation,
                      processing_class=tokenizer,
                      data_collator=None if kind == "naive" else DataCollatorWithPadding(tokenizer),
                      compute_metrics=lambda p: summary_metrics(p.predictions, p.label_ids, False))
    result = trainer.train()
    test_metrics = trainer.evaluate(test, metric_key_prefix="test")
    return {"train_samples_per_second": result.metrics["train_samples_per_second"],
            "train_runtime_seconds": result.metrics["train_runtime"],
            "test_macro_f1": test_metrics["test_macro_f1"]}


ENGINES = {  # kind: (label, precision, attention)
    "engine-fp32": ("(a) llm-tool, fp32", "fp32", "auto"),
    "engine-bf16-sdpa": ("(a) llm-tool, bf16, sdpa", "bf16", "sdpa"),
    "engine-auto": ("(a) llm-tool, defaults", "auto", "auto"),
}
BASELINES = {"naive": "(b) naive, pad to 128", "plain": "(c) plain Trainer, dynamic",
             "plain-once": "(d) plain Trainer, tested once"}


def child(kind: str, epochs: int, rows: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    if kind.startswith("engine"):
        result = run_engine(epochs, rows, *ENGINES[kind][1:])
    else:
        result = run_baseline(kind, epochs, rows)
    result["wall_seconds"] = round(time.perf_counter() - start, 2)
    result["peak_rss_mib"] = round(_peak_mib(), 1)
    print("RESULT " + json.dumps(result), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rows", type=int, default=0, help="use only the first N rows (0 = all 3,000)")
    parser.add_argument("--naive", action="store_true", help="also run (b), padding to 128 (slow: ~5 min)")
    parser.add_argument("--child", choices=(*ENGINES, *BASELINES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.rows)
        return 0
    import torch

    labels = {**{k: v[0] for k, v in ENGINES.items()}, **BASELINES}
    kinds = [*ENGINES, *(["naive"] if args.naive else []), "plain", "plain-once"]
    results = {}
    for kind in kinds:
        started = time.perf_counter()  # the whole process: interpreter, imports, data, training, evaluation
        proc = subprocess.run([sys.executable, __file__, "--child", kind, "--epochs", str(args.epochs),
                               "--rows", str(args.rows)], capture_output=True, text=True, cwd=ROOT)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(proc.stdout[-2000:], proc.stderr[-4000:])
            return 1
        results[kind] = {**json.loads(line[7:]), "process_seconds": round(time.perf_counter() - started, 2)}
        print(f"{labels[kind]}: {results[kind]}", flush=True)
    summary = _summary(results, args, torch)
    _print_table(results, labels, summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training_throughput.json").write_text(json.dumps(summary, indent=2))
    return 0


def _summary(results: dict, args: argparse.Namespace, torch: object) -> dict:
    speed = "train_samples_per_second"
    fp32, auto = results["engine-fp32"], results["engine-auto"]
    plain = max(results["plain"], results["plain-once"], key=lambda r: r[speed])  # the faster plain script
    return {
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads()},
        "model": MODEL, "epochs": args.epochs, "batch_size": BATCH, "rows": args.rows or 3000, "results": results,
        "samples_per_s_defaults_vs_plain": round(auto[speed] / plain[speed], 2),
        "samples_per_s_bf16_vs_fp32": round(auto[speed] / fp32[speed], 2),
        "test_f1_defaults_minus_fp32": round(auto["test_macro_f1"] - fp32["test_macro_f1"], 4),
        "process_time_defaults_over_plain": round(auto["process_seconds"] / plain["process_seconds"], 2),
        "plain_compared": "(d)" if plain is results["plain-once"] else "(c)",
    }


def _print_table(results: dict, labels: dict, summary: dict) -> None:
    print()
    print(f"{'pipeline':30} {'samples/s':>10} {'train s':>8} {'process s':>10} {'peak MiB':>9} {'test F1':>8}")
    for kind, r in results.items():
        print(f"{labels[kind]:30} {r['train_samples_per_second']:>10.1f} {r['train_runtime_seconds']:>8.1f} "
              f"{r['process_seconds']:>10.1f} {r['peak_rss_mib']:>9.0f} {r['test_macro_f1']:>8.4f}")
    print(f"defaults: {summary['samples_per_s_defaults_vs_plain']}x the faster plain Trainer's "
          f"{summary['plain_compared']} samples/s, "
          f"{summary['samples_per_s_bf16_vs_fp32']}x fp32, test F1 {summary['test_f1_defaults_minus_fp32']:+.4f} "
          f"vs fp32; whole process {summary['process_time_defaults_over_plain']}x the plain script's time")


if __name__ == "__main__":
    raise SystemExit(main())
