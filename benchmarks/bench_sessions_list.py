"""Listing the 20 most recent of 10,000 training sessions: `llm-tool sessions list` as a subprocess (median of N
runs) and `list_rows(limit=20)` in-process; checks that only the listed files are parsed (the newest are found by
sorting file names). Prints a table and writes benchmarks/results/sessions_list.json. Target: under 1 s.

    python benchmarks/bench_sessions_list.py [--sessions 10000] [--runs 5] [--template SESSION.json] [--strict]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llm_tool.sessions.store import SessionStore  # noqa: E402
from llm_tool.sessions.summaries import list_rows  # noqa: E402

TEMPLATE = ROOT / "benchmarks" / "data" / "completed_session.json"  # a real completed run of `llm-tool train`
TARGET_SECONDS = 1.0
STATUSES = ("completed",) * 8 + ("failed", "interrupted")


def session_from(template: dict[str, Any], home: Path, when: datetime, suffix: str, n: int) -> tuple[str, dict]:
    """The template as session ``n``: its own time, id, paths, status and scores."""
    stamp = when.strftime("%Y%m%d_%H%M%S")
    sid = f"train_{stamp}{suffix}"
    data = copy.deepcopy(template)
    info = data["training_session"]
    info["timestamp"], info["session_id"] = stamp, sid
    info["session_name"] = f"run-{n}" if n % 10 == 0 else None
    status = data["execution_status"]
    status["status"] = STATUSES[n % len(STATUSES)]
    start = when.replace(tzinfo=timezone.utc)
    status["started_at"] = start.isoformat(timespec="seconds")
    status["completed_at"] = status["heartbeat"] = (start + timedelta(seconds=60 + n % 900)).isoformat(
        timespec="seconds")
    status["duration_seconds"] = float(60 + n % 900)
    status["best_f1"] = round(0.5 + (n % 50) / 100, 4) if status["status"] == "completed" else None
    status["pid"] = 10_000 + n
    models = home / "models" / sid
    status["best_model"] = str(models)
    data["output_paths"].update(models_dir=str(home / "models"), model_dir=str(models),
                                checkpoints_dir=str(models / "checkpoints"),
                                logs_dir=str(home / "logs" / "training_sessions"),
                                log_file=str(home / "logs" / "training_sessions" / f"{sid}.log"),
                                metrics_file=str(models / "metrics.json"))
    data["model_config"]["epochs"] = 1 + n % 5
    return sid, data


def make_history(home: Path, template: dict[str, Any], count: int) -> Path:
    """``count`` session files, one every few minutes back from now; one in 50 shares its second (suffix _2)."""
    folder = home / "logs" / "training_sessions"
    folder.mkdir(parents=True)
    when = datetime(2026, 1, 1, 12, 0, 0)
    n = 0
    while n < count:
        suffixes = ("", "_2") if n % 50 == 0 and n + 1 < count else ("",)
        for suffix in suffixes:
            sid, data = session_from(template, home, when, suffix, n)
            name = f"training_metadata_{sid.removeprefix('train_')}.json"
            (folder / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            n += 1
        when -= timedelta(minutes=7, seconds=n % 60)
    return folder


class CountingStore(SessionStore):
    """The real store, counting the files it opens."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.parsed = 0

    def read_raw(self, path: Path) -> dict:
        self.parsed += 1
        return super().read_raw(path)


def time_cli(home: Path, argv: list[str], runs: int) -> tuple[list[float], str]:
    env = {**os.environ, "LLM_TOOL_HOME": str(home), "COLUMNS": "140"}
    times, output = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "llm_tool", *argv], capture_output=True, text=True, env=env,
                                cwd=home)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"llm-tool {' '.join(argv)} failed: {result.stderr}")
        output = result.stdout
    return times, output


