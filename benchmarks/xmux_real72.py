"""The xmux 72-job demo shape as real trainings (`bench_xmux_scale.py --real-72`): 3 tiny BERTs (hidden 32/64/128,
built from configs once), 4 learning rates x 3 batch sizes x model_config.optimizer adamw/sgd, grouped by model and
optimiser (18 windows of 4 panes), 2 at a time, a few dozen rows of the bundled sample, 1 epoch, in a private tmux
server. Measures total wall time, per-job slot time, scheduler overhead per job (slot time minus the job's own run,
and the time a slot stays free before the next job starts), `sweep status --json` and leaderboard time, control
refresh time and tmux server memory. Prints a table and writes benchmarks/results/xmux_real72.json."""

from __future__ import annotations

import csv
import heapq
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench_xmux_scale import ROOT, _timed, tmux_rss_mb

SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
HIDDEN_SIZES = (32, 64, 128)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3)
NAME = "real72"


def build_tiny_bert(folder: Path, hidden: int, rows: list[dict[str, str]]) -> Path:
    """A 2-layer BERT ``hidden`` wide with a word-level vocabulary of ``rows`` (random weights), as the tests'."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words: Counter[str] = Counter(w for r in rows for w in re.findall(r"\w+|[^\w\s]", r["text"].lower()))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(w for w, _ in words.most_common(2000))]
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=128)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(folder)
    return folder


def balanced_rows(n: int) -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    classes = sorted({r["label"] for r in rows})
    return [r for name in classes for r in [r for r in rows if r["label"] == name][:n // len(classes)]]


def prepare(home: Path, rows: int) -> tuple[Path, dict[str, str]]:
    """The base config (``rows`` sample rows, 1 epoch, 1 thread per job) and the three models (label -> folder)."""
    data = balanced_rows(rows)
    with (home / "reviews.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(data)
    models = {f"h{h}": str(build_tiny_bert(home / "tiny_models" / f"h{h}", h, data)) for h in HIDDEN_SIZES}
    base = {"dataset_config": {"primary_file": str(home / "reviews.csv"), "text_column": "text",
                               "label_column": "label", "strategy": "single-label"},
            "model_config": {"selected_model": models["h32"], "epochs": 1, "early_stopping": False,
                             "num_threads": 1, "training_mode": "quick"}}
    path = home / "base.json"
    path.write_text(json.dumps(base, indent=2), encoding="utf-8")
    return path, models


def slot_idle(jobs: list[Any], begun: float, parallel: int) -> list[float]:
    """Per job: how long a slot stood free before it started (slots freed at launch, then at each job's end)."""
    free = [begun] * parallel
    heapq.heapify(free)
    gaps = []
    for job in sorted(jobs, key=lambda j: j.started_ts):
        gaps.append(max(0.0, job.started_ts - heapq.heappop(free)))
        heapq.heappush(free, job.finished_ts)
    return gaps


def per_job(home: Path, begun: float, parallel: int) -> dict[str, Any]:
    """Slot times, own run times and overheads of the finished jobs (from the sweep state and their sessions)."""
    from llm_tool.sessions.store import SessionStore
    from llm_tool.sweeps.state import SweepStore

    jobs = [j for j in SweepStore(home).read(NAME).jobs if j.started_ts and j.finished_ts]
    store = SessionStore(home)
    metas = [store.read(Path(j.session_file)) for j in jobs]
    slots = [j.finished_ts - j.started_ts for j in jobs]
    own = [m.execution_status.duration_seconds or 0.0 for m in metas]
    overhead = [s - o for s, o in zip(slots, own, strict=True)]
    gaps = slot_idle(jobs, begun, parallel)

    def stats(values: list[float]) -> dict[str, float]:
        return {"mean": round(statistics.mean(values), 2), "median": round(statistics.median(values), 2)}

    return {"jobs_completed": sum(m.execution_status.status == "completed" for m in metas),
            "optimizers_recorded": dict(Counter(str(m.model_config.get("optimizer")) for m in metas)),
            "job_slot_seconds": stats(slots), "job_own_run_seconds": stats(own),
            "overhead_per_job_seconds": stats(overhead), "slot_idle_before_start_seconds": stats(gaps)}


def measure(home: Path, socket: str, rows: int, timeout: float, limit: int | None) -> dict[str, Any]:
    from xmux_demo import jobs_for

    from llm_tool.api import launch_sweep
    from llm_tool.sweeps_ui.control import ControlApp, render_lines

    base, models = prepare(home, rows)
    jobs = jobs_for("large", models, learning_rates=LEARNING_RATES)[:limit]
    begun, start = time.time(), time.perf_counter()
    sweep = launch_sweep(jobs, base=base, name=NAME, max_parallel=2, max_panes_per_window=4, group_by=None)
    launch_s = time.perf_counter() - start
    sweep.wait(timeout=timeout, poll=1.0)
    total_s = time.perf_counter() - start
    status = sweep.status()
    app = ControlApp(NAME, home=home, socket=socket)
    result = {
        "jobs": len(jobs), "windows": len({j["window"] for j in status["jobs"]}), "max_parallel": 2,
        "rows": rows, "epochs": 1, "launch_seconds": round(launch_s, 2), "total_wall_seconds": round(total_s, 1),
        **per_job(home, begun, 2),
        "status_json_seconds": round(_timed(sweep.status, 3), 3),
        "leaderboard_seconds": round(_timed(sweep.leaderboard, 3), 3),
        "control_refresh_seconds": round(_timed(lambda: (app.refresh(), render_lines(NAME, app.state, app.list)), 3),
                                         3),
        "tmux_server_rss_mb": tmux_rss_mb(socket),
        "leaderboard_rows": len(status["leaderboard"]),
        "best": {k: v for k, v in (status["leaderboard"] or [{}])[0].items() if k in ("title", "mean", "split")},
    }
    sweep.kill(grace=5)
    return result


def run_real_72(rows: int, timeout: float, limit: int | None = None) -> None:
    """The measurement in a temporary home and tmux server; ``limit``: only the first jobs (a quick check)."""
    socket = f"llmtool-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="xmux_real72_") as folder:
        home = Path(folder)
        os.environ.update(LLM_TOOL_HOME=str(home), LLM_TOOL_TMUX_SOCKET=socket, LLM_TOOL_NON_INTERACTIVE="1",
                          HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        try:
            result = measure(home, socket, rows, timeout, limit)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    out = {"machine": f"{platform.node()} ({os.cpu_count()} CPUs, shared)", "python": platform.python_version(),
           "real_72": result}
    for key, value in result.items():
        print(f"{key:32} {value}")
    path = ROOT / "benchmarks" / "results" / ("xmux_real72.json" if limit is None else "xmux_real72_check.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"written: {path}")
