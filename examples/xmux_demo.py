"""xmux's four layouts with the Python API: one window per job, grouped, mixed, and the large grid (3 models x 4
learning rates x 3 batch sizes x 2 optimisers = 72 jobs, grouped by model and optimiser: 18 windows of 4 panes).

The jobs run `xmux_demo_job:train` (your own function in its place) through the tool's supervisor, panes and
control window; `--dry-run` prints the layout and starts nothing.

    python examples/xmux_demo.py grouped --dry-run
    python examples/xmux_demo.py large --max-parallel 8     # then: llm-tool sweep attach xmux-large
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "quickstart.json"  # the jobs' folder (where xmux_demo_job.py is found) and base config
FUNCTION = "xmux_demo_job:train"
MODELS = ("bert-base", "roberta-base", "deberta-v3")
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4)
BATCH_SIZES = (8, 16, 32)
OPTIMISERS = ("adamw", "sgd")


def jobs_for(mode: str, seconds: float = 1.0) -> list:
    """The jobs of one layout: per-job (a window each), grouped (by model and optimiser), mixed, large (72)."""
    from llm_tool.api import Job

    def job(model: str, lr: float, bs: int, opt: str, window: str | None) -> Job:
        config = {"model": model, "lr": lr, "batch_size": bs, "optimiser": opt, "seconds": seconds}
        return Job(config, window=window, title=f"{model}-lr{lr:g}-bs{bs}-{opt}", function=FUNCTION)

    if mode == "per-job":
        return [job(m, lr, 16, "adamw", window=f"{m}-lr{lr:g}") for m in MODELS[:2] for lr in LEARNING_RATES[:2]]
    if mode == "grouped":
        return [job(m, lr, 16, opt, window=f"{m}-{opt}") for m in MODELS[:2] for opt in OPTIMISERS
                for lr in LEARNING_RATES[:2]]
    if mode == "mixed":
        grouped = [job(MODELS[0], lr, 16, "adamw", window=f"{MODELS[0]}-adamw") for lr in LEARNING_RATES]
        return [*grouped, job(MODELS[1], 3e-5, 32, "sgd", window="alone")]
    if mode == "large":
        return [job(m, lr, bs, opt, window=f"{m}-{opt}")
                for m, opt, lr, bs in itertools.product(MODELS, OPTIMISERS, LEARNING_RATES, BATCH_SIZES)]
    raise SystemExit(f"unknown mode {mode!r}: per-job, grouped, mixed or large")


def print_layout(layout) -> None:
    windows: dict[str, list[str]] = {}
    for row in layout.itertuples():
        windows.setdefault(row.window, []).append(row.title)
    print(f"{len(layout)} jobs in {len(windows)} windows (window 0: control + scheduler)")
    for number, (window, titles) in enumerate(windows.items(), start=1):
        print(f"  {number:>3}  {window:<24} {len(titles)} panes: {', '.join(titles)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("per-job", "grouped", "mixed", "large"))
    parser.add_argument("--dry-run", action="store_true", help="print the layout; start nothing")
    parser.add_argument("--max-parallel", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0, help="how long each stand-in job runs")
    args = parser.parse_args()
    from llm_tool.api import launch_sweep

    sweep = launch_sweep(jobs_for(args.mode, args.seconds), base=BASE, name=f"xmux-{args.mode}",
                         max_parallel=args.max_parallel, max_panes_per_window=4, group_by=None, dry_run=args.dry_run)
    print_layout(sweep.layout())
    if not args.dry_run:
        print(f"started: `llm-tool sweep attach {sweep.name}` to watch, `llm-tool sweep status {sweep.name}`")


if __name__ == "__main__":
    main()
