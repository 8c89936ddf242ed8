"""The typed sweep state file: round trip, version 1 files, unknown keys kept, hostile files refused in one line."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from llm_tool.cli import main
from llm_tool.sweeps import state as state_module
from llm_tool.sweeps.state import SweepError, SweepJob, SweepState, SweepStore, new_job, new_state
from tests.helpers import read_json

# A state file exactly as the first version (schema_version 1, before the typed state) wrote it mid-run.
V1_FILE: dict[str, Any] = {
    "schema_version": 1, "name": "grid", "kind": "benchmark", "tmux_session": "llmtool-sweep-grid",
    "socket": "llm-tool", "home": "/home/u/proj", "created_at": "2025-01-02T10:00:00",
    "updated_at": "2025-01-02T10:05:00", "state": "running", "max_parallel": 2, "max_panes_per_window": 4,
    "group_by": "model_config.selected_model", "max_retries": 1, "gpus": ["0", "1"],
    "sources": [{"file": "grid.json", "added_at": "2025-01-02T10:00:00", "jobs": 2}],
    "parent_session": {"session_id": "p1", "session_file": "/home/u/proj/logs/training_sessions/p.json"},
    "control": {"window_id": "@0", "pane_id": "%0"},
    "scheduler": {"pane_id": "%1", "pid": 4242, "started_at": "2025-01-02T10:00:01", "ended": False},
    "windows": {"bert": {"window_id": "@1", "group": "bert"}},
    "jobs": [
        {"key": "j001", "number": 1, "title": "lr2e-5", "group": "bert", "window": "bert",
         "overrides": {"model_config.learning_rate": 2e-5}, "model": "bert", "session_id": "s1",
         "session_file": "/home/u/proj/logs/training_sessions/a.json", "start_dir": "/home/u/proj",
         "status": "running", "pane_id": "%2", "window_id": "@1", "gpu": "0", "queued_at": "2025-01-02T10:00:00",
         "started_at": "2025-01-02T10:00:02", "finished_at": None, "exit_code": None, "stop_requested": False,
         "reason": None, "started_ts": 1735812002.5, "resume": False},
        {"key": "j002", "number": 2, "title": "lr5e-5", "group": "bert", "window": "bert",
         "overrides": {"model_config.learning_rate": 5e-5}, "model": None, "session_id": "s2",
         "session_file": "/home/u/proj/logs/training_sessions/b.json", "start_dir": "/home/u/proj",
         "status": "queued", "pane_id": None, "window_id": None, "gpu": None, "queued_at": "2025-01-02T10:00:00",
         "started_at": None, "finished_at": None, "exit_code": None, "stop_requested": False, "reason": None},
    ],
    "max_running_seen": 1,
}


def without_nulls(value: Any) -> Any:
    """The data a file carries: a missing key and a null one mean the same to every reader."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def put(store: SweepStore, name: str, content: Any, *, raw: bool = False) -> Path:
    path = store.path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if raw else json.dumps(content), encoding="utf-8")
    return path


def test_new_state_round_trips_through_the_file(isolated_home: Path) -> None:
    sweeps = SweepStore(isolated_home)
    state = new_state("rt", kind="sweep", tmux_session="llmtool-sweep-rt", socket="sock", home=isolated_home,
                      max_parallel=3, max_panes_per_window=2, group_by=None, max_retries=0, gpus=["0"])
    state.jobs.append(new_job(1, title="a", group="g", window="g", overrides={"model_config.epochs": 2},
                              session_id="s1", session_file=isolated_home / "s1.json", start_dir=isolated_home,
                              model="org/m"))
    sweeps.write("rt", state)
    back = sweeps.read("rt")
    assert back == state and back.to_dict() == read_json(sweeps.path("rt"))
    assert (back.jobs[0].key, back.jobs[0].status, back.jobs[0].overrides) == ("j001", "queued",
                                                                             {"model_config.epochs": 2})
    assert read_json(sweeps.path("rt"))["schema_version"] == 1  # the format did not change: still version 1