def time_in_process(home: Path, runs: int, **filters: Any) -> tuple[list[float], int, list[dict]]:
    times, parsed, rows = [], 0, []
    for _ in range(runs):
        store = CountingStore(home)
        start = time.perf_counter()
        rows = list_rows(store, limit=20, **filters)
        times.append(time.perf_counter() - start)
        parsed = store.parsed
    return times, parsed, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="a completed session's metadata JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when over the target")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()

    template = json.loads(args.template.read_text(encoding="utf-8"))
    home = Path(tempfile.mkdtemp(prefix="bench_sessions_list_")).resolve()
    try:
        start = time.perf_counter()
        folder = make_history(home, template, args.sessions)
        setup = time.perf_counter() - start
        count = sum(1 for _ in folder.glob("training_metadata_*.json"))
        size = sum(p.stat().st_size for p in folder.glob("training_metadata_*.json"))

        store = SessionStore(home)
        sort_times = []
        for _ in range(max(args.runs, 20)):
            start = time.perf_counter()
            names = store.names_newest_first()
            sort_times.append(time.perf_counter() - start)
        newest = json.loads((folder / names[0]).read_text(encoding="utf-8"))["training_session"]["session_id"]

        cli_times, table = time_cli(home, ["sessions", "list"], args.runs)
        cli_json_times, listed = time_cli(home, ["sessions", "list", "--json"], args.runs)
        rows_cli = json.loads(listed)
        inproc_times, parsed, rows = time_in_process(home, max(args.runs, 20))
        full_times, full_parsed, _ = time_in_process(home, 1, status="pending")  # no match: every file is parsed

        checks = {
            "files": count == args.sessions,
            "20 rows, numbered 1-20": [r["number"] for r in rows] == list(range(1, 21)),
            "newest first": rows[0]["session_id"] == newest and
            [r["timestamp"] for r in rows] == sorted((r["timestamp"] for r in rows), reverse=True),
            "same rows from the CLI": [r["session_id"] for r in rows_cli] == [r["session_id"] for r in rows],
            "only 20 files parsed": parsed == 20,
            "table printed": "Training sessions (20 most recent)" in table and
            datetime.strptime(rows[0]["timestamp"], "%Y%m%d_%H%M%S").strftime("%Y-%m-%d %H:%M") in table,
        }
        median = statistics.median(cli_times)
        results = {
            "sessions": count, "bytes_on_disk": size, "runs": args.runs, "target_seconds": TARGET_SECONDS,
            "setup_seconds": round(setup, 2),
            "cli_list_median_seconds": round(median, 4), "cli_list_min_seconds": round(min(cli_times), 4),
            "cli_list_max_seconds": round(max(cli_times), 4),
            "cli_list_json_median_seconds": round(statistics.median(cli_json_times), 4),
            "in_process_list_rows_median_seconds": round(statistics.median(inproc_times), 5),
            "in_process_runs": len(inproc_times),
            "sort_file_names_median_seconds": round(statistics.median(sort_times), 5),
            "files_parsed_for_20_rows": parsed,
            "worst_case_filter_no_match_seconds": round(full_times[0], 3),
            "worst_case_filter_files_parsed": full_parsed,
            "checks": checks,
            "under_target": median < TARGET_SECONDS,
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    print(f"{results['sessions']:,} session files ({size / 2**20:.1f} MiB), {args.runs} runs each, "
          f"load average {results['machine']['load_average_1m']}")
    print(f"{'measure':52} {'seconds':>9}")
    for label, key in (("llm-tool sessions list (subprocess, median)", "cli_list_median_seconds"),
                       ("llm-tool sessions list (subprocess, min)", "cli_list_min_seconds"),
                       ("llm-tool sessions list (subprocess, max)", "cli_list_max_seconds"),
                       ("llm-tool sessions list --json (subprocess, median)", "cli_list_json_median_seconds"),
                       ("list_rows(limit=20) in-process (median)", "in_process_list_rows_median_seconds"),
                       ("  of which: sort 10,000 file names (median)", "sort_file_names_median_seconds"),
                       ("filter matching nothing (parses every file, 1 run)", "worst_case_filter_no_match_seconds")):
        print(f"{label:52} {results[key]:>9.4f}")
    print(f"files parsed for the 20 rows: {parsed} (of {count:,}); with a filter matching nothing: {full_parsed:,}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    verdict = "under" if results["under_target"] else "OVER"
    print(f"target < {TARGET_SECONDS:.0f} s: {verdict} ({median:.3f} s median for `llm-tool sessions list`)")

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sessions_list.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not all(checks.values()):
        return 1
    return 1 if args.strict and not results["under_target"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
