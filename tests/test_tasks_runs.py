"""A tasks run: one parent session and one child session per task; list, show, resume mid-task, relaunch, tmux."""

from __future__ import annotations

import csv
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from llm_tool.dispatch.seam import LaunchOptions, launch
from llm_tool.sessions import SessionStore
from llm_tool.sessions.lifecycle import effective_status
from llm_tool.sessions.task_status import ChildNow
from llm_tool.sweeps import tasks_run
from llm_tool.training.events import TrainingEvent
from tests.conftest import SAMPLE_CSV
from tests.helpers import read_json, run_main, session_files, wait_until, write_config

pytestmark = pytest.mark.xdist_group("tasks_runs")

TASKS = ["sentiment", "source", "length"]


def _rows(n: int) -> list[dict[str, Any]]:
    """``n`` sample sentences, balanced over sentiment and source; the source is left out of every 5th row's
    annotation and the length of every 4th ("not annotated")."""
    with SAMPLE_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    picked: list[dict[str, str]] = []
    groups = sorted({(r["source"], r["label"]) for r in rows})
    for key in groups:
        picked += [r for r in rows if (r["source"], r["label"]) == key][: n // len(groups)]
    out = []
    for i, row in enumerate(picked):
        codes: dict[str, str] = {"sentiment": row["label"]}
        if i % 5:
            codes["source"] = row["source"]
        if i % 4:
            codes["length"] = "short" if len(row["text"]) < 60 else "long"
        out.append({"text": row["text"], "annotation": json.dumps(codes)})
    return out


def _config(folder: Path, tiny_model: Path, n: int = 60, tasks: list[str] | None = None, **model: Any) -> Path:
    data = folder / "coded.csv"
    rows = _rows(n)
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return write_config(folder / "tasks.json", data, tiny_model, num_threads=1,
                        dataset_config={"annotation_column": "annotation", "label_column": None, "tasks": tasks},
                        **model)


def _parent_and_children(home: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    metas = [read_json(p) for p in session_files(home)]
    (parent,) = [m for m in metas if m["training_session"]["workflow"] == "tasks"]
    by_id = {m["training_session"]["session_id"]: m for m in metas}
    return parent, [by_id[sid] for sid in parent["training_session"]["child_sessions"]]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """A home where `llm-tool train` ran a 3-task config to the end in the foreground (shared, read only)."""
    home = tmp_path_factory.mktemp("tasks_run") / "home"
    home.mkdir()
    config = _config(home, tiny_model)
    from llm_tool.training import token_memo

    saved, token_memo.MEMO = token_memo.MEMO, token_memo.TokenMemo()  # counts this run's tokenizer calls only
    try:
        result = run_main("train", str(config), "--session-name", "coded", env={"LLM_TOOL_HOME": str(home)},
                          cwd=home)
    finally:
        memo, token_memo.MEMO = token_memo.MEMO, saved
    assert result.returncode == 0, result.stderr[-3000:]
    (home.parent / "tokenized_texts.json").write_text(json.dumps(memo.tokenized))
    return home


def test_each_text_is_tokenized_once_for_all_tasks(finished_run: Path) -> None:
    """Three tasks on one model in the foreground: the length analysis and every split of every task share one
    tokenization per text (each task alone would tokenize its texts four times: lengths, train, validation, test)."""
    with (finished_run / "coded.csv").open(encoding="utf-8") as handle:
        texts = {row["text"] for row in csv.DictReader(handle)}
    assert json.loads((finished_run.parent / "tokenized_texts.json").read_text()) == len(texts) == 60


def test_train_makes_one_parent_and_one_child_per_task(finished_run: Path) -> None:
    parent, children = _parent_and_children(finished_run)
    assert len(session_files(finished_run)) == 4
    assert parent["execution_status"]["status"] == "completed"
    assert parent["output_paths"]["model_dir"] is None  # the parent trains nothing itself
    entries = parent["tasks"]["entries"]
    assert [e["task"] for e in entries] == TASKS
    assert [c["training_session"]["session_name"] for c in children] == [f"coded-{t}" for t in TASKS]
    for entry, child in zip(entries, children, strict=True):
        assert child["dataset_config"]["task"] == entry["task"]
        assert child["training_session"]["parent_session"] == parent["training_session"]["session_id"]
        assert child["execution_status"]["status"] == entry["status"] == "completed"
        assert entry["test_macro_f1"] == child["execution_status"]["test_f1"] is not None
        assert Path(child["output_paths"]["model_dir"], "config.json").is_file()
    # rows not annotated for a task are left out of it: 60 rows, source missing on every 5th, length on every 4th
    assert [(e["rows_used"], e["rows_not_annotated"]) for e in entries] == [(60, 0), (48, 12), (45, 15)]
    assert sorted(entries[1]["classes"]) == ["amazon", "imdb", "yelp"]


def test_list_shows_the_parent_as_one_row_and_show_gives_the_task_table(finished_run: Path) -> None:
    env = {"LLM_TOOL_HOME": str(finished_run)}
    rows = json.loads(run_main("sessions", "list", "--json", env=env, cwd=finished_run).stdout)
    assert [(r["name"], r["label"], r["status"]) for r in rows] == [("coded", "3 tasks", "completed")]
    listed = run_main("sessions", "list", env=env, cwd=finished_run).stdout
    assert "3 tasks" in listed and "coded-source" not in listed
    every = json.loads(run_main("sessions", "list", "--children", "--json", env=env, cwd=finished_run).stdout)
    assert sorted(r["name"] for r in every) == ["coded", "coded-length", "coded-sentiment", "coded-source"]
    shown = run_main("sessions", "show", "coded", env=env, cwd=finished_run)
    assert shown.returncode == 0, shown.stderr
    for task in TASKS:
        assert task in shown.stdout
    assert shown.stdout.count("completed") >= 4 and "amazon" in shown.stdout
    child = run_main("sessions", "show", "coded-source", env=env, cwd=finished_run)
    assert child.returncode == 0 and "Per class" in child.stdout
    again = run_main("sessions", "resume", "coded", env=env, cwd=finished_run)
    assert again.returncode == 2 and "already completed" in again.stderr


def test_children_whose_parent_was_deleted_are_listed(finished_run: Path, isolated_home: Path) -> None:
    import shutil

    sessions = isolated_home / "logs" / "training_sessions"
    shutil.copytree(finished_run / "logs" / "training_sessions", sessions, dirs_exist_ok=True)
    parent, _ = _parent_and_children(isolated_home)
    SessionStore().path_for_id(parent["training_session"]["session_id"]).unlink()
    rows = json.loads(run_main("sessions", "list", "--json").stdout)
    assert sorted(r["name"] for r in rows) == ["coded-length", "coded-sentiment", "coded-source"]


def test_a_parent_interrupted_mid_task_resumes_only_what_is_unfinished(isolated_home: Path, tiny_model: Path) -> None:
    """Task 1 completes, task 2 is stopped (a real SIGTERM) after its first checkpoint, task 3 never starts;
    `sessions resume PARENT` leaves task 1 alone, continues task 2 from its checkpoint and trains task 3."""
    from llm_tool.config import load_raw_config

    config = _config(isolated_home, tiny_model, n=60, save_steps=2)
    store = SessionStore()
    run = tasks_run.create_run(store, tasks_run.plan_tasks(load_raw_config(config, []), isolated_home),
                               session_name="coded")

    def stop_at_step_3(event: TrainingEvent) -> None:
        if event.kind == "step" and event.step >= 3:
            os.kill(os.getpid(), signal.SIGTERM)

    def run_child(child: ChildNow, resume: bool) -> Any:
        stop = stop_at_step_3 if child.entry.task == "source" else (lambda _: None)
        assert child.path is not None
        return launch(store, child.path, "foreground", LaunchOptions(resume=resume), on_event=stop)

    outcome = tasks_run.run_here(store, run.path, run_child)
    assert outcome.ran == {"sentiment": "completed", "source": "interrupted"}
    assert effective_status(store, store.read(run.path)) == "interrupted"
    first, second, third = (store.read(store.path_for_id(e.session_id)) for e in run.children)
    assert [first.execution_status.status, second.execution_status.status, third.execution_status.status] == \
        ["completed", "interrupted", "pending"]
    first_model = Path(first.output_paths.model_dir or "", "model.safetensors").stat().st_mtime_ns

    result = run_main("sessions", "resume", "coded")
    assert result.returncode == 0, result.stderr[-3000:]
    first, second, third = (store.read(store.path_for_id(e.session_id)) for e in run.children)
    assert Path(first.output_paths.model_dir or "", "model.safetensors").stat().st_mtime_ns == first_model
    assert second.execution_status.extra.get("resumed_at")  # continued from its checkpoint, not started again
    assert "resumed_at" not in third.execution_status.extra
    assert [m.execution_status.status for m in (first, second, third)] == ["completed"] * 3
    parent = read_json(run.path)
    assert parent["execution_status"]["status"] == "completed"
    assert [e["status"] for e in parent["tasks"]["entries"]] == ["completed"] * 3

    relaunched = run_main("sessions", "relaunch", "coded", "--session-name", "coded-again",
                          "--set", 'dataset_config.tasks=["sentiment"]')
    assert relaunched.returncode == 0, relaunched.stderr[-3000:]
    new = read_json(store.resolve("coded-again"))
    assert new["training_session"]["workflow"] == "tasks"
    assert new["training_session"]["parent_session"] == run.session_id
    assert [e["task"] for e in new["tasks"]["entries"]] == ["sentiment"]
    assert new["execution_status"]["status"] == "completed"


def test_tasks_train_side_by_side_in_tmux(tmux_socket: str, isolated_home: Path, tiny_model: Path) -> None:
    config = _config(isolated_home, tiny_model, n=40, tasks=["sentiment", "source"])
    result = run_main("train", str(config), "--session-name", "coded", "--backend", "tmux", "--max-parallel", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "at most 2 at once" in result.stdout
    store = SessionStore()
    path = store.resolve("coded")
    wait_until(lambda: effective_status(store, store.read(path)) in ("completed", "failed") or None,
               timeout=240, what="every task of the run to end")
    state = read_json(isolated_home / "logs" / "sweeps" / "coded-tasks.json")
    assert state["kind"] == "tasks" and state["max_running_seen"] == 2
    assert [(j["title"], j["session_file"]) for j in state["jobs"]] == \
        [("sentiment", str(store.resolve("coded-sentiment"))), ("source", str(store.resolve("coded-source")))]
    assert state["parent_session"]["session_file"] == str(path)

    def recorded() -> dict[str, Any] | None:  # the scheduler writes the parent's table as the children end
        parent = read_json(path)
        return parent if parent["execution_status"]["status"] == "completed" else None
    parent = wait_until(recorded, timeout=60, what="the parent's table to be recorded")
    assert [(e["task"], e["status"]) for e in parent["tasks"]["entries"]] == [("sentiment", "completed"),
                                                                              ("source", "completed")]
    assert all(e["test_macro_f1"] is not None for e in parent["tasks"]["entries"])


@pytest.mark.usefixtures("interactive")
def test_the_studio_starts_a_saved_tasks_run_from_its_history(isolated_home: Path, tiny_model: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from llm_tool.config import load_raw_config
    from tests.wizard_helpers import Keys, pick, run_studio

    config = _config(isolated_home, tiny_model, n=40, tasks=["sentiment", "source"])
    store = SessionStore()
    run = tasks_run.create_run(store, tasks_run.plan_tasks(load_raw_config(config, []), isolated_home),
                               session_name="coded")
    capsys.readouterr()
    # studio → resume/relaunch → row 1 (the parent: its children are not listed) → start it → foreground → exit
    ctx = run_studio(pick(1), pick(1), pick(1), Keys.ENTER, pick(1), pick(3), pick(6))
    assert ctx.prompter.asked == ["main_menu", "studio_menu", "session", "action", "where", "studio_menu",
                                  "main_menu"]
    out = capsys.readouterr().out
    assert "Tasks of" in out and "sentiment" in out and "source" in out  # the history shows the task table
    assert read_json(run.path)["execution_status"]["status"] == "completed"
    assert [e["status"] for e in read_json(run.path)["tasks"]["entries"]] == ["completed", "completed"]


def test_a_parent_from_elsewhere_naming_odd_children_is_shown_and_refused_in_one_line(isolated_home: Path) -> None:
    """A parent file (shared, edited) whose table names itself, a path and a session that is gone: listed as
    failed, shown, and resuming it is one line (exit 2); nothing is read outside the sessions folder."""
    from datetime import datetime, timezone

    from llm_tool.sessions.task_parent import TaskEntry, write_task_entries
    from tests.helpers import fake_session

    store = SessionStore()
    path = fake_session(store, datetime(2026, 1, 2, tzinfo=timezone.utc), status="pending")
    sid = store.read(path).session_id

    def odd(meta: Any) -> None:
        meta.training_session.workflow = "tasks"
        meta.training_session.session_name = "odd"
        write_task_entries(meta, [TaskEntry(task="self", session_id=sid),
                                  TaskEntry(task="path", session_id="../../../etc/passwd"),
                                  TaskEntry(task="gone", session_id="train_20250101_000000")])
    store.update(path, odd)
    rows = json.loads(run_main("sessions", "list", "--json").stdout)
    assert [(r["name"], r["label"], r["status"]) for r in rows] == [("odd", "3 tasks", "failed")]
    shown = run_main("sessions", "show", "odd")
    assert shown.returncode == 0 and shown.stdout.count("missing") == 3
    resumed = run_main("sessions", "resume", "odd")
    assert resumed.returncode == 2
    assert resumed.stderr.count("\n") == 1 and "is gone" in resumed.stderr and "relaunch" in resumed.stderr