def test_a_version_1_file_loads_typed_and_is_written_back_with_the_same_data(isolated_home: Path) -> None:
    sweeps = SweepStore(isolated_home)
    put(sweeps, "grid", V1_FILE)
    state = sweeps.read("grid")
    assert (state.kind, state.state, state.max_parallel, state.gpus) == ("benchmark", "running", 2, ["0", "1"])
    assert state.parent_session is not None and state.parent_session.session_id == "p1"
    assert state.scheduler.pid == 4242 and state.scheduler.ended is False and state.control.pane_id == "%0"
    assert state.windows["bert"].window_id == "@1" and state.sources[0].jobs == 2
    first, second = state.jobs
    assert isinstance(first, SweepJob) and (first.status, first.gpu, first.started_ts) == ("running", "0",
                                                                                          1735812002.5)
    assert (second.status, second.model, second.resume) == ("queued", None, False)
    assert state.job("j002") is second
    with pytest.raises(SweepError, match="no job j009"):
        state.job("j009")
    with sweeps.locked("grid") as same:
        same.jobs[1].status = "cancelled"
    written = read_json(sweeps.path("grid"))
    expected = json.loads(json.dumps(V1_FILE))
    expected["jobs"][1].update(status="cancelled", resume=False)  # a default is written out; old readers: bool(get())
    written.pop("updated_at"), expected.pop("updated_at")
    assert without_nulls(written) == without_nulls(expected)


def test_a_file_without_the_newer_optional_keys_loads(isolated_home: Path) -> None:
    sweeps = SweepStore(isolated_home)
    minimal = {"name": "m", "tmux_session": "llmtool-sweep-m", "jobs": [
        {"key": "j001", "number": 1, "title": "t", "window": "w", "session_id": "s", "session_file": "/x.json"}]}
    put(sweeps, "m", minimal)
    state = sweeps.read("m")
    assert (state.kind, state.state, state.schema_version, state.parent_session) == ("sweep", "running", 1, None)
    assert (state.jobs[0].status, state.jobs[0].overrides, state.scheduler.pane_id) == ("queued", {}, None)


def test_unknown_keys_are_kept_at_every_level(isolated_home: Path) -> None:
    sweeps = SweepStore(isolated_home)
    data = json.loads(json.dumps(V1_FILE))
    data["future_top"] = {"a": [1, 2]}
    data["jobs"][0]["future_job"] = "x"
    data["scheduler"]["future_sched"] = 7
    data["windows"]["bert"]["future_window"] = True
    data["parent_session"]["future_parent"] = None
    put(sweeps, "grid", data)
    state = sweeps.read("grid")
    assert state.extra == {"future_top": {"a": [1, 2]}} and state.jobs[0].extra == {"future_job": "x"}
    with sweeps.locked("grid") as same:
        same.max_parallel = 5
    written = read_json(sweeps.path("grid"))
    assert written["future_top"] == {"a": [1, 2]} and written["jobs"][0]["future_job"] == "x"
    assert written["scheduler"]["future_sched"] == 7 and written["windows"]["bert"]["future_window"] is True
    assert "future_parent" in written["parent_session"] and written["max_parallel"] == 5


