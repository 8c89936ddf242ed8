"""Inference speed: (1) `llm-tool infer` on a handful of texts, whole process: the first call (which makes the model's
ONNX copy in the background: it runs through torch in fp32 meanwhile) and the median of N later ones, with each
backend; (2) throughput on a 10,000-row file: llm-tool's
Predictor (tokenized once, batched by length) through ONNX Runtime (the CPU default) and through torch (fp32, and bf16
where native) against a plain `transformers.pipeline("text-classification")` with the same model, side by side.
Predicted labels are compared too. Prints a table and writes benchmarks/results/inference.json.

    python benchmarks/bench_infer.py MODEL_DIR [--rows 10000] [--runs 3]

MODEL_DIR: a trained model folder (models/<session_id>), e.g. from `llm-tool train` on the bundled sample.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"
HANDFUL = ["Great battery life", "Awful service", "The plot was thin but the actors were superb",
           "Would not recommend this phone to anyone", "Tasty food, friendly staff", "It broke after two days"]


def texts(rows: int) -> list[str]:
    with SAMPLE.open(encoding="utf-8") as handle:
        pool = [row["text"] for row in csv.DictReader(handle)]
    return [pool[i % len(pool)] + ("" if i < len(pool) else f" ({i // len(pool)})") for i in range(rows)]


def handful_seconds(model_dir: Path, runs: int, backend: str, cache: Path) -> tuple[float, float]:
    """(first call, median of the ``runs`` later calls) of `llm-tool infer` on HANDFUL, in a fresh cache."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LLM_TOOL_CACHE": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm bytecode cache, as on a user's machine
    argv = [sys.executable, "-m", "llm_tool", "infer", "--model-dir", str(model_dir), "--backend", backend]
    for text in HANDFUL:
        argv += ["--text", text]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
        wait_for_background_copy(cache)  # the first call starts it: time the later calls without it running
    return times[0], statistics.median(times[1:])


def wait_for_background_copy(cache: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while list((cache / "onnx").glob("*.building")) and time.monotonic() < deadline:
        time.sleep(0.5)


def file_seconds(model_dir: Path, data: list[str], backend: str, folder: Path) -> float:
    """`llm-tool infer --input FILE --output FILE` on ``data``, whole process (the ONNX copy already made)."""
    source, target = folder / "texts.csv", folder / f"predicted_{backend}.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([text] for text in data)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = [sys.executable, "-m", "llm_tool", "infer", "--model-dir", str(model_dir), "--backend", backend,
            "--input", str(source), "--output", str(target)]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return time.perf_counter() - start


def ours(model_dir: Path, data: list[str], precision: str, backend: str) -> tuple[float, list[str]]:
    from llm_tool.training.inference import Predictor

    predictor = Predictor(model_dir, precision=precision, backend=backend)
    runner = predictor.open(len(data))  # the backend `auto` picks for this many texts (not for the warm-up's 64)
    print(f"--backend {backend}, precision {precision}, {len(data):,} texts: runs on {runner.name}"
          f"{' (bf16)' if getattr(runner, 'bf16', False) else ''}", flush=True)
    predictor.predict(data[:64])  # warm up
    start = time.perf_counter()
    predictions = predictor.predict(data)
    return len(data) / (time.perf_counter() - start), [p.labels[0] for p in predictions]


def plain_pipeline(model_dir: Path, data: list[str], batch_size: int) -> tuple[float, list[str]]:
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(model_dir), tokenizer=str(model_dir), device="cpu")
    classify(data[:64], batch_size=batch_size, truncation=True)
    start = time.perf_counter()
    out = classify(data, batch_size=batch_size, truncation=True)
    return len(data) / (time.perf_counter() - start), [row["label"] for row in out]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    data = texts(args.rows)
    import tempfile

    results: dict = {"handful_texts": len(HANDFUL), "handful_seconds": {}}
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LLM_TOOL_CACHE"] = cache
        for backend in ("auto", "torch"):
            first, later = handful_seconds(args.model_dir, args.runs, backend, Path(cache))
            results["handful_seconds"][backend] = {"first": round(first, 2), "later_median": round(later, 2)}
        results["file_seconds"] = {backend: round(file_seconds(args.model_dir, data, backend, Path(cache)), 1)
                                   for backend in ("auto", "onnx", "torch")}
        runs = {"llm-tool defaults (auto)": ours(args.model_dir, data, "auto", "auto"),
                "llm-tool ONNX Runtime, fp32": ours(args.model_dir, data, "auto", "onnx"),
                "llm-tool torch, fp32": ours(args.model_dir, data, "fp32", "torch"),
                "llm-tool torch, bf16 where native": ours(args.model_dir, data, "auto", "torch"),
                "pipeline, batch 32": plain_pipeline(args.model_dir, data, 32),
                "pipeline, batch 1 (default)": plain_pipeline(args.model_dir, data[:1000], 1)}
    reference = runs["pipeline, batch 32"][1]
    results["throughput"] = {name: {"texts_per_s": round(speed, 1), "rows": len(labels),
                                    "same_label_as_pipeline": round(sum(a == b for a, b in zip(labels, reference,
                                                                                               strict=False))
                                                                    / len(labels), 4)}
                             for name, (speed, labels) in runs.items()}
    best_plain = max(runs["pipeline, batch 32"][0], runs["pipeline, batch 1 (default)"][0])
    results["defaults_vs_best_pipeline"] = round(runs["llm-tool defaults (auto)"][0] / best_plain, 2)
    for backend, row in results["handful_seconds"].items():
        print(f"`llm-tool infer --backend {backend}` on {len(HANDFUL)} texts (whole process): first call "
              f"{row['first']:.2f} s, later calls {row['later_median']:.2f} s (median of {args.runs})")
    print(f"`llm-tool infer --input` a {len(data):,}-row file, whole process: "
          + ", ".join(f"--backend {b} {t:.1f} s" for b, t in results["file_seconds"].items()))
    print(f"{'predictor':38} {'texts/s':>9} {'rows':>7} {'same label as pipeline':>23}")
    for name, row in results["throughput"].items():
        print(f"{name:38} {row['texts_per_s']:>9.1f} {row['rows']:>7} {row['same_label_as_pipeline']:>23.4f}")
    print(f"llm-tool defaults: {results['defaults_vs_best_pipeline']}x the best plain pipeline")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inference.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
