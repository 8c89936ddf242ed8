"""Sweep test helpers: sweep files, state polling, tmux pane queries, and fake finished sessions with metrics."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers import read_json, wait_until
from tests.tmux_helpers import tmux

if TYPE_CHECKING:
    import pytest

    from llm_tool.sweeps.state import SweepState


def write_sweep(path: Path, base: Any, **fields: Any) -> Path:
    path.write_text(json.dumps({"base": base, **fields}, indent=2), encoding="utf-8")
    return path


def state_of(home: Path, name: str) -> dict[str, Any]:
    return read_json(home / "logs" / "sweeps" / f"{name}.json")


def state_when(home: Path, name: str, predicate: Any, *, timeout: float = 180.0, what: str = "") -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        try:
            state = state_of(home, name)
        except (OSError, ValueError):
            return None
        return state if predicate(state) else None
    return wait_until(check, timeout=timeout, interval=0.3, what=what or f"sweep {name}")


def job(state: dict[str, Any], key: str) -> dict[str, Any]:
    return next(j for j in state["jobs"] if j["key"] == key)


def session(job_entry: dict[str, Any]) -> dict[str, Any]:
    return read_json(Path(job_entry["session_file"]))


def session_status(job_entry: dict[str, Any]) -> dict[str, Any]:
    return session(job_entry)["execution_status"]


def panes(socket: str, tmux_name: str) -> list[dict[str, str]]:
    """Every pane of the sweep session: window index/name/id, pane id, title, dead flag."""
    fmt = "#{window_index}\t#{window_name}\t#{window_id}\t#{pane_id}\t#{pane_title}\t#{pane_dead}"
    out = tmux(socket, "list-panes", "-s", "-t", f"={tmux_name}", "-F", fmt).stdout
    rows = []
    for line in out.splitlines():
        index, name, wid, pid, title, dead = line.split("\t")
        rows.append({"window_index": index, "window_name": name, "window_id": wid, "pane_id": pid, "title": title,
                     "dead": dead == "1"})
    return rows


def capture(socket: str, pane_id: str) -> str:
    return tmux(socket, "capture-pane", "-p", "-t", pane_id).stdout


def display(socket: str, target: str, fmt: str) -> str:
    return tmux(socket, "display-message", "-p", "-t", target, fmt).stdout.strip()


def fake_finished_session(store: Any, data_file: Path, *, model: str, macro_f1: float | None,
                          per_class: dict[str, float] | None = None, test: bool = True, sweep_id: str = "fake",
                          runtime: float = 12.5, speed: float = 80.0) -> tuple[Path, str]:
    """A completed session of ``model`` whose metrics.json (written on disk) has the given test scores."""
    from llm_tool.sessions.create import create_session
    from llm_tool.sessions.schema import SessionMetadata

    raw = {"dataset_config": {"primary_file": str(data_file)}, "model_config": {"selected_model": model}}
    path, _ = create_session(store, raw, base_dir=data_file.parent, sweep_id=sweep_id)
    sid = store.read(path).session_id
    if macro_f1 is not None:
        per_class = per_class or {"negative": macro_f1, "positive": macro_f1}
        report = {"macro_f1": macro_f1, "accuracy": macro_f1,
                  "per_class": {k: {"precision": v, "recall": v, "f1": v, "support": 5} for k, v in per_class.items()}}
        metrics = {"session_id": sid, "model": model, "train_runtime_seconds": runtime,
                   "train_samples_per_second": speed, "validation": {**report, "macro_f1": macro_f1 / 2}}
        if test:
            metrics["test"] = report
        folder = store.home / "models" / sid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")

    def done(meta: SessionMetadata) -> None:
        meta.execution_status.status = "completed" if macro_f1 is not None else "failed"
    store.update(path, done)
    return path, sid


def fake_state(home: Path, name: str, sessions: list[tuple[Path, str, str]], *, kind: str = "sweep",
               overrides: list[dict[str, Any]] | None = None) -> SweepState:
    """A sweep state file listing ``sessions`` (path, id, title) as finished jobs (no tmux involved), each with
    its ``overrides`` (a `model_config.seed` in them groups jobs into one configuration)."""
    from llm_tool.sweeps.state import SweepStore, new_job, new_state

    sweeps = SweepStore(home)
    state = new_state(name, kind=kind, tmux_session=f"llmtool-sweep-{name}", socket="unused", home=home,
                      max_parallel=1, max_panes_per_window=4, group_by="model_config.selected_model", max_retries=0,
                      gpus=[])
    settings = overrides or [{} for _ in sessions]
    for number, (path, sid, title) in enumerate(sessions, start=1):
        entry = new_job(number, title=title, group="g", window="g", overrides=settings[number - 1], session_id=sid,
                        session_file=path, start_dir=home, model=read_json(path)["model_config"]["selected_model"])
        entry.status = read_json(path)["execution_status"]["status"]
        state.jobs.append(entry)
    state.state = "finished"
    sweeps.write(name, state)
    return state


def assert_ranked(board: list[dict[str, Any]], count: int) -> None:
    """``count`` ranked configurations: the best first at rank 1, those tied with it at rank 1 too, the others
    after them in competition order (the CI fields present)."""
    assert len(board) == count and board[0]["rank"] == 1 and board[0]["best"]
    tied = sum(1 for entry in board if entry["tied"])
    assert [entry["rank"] for entry in board] == [1] * (1 + tied) + list(range(2 + tied, count + 1))
    assert all(entry["tied"] is None or entry["ci_low"] <= entry["ci_high"] for entry in board[1:])


# ----- stand-in Slurm commands: a queue kept in a text file (the real cluster is tests/test_slurm.py's) ----------
SBATCH = r"""#!/bin/bash
dir="$(dirname "$0")"
n=$(( $(cat "$dir/next" 2>/dev/null || echo 4241) + 1 )); echo "$n" > "$dir/next"
array=""
for a in "$@"; do case "$a" in --array=*) array="${a#--array=}";; esac; done
if [ -n "$array" ]; then
  range="${array%%\%*}"
  for i in $(seq 0 "${range#*-}"); do echo "${n}_$i PENDING" >> "$dir/queue"; done
else
  echo "$n PENDING" >> "$dir/queue"
fi
echo "$n"
"""
SQUEUE = '#!/bin/bash\ncat "$(dirname "$0")/queue" 2>/dev/null\nexit 0\n'
SCANCEL = r"""#!/bin/bash
dir="$(dirname "$0")"
job="${@: -1}"
echo "$*" >> "$dir/scancel.log"
grep -v "^$job " "$dir/queue" > "$dir/queue.new"; mv "$dir/queue.new" "$dir/queue"
"""


def stand_in_slurm(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`sbatch` (job ids from 4242; array tasks queued PENDING), `squeue` and `scancel` first on PATH."""
    folder.mkdir(parents=True)
    for name, text in (("sbatch", SBATCH), ("squeue", SQUEUE), ("scancel", SCANCEL)):
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod((folder / name).stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def set_queue(folder: Path, **states: str) -> None:
    """What the stand-in `squeue` answers: job id -> state."""
    (folder / "queue").write_text("".join(f"{job} {state}\n" for job, state in states.items()), encoding="utf-8")