def broken(path: list[Any], value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(V1_FILE))
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(("data", "where"), [
    (broken(["jobs", 1, "status"], 3), "jobs[1].status is a number, expected one of queued, running"),
    (broken(["jobs", 0, "status"], "\x1b[31m[bold]done"), "jobs[0].status is a string, expected one of"),
    (broken(["jobs", 0, "status"], "weird"), "jobs[0].status is the string 'weird', expected one of"),
    (broken(["jobs"], "x"), "jobs is the string 'x', expected a list"),
    (broken(["jobs", 0], [1]), "jobs[0] is a list, expected an object"),
    (broken(["jobs", 0, "key"], KeyError), "jobs[0] has no 'key'"),
    (broken(["max_parallel"], "2"), "max_parallel is the string '2', expected an integer"),
    (broken(["max_parallel"], True), "max_parallel is true/false, expected an integer"),
    (broken(["gpus"], [0]), "gpus[0] is a number, expected a string"),
    (broken(["windows", "bert"], 1), "windows.bert is a number, expected an object"),
    (broken(["scheduler"], None), "scheduler is null, expected an object"),
    (broken(["parent_session"], {"session_id": 1, "session_file": "p"}), "parent_session.session_id is a number"),
    (broken(["state"], "exploded"), "state is the string 'exploded', expected one of running, finished"),
    (broken(["tmux_session"], KeyError), "the state has no 'tmux_session'"),
    ([1, 2], "it holds a list, not a sweep state object"),
    ("just text", "it holds a string, not a sweep state object"),
    (None, "it holds null, not a sweep state object"),
])
def test_a_file_with_wrong_types_is_one_clear_error(isolated_home: Path, data: Any, where: str,
                                                    capsys: pytest.CaptureFixture) -> None:
    sweeps = SweepStore(isolated_home)
    path = put(sweeps, "bad", data)
    with pytest.raises(SweepError) as caught:
        sweeps.read("bad")
    message = str(caught.value)
    assert message.startswith(f"{path} is not a valid sweep state file: {where}"), message
    assert "\n" not in message and "\x1b" not in message and "[bold]" not in message
    assert main(["sweep", "status", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and where[:20] in err


@pytest.mark.parametrize(("content", "expected"), [
    ("[" * 100_000 + "]" * 100_000, "it is nested too deeply"),
    ('{"name": "x", "jobs": [', "cannot read the sweep file"),
    ("\xff\xfe garbage", "cannot read the sweep file"),
])
def test_unreadable_files_are_one_clear_error(isolated_home: Path, content: str, expected: str) -> None:
    sweeps = SweepStore(isolated_home)
    put(sweeps, "bad", content, raw=True)
    with pytest.raises(SweepError, match=expected) as caught:
        sweeps.read("bad")
    assert "\n" not in str(caught.value)


def test_deep_nesting_inside_a_free_form_field_still_loads_and_writes(isolated_home: Path) -> None:
    sweeps = SweepStore(isolated_home)
    data = json.loads(json.dumps(V1_FILE))
    deep: Any = "leaf"
    for _ in range(400):
        deep = [deep]
    data["jobs"][0]["overrides"] = {"x": deep}
    put(sweeps, "deep", data)
    with sweeps.locked("deep") as state:
        state.max_parallel = 1
    assert read_json(sweeps.path("deep"))["jobs"][0]["overrides"] == {"x": deep}


def test_an_oversized_file_is_refused_before_it_is_parsed(isolated_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sweeps = SweepStore(isolated_home)
    put(sweeps, "big", V1_FILE)
    monkeypatch.setattr(state_module, "MAX_STATE_BYTES", 100)
    with pytest.raises(SweepError, match="is larger than"):
        sweeps.read("big")


def test_sweep_list_shows_a_broken_file_beside_good_ones(isolated_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("LLM_TOOL_TMUX_SOCKET", f"llmtool-test-{uuid.uuid4().hex[:10]}")
    sweeps = SweepStore(isolated_home)
    put(sweeps, "good", {**V1_FILE, "jobs": [], "name": "good"})
    put(sweeps, "bad", broken(["jobs", 0, "number"], "one"))
    assert main(["sweep", "list", "--json"]) == 0
    items = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    assert items["good"]["kind"] == "benchmark" and items["good"]["jobs"] == 0
    assert "jobs[0].number is the string 'one', expected an integer" in items["bad"]["error"]
    assert [n for n, s, _ in sweeps.all() if isinstance(s, SweepState)] == ["good"]
