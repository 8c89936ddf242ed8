"""Long documents: truncate vs head_tail vs chunks on IMDb reviews (999 rows, read from ../shared/data; median 231
tokens, 89% over 128) with the bundled MiniLM at max_length 128. Same split, seed, epochs and settings; test metrics
per review (support = number of reviews). Then `infer` on one 20,000-token text with the chunks model: its time
against the forward passes of its windows alone. Prints a table and writes
benchmarks/results/long_text_<strategies>.json.

    python benchmarks/bench_long_text.py [--epochs 1] [--data PATH] [--strategies truncate,head_tail,chunks]
        [--epochs-for truncate=3,head_tail=3]   # equal steps: chunks' windows are ~3.3x the reviews

``--epochs-for`` gives some strategies their own epochs, so all of them can take about the same number of
optimizer steps (the table prints each one's steps): chunks trains on every window of a review, so at equal epochs
it also takes 3.3x the steps of truncate and head_tail.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared").is_dir()),
              ROOT.parent / "shared")  # ../shared beside the repository (or beside the worktrees' folder)
DATA = SHARED / "data" / "imdb_reviews_sample" / "imdb_reviews_999.csv"
RESULTS = ROOT / "benchmarks" / "results"
MODEL, MAX_LENGTH, BATCH, LR, SEED = "all-MiniLM-L6-v2", 128, 16, 5e-5, 42
STRATEGIES = ("truncate", "head_tail", "chunks")


def train(strategy: str, data: Path, epochs: int, home: Path) -> dict[str, Any]:
    """A session created and trained exactly as `llm-tool train` does, with ``long_text: strategy``."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session
    from llm_tool.training.engine import run_session

    store = SessionStore(home)
    raw = {"dataset_config": {"primary_file": str(data), "text_column": "review", "label_column": "sentiment"},
           "model_config": {"selected_model": MODEL, "epochs": epochs, "batch_size": BATCH, "learning_rate": LR,
                            "seed": SEED, "early_stopping": False, "max_length": MAX_LENGTH, "long_text": strategy}}
    path, _ = create_session(store, raw, base_dir=home)
    started = time.monotonic()
    outcome = run_session(store, path)
    wall = time.monotonic() - started
    meta = store.read(path)
    metrics, windows = outcome.metrics or {}, meta.model_config.get("windows") or {}
    return {"strategy": strategy, "test_macro_f1": metrics["test"]["macro_f1"],
            "test_accuracy": metrics["test"]["accuracy"], "test_texts": metrics["test"]["num_samples"],
            "validation_macro_f1": metrics["validation"]["macro_f1"], "wall_seconds": round(wall, 1),
            "train_runtime_seconds": metrics["train_runtime_seconds"],
            "train_rows_per_epoch": windows.get("windows", meta.dataset_config["split_sizes"]["train"]),
            "long_text_reason": meta.model_config.get("long_text_reason"), "epochs": epochs,
            "windows": windows or None, "model_dir": str(outcome.model_dir)} | {
            "optimizer_steps": epochs * -(-int(windows.get("windows", meta.dataset_config["split_sizes"]["train"]))
                                          // BATCH)}


def long_infer(model_dir: Path, data: Path, tokens: int = 20_000) -> dict[str, Any]:
    """One text of ``tokens`` tokens (reviews joined) through Predictor.predict, against its windows' forward
    passes alone (same runner, same batches): the overhead of tokenizing, windowing and averaging."""
    import csv

    from llm_tool.training.inference import Predictor
    from llm_tool.training.long_text import encode

    with data.open(encoding="utf-8") as handle:
        reviews = [row["review"] for row in csv.DictReader(handle)]
    predictor = Predictor(model_dir, backend="torch")
    runner = predictor.open(1)
    text, i = "", 0
    while len(runner.encode_full([text])[0][0]) < tokens:
        text += " " + reviews[i % len(reviews)]
        i += 1
    predictor.predict(["warm-up text"])
    started = time.perf_counter()
    prediction = predictor.predict([text])[0]
    infer_seconds = time.perf_counter() - started
    full, masks = runner.encode_full([text])
    rows = encode(full, masks, predictor.max_length, predictor.long_text)
    started = time.perf_counter()
    predictor._run_rows(runner, rows.ids)
    forward_seconds = time.perf_counter() - started
    return {"tokens": len(full[0]), "windows": len(rows.ids), "infer_seconds": round(infer_seconds, 3),
            "forward_seconds": round(forward_seconds, 3), "ratio": round(infer_seconds / forward_seconds, 2),
            "predicted": prediction.labels, "backend": runner.name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated (default: all three)")
    parser.add_argument("--epochs-for", default="", help="STRATEGY=EPOCHS,... (others: --epochs)")
    args = parser.parse_args()
    epochs_for = {k: int(v) for k, v in (item.split("=") for item in args.epochs_for.split(",") if item)}
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = Path(tempfile.mkdtemp(prefix="bench_long_text_"))
    os.environ["LLM_TOOL_HOME"] = str(home)
    results = [train(strategy, args.data, epochs_for.get(strategy, args.epochs), home)
               for strategy in args.strategies.split(",")]
    chunks = next((r for r in results if r["strategy"] == "chunks"), None)
    infer = long_infer(Path(chunks["model_dir"]), args.data) if chunks else {}
    print(f"IMDb {args.data.name}, {MODEL}, max_length {MAX_LENGTH}, {args.epochs} epochs, batch {BATCH}, "
          f"{os.cpu_count()} CPUs (shared)")
    print(f"{'strategy':<10} {'test macro-F1':>13} {'accuracy':>9} {'texts':>6} {'train rows/epoch':>17} "
          f"{'epochs':>6} {'steps':>6} {'wall s':>8}")
    for r in results:
        print(f"{r['strategy']:<10} {r['test_macro_f1']:>13.4f} {r['test_accuracy']:>9.4f} {r['test_texts']:>6} "
              f"{r['train_rows_per_epoch']:>17} {r['epochs']:>6} {r['optimizer_steps']:>6} {r['wall_seconds']:>8.1f}")
    if infer:
        print(f"infer on {infer['tokens']} tokens: {infer['windows']} windows, {infer['infer_seconds']} s against "
              f"{infer['forward_seconds']} s of forward passes ({infer['ratio']}x, {infer['backend']})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"data": args.data.name, "model": MODEL, "max_length": MAX_LENGTH, "epochs": args.epochs,
           "cpus": os.cpu_count(), "strategies": results, "long_infer": infer}
    name = "_".join(f"{s}{epochs_for[s]}ep" if s in epochs_for else s for s in args.strategies.split(","))
    (RESULTS / f"long_text_{name}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
