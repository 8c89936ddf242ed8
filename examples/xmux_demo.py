"""xmux's four layouts with the Python API: one window per job, grouped, mixed, and the large grid (3 models x 4
learning rates x 3 batch sizes x 2 optimisers = 72 jobs, grouped by model and optimiser: 18 windows of 4 panes).

The jobs are trainings of the base config (`quickstart.json`: the bundled sample) with the real settings:
`model_config.selected_model`, `learning_rate`, `batch_size` and `optimizer` (adamw or sgd). `--model LABEL=ID`
(repeatable) picks the models (default: three Hugging Face models, which need internet once); `--stand-in S` runs
your own function instead (`xmux_demo_job:train`, S seconds each) through the same supervisor, panes and control
window; `--dry-run` prints the layout and starts nothing.

    python examples/xmux_demo.py large --dry-run
    python examples/xmux_demo.py grouped --max-parallel 2 --model minilm=all-MiniLM-L6-v2   # the bundled model
    python examples/xmux_demo.py large --stand-in 1 --max-parallel 8     # then: llm-tool sweep attach xmux-large
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "quickstart.json"  # the jobs' folder (where xmux_demo_job.py is found) and base config
FUNCTION = "xmux_demo_job:train"
MODELS = {"bert-base": "google-bert/bert-base-uncased", "roberta-base": "FacebookAI/roberta-base",
          "deberta-v3": "microsoft/deberta-v3-base"}  # window label -> model id or folder
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4)
BATCH_SIZES = (8, 16, 32)
OPTIMISERS = ("adamw", "sgd")  # model_config.optimizer


def jobs_for(mode: str, models: Mapping[str, str] | None = None, *, stand_in: float | None = None,
             learning_rates: tuple[float, ...] = LEARNING_RATES) -> list:
    """The jobs of one layout: per-job (a window each), grouped (by model and optimiser), mixed, large (72).
    ``models``: window label -> model id or folder; ``stand_in``: seconds of a function job instead of a training."""
    from llm_tool.api import Job

    models = dict(models or MODELS)
    labels = list(models)
    lrs = learning_rates

    def job(label: str, lr: float, bs: int, opt: str, window: str | None) -> Job:
        title = f"{label}-lr{lr:g}-bs{bs}-{opt}"
        settings = {"model_config.selected_model": models[label], "model_config.learning_rate": lr,
                    "model_config.batch_size": bs, "model_config.optimizer": opt}
        if stand_in is None:
            return Job(settings, window=window, title=title)
        config = {"model": models[label], "lr": lr, "batch_size": bs, "optimiser": opt, "seconds": stand_in}
        return Job(config, window=window, title=title, function=FUNCTION)

    if mode == "per-job":
        return [job(m, lr, 16, "adamw", window=f"{m}-lr{lr:g}") for m in labels[:2] for lr in lrs[:2]]
    if mode == "grouped":
        return [job(m, lr, 16, opt, window=f"{m}-{opt}") for m in labels[:2] for opt in OPTIMISERS
                for lr in lrs[:2]]
    if mode == "mixed":
        grouped = [job(labels[0], lr, 16, "adamw", window=f"{labels[0]}-adamw") for lr in lrs]
        return [*grouped, job(labels[-1], lrs[1], 32, "sgd", window="alone")]
    if mode == "large":
        return [job(m, lr, bs, opt, window=f"{m}-{opt}")
                for m, opt, lr, bs in itertools.product(labels, OPTIMISERS, lrs, BATCH_SIZES)]
    raise SystemExit(f"unknown mode {mode!r}: per-job, grouped, mixed or large")


def print_layout(layout) -> None:
    windows: dict[str, list[str]] = {}
    for row in layout.itertuples():
        windows.setdefault(row.window, []).append(row.title)
    print(f"{len(layout)} jobs in {len(windows)} windows (window 0: control + scheduler)")
    for number, (window, titles) in enumerate(windows.items(), start=1):
        print(f"  {number:>3}  {window:<24} {len(titles)} panes: {', '.join(titles)}")


def _models(given: list[str] | None) -> dict[str, str]:
    if not given:
        return dict(MODELS)
    pairs = [text.partition("=") for text in given]
    if any(not label or not sep or not model for label, sep, model in pairs):
        raise SystemExit("--model takes LABEL=MODEL, e.g. minilm=all-MiniLM-L6-v2")
    return {label: model for label, _, model in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("per-job", "grouped", "mixed", "large"))
    parser.add_argument("--dry-run", action="store_true", help="print the layout; start nothing")
    parser.add_argument("--max-parallel", type=int, default=4)
    parser.add_argument("--model", action="append", metavar="LABEL=MODEL", help="a model (repeatable)")
    parser.add_argument("--stand-in", type=float, metavar="SECONDS",
                        help="run the stand-in function job (xmux_demo_job.py) instead of trainings")
    args = parser.parse_args()
    from llm_tool.api import launch_sweep

    sweep = launch_sweep(jobs_for(args.mode, _models(args.model), stand_in=args.stand_in), base=BASE,
                         name=f"xmux-{args.mode}", max_parallel=args.max_parallel, max_panes_per_window=4,
                         group_by=None, dry_run=args.dry_run)
    print_layout(sweep.layout())
    if not args.dry_run:
        print(f"started: `llm-tool sweep attach {sweep.name}` to watch, `llm-tool sweep status {sweep.name}`")


if __name__ == "__main__":
    main()
