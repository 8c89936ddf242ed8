"""Attack run, round 3 (issue 21): every case the third hardening round names, as real `llm-tool` processes.

Uses attack_run.py's machinery (a fresh temp home per case, files written/deleted outside the session folders,
tracebacks, "unexpected" exit-1 errors) and adds two counts: commands run (a case's payload creates a file named
``PWNED*`` anywhere under the case's temp folder or /tmp/llm-tool-attack-pwned/) and hangs (a case still running
after its timeout, 20 s unless it says otherwise). The cases live in ``attack_r3_*.py`` beside this file, one
module per section of the issue; each registers cases with ``@r3_case(section)``.

    python benchmarks/attack_round3.py [--only SUBSTRING] [--jobs 1]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import attack_run  # noqa: E402
from attack_run import Case, Ctx  # noqa: E402

sys.modules.setdefault("attack_round3", sys.modules[__name__])  # run as a script: the sections register here
PWNED_DIR = Path("/tmp/llm-tool-attack-pwned")  # a payload that escapes the case folder writes here
HANG_SECONDS = 20.0
SECTION_MODULES = ("attack_r3_slurm", "attack_r3_outputs", "attack_r3_files", "attack_r3_cache",
                   "attack_r3_data", "attack_r3_ux")
CASES: list[Case] = []
SETUP: list[Callable[[], Any]] = []  # called once before the cases run (e.g. start the private Slurm cluster)
TEARDOWN: list[Callable[[], Any]] = []


def r3_case(section: str, expect: tuple[int, ...] = (2,), **kw: Any) -> Callable[[Callable[[Ctx], list[str]]], Any]:
    """Register ``case_x(ctx) -> llm-tool arguments`` under ``section`` (1-slurm, 2-outputs, ...)."""
    kw.setdefault("timeout", HANG_SECONDS)

    def register(fn: Callable[[Ctx], list[str]]) -> Callable[[Ctx], list[str]]:
        CASES.append(Case(fn.__name__.removeprefix("case_"), section, fn, expect, **kw))
        return fn
    return register


def _pwned(result: dict[str, Any]) -> bool:
    return any(Path(p).name.startswith("PWNED") for p in result["written_outside"])


def _load_sections() -> None:
    for name in SECTION_MODULES:
        if (HERE / f"{name}.py").exists():
            importlib.import_module(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name or section contains this")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "attack_round3.json")
    args = parser.parse_args()
    _load_sections()
    cases = [c for c in CASES if not args.only or args.only in c.name or args.only in c.klass]
    shutil.rmtree(PWNED_DIR, ignore_errors=True)
    for setup in SETUP:
        setup()
    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(attack_run.run_case, cases))
    finally:
        for teardown in TEARDOWN:
            teardown()
    escaped = sorted(str(p) for p in PWNED_DIR.glob("*")) if PWNED_DIR.exists() else []
    print(f"{'case':40} {'section':11} {'rc':>4} {'s':>5} {'tb':>3} {'unx':>4} {'out':>4} {'cmd':>4}  first error")
    for r in results:
        flag = "" if r["ok_rc"] else f" (expected {r['expected']})"
        print(f"{r['case'][:40]:40} {r['class'][:11]:11} {r['rc']:>4} {r['seconds']:>5.1f} {int(r['traceback']):>3} "
              f"{int(r['unexpected']):>4} {len(r['written_outside']) + len(r['deleted_outside']):>4} "
              f"{int(_pwned(r)):>4}  {r['first_error'][:60]}{flag}")
    totals = {"cases": len(results),
              "commands_run": sum(_pwned(r) for r in results) + len(escaped),
              "files_written_or_emptied_outside": sum(len(r["written_outside"]) for r in results),
              "files_deleted_outside": sum(len(r["deleted_outside"]) for r in results),
              "hangs_over_20s": sum(r["rc"] == -9 for r in results),
              "unexpected_exit1": sum(r["unexpected"] or r["rc"] == 1 for r in results),
              "tracebacks": sum(r["traceback"] for r in results),
              "wrong_exit_code": sum(not r["ok_rc"] for r in results),
              "sessions_left_running": sum(r["left_running"] for r in results)}
    print(json.dumps(totals, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"totals": totals, "escaped_payloads": escaped, "results": results},
                                      indent=2) + "\n")
    print(f"written: {args.output}")
    return 1 if any(v for k, v in totals.items() if k != "cases") else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
