"""`llm-tool sessions ...` end to end: list/show/relaunch/export/import/compare/note/delete/clean, on sessions made by
real tiny trainings (one shared history, built once) and on session files written for the case."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from llm_tool.atomic import HeldLock
from llm_tool.data.hashing import file_sha256
from llm_tool.sessions import SessionStore
from tests.helpers import CliResult, fake_session, read_json, run_main, sample_rows, write_config, write_csv

# one xdist worker runs this file's tests (a module-scoped history)
pytestmark = pytest.mark.xdist_group("sessions-cli")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
WIDE = {"COLUMNS": "250"}


class Home:
    """An llm-tool home, its commands run in process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SessionStore(path)

    def env(self) -> dict[str, str]:
        return {**OFFLINE, **WIDE, "LLM_TOOL_HOME": str(self.path), "LLM_TOOL_NON_INTERACTIVE": "1"}

    def cli(self, *args: str, **env: str) -> CliResult:
        return run_main(*args, env={**self.env(), **env}, cwd=self.path)

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def meta(self, ref: str) -> dict[str, Any]:
        return read_json(self.store.resolve(ref))


class History:
    """The shared history: A trained; B relaunched from A with a setting changed; A exported, imported on
    'another machine' and relaunched there on another data file (D)."""

    home: Home
    other_home: Home
    a: str
    b: str
    b_stderr: str
    imported: str
    d: str
    d_stderr: str
    export_file: Path
    reviews: Path
    other: Path
    other_local: Path


@pytest.fixture(scope="module")
def history(tmp_path_factory, tiny_model) -> History:
    from tests.conftest import SAMPLE_CSV

    h = History()
    root = tmp_path_factory.mktemp("history")
    h.home = Home(root / "home")
    (h.home.path / "data").mkdir(parents=True)
    shutil.copytree(tiny_model, h.home.path / "base_model")  # a model folder inside the home: exported relative
    rows = sample_rows(SAMPLE_CSV, 80)
    h.reviews = write_csv(h.home.path / "data" / "reviews.csv", rows[:20] + rows[40:60])
    h.other = write_csv(h.home.path / "data" / "other.csv", rows[20:40] + rows[60:80])
    config = write_config(h.home.path / "config.json", h.reviews, h.home.path / "base_model", num_threads=1)

    trained = h.home.cli("train", str(config), "--session-name", "baseline")
    assert trained.returncode == 0, trained.stderr[-3000:]
    h.a = h.home.meta("1")["training_session"]["session_id"]
    h.other_home = Home(root / "elsewhere")  # another machine: the same data and model inside its own home
    (h.other_home.path / "data").mkdir(parents=True)
    shutil.copytree(tiny_model, h.other_home.path / "base_model")
    local = shutil.copy(h.reviews, h.other_home.path / "data" / "reviews.csv")
    h.other_local = Path(shutil.copy(h.other, h.other_home.path / "data" / "other.csv"))
    with h.reviews.open("a", encoding="utf-8") as handle:  # here, the data changes after A ran
        handle.write("An extra line written later.,positive,amazon\n")
    h.export_file = root / "shared.json"
    exported = h.home.cli("sessions", "export", h.a, "-o", str(h.export_file))
    assert exported.returncode == 0, exported.stderr

    imported = h.other_home.cli("sessions", "import", str(h.export_file), "--dataset", str(local))
    assert imported.returncode == 0, imported.stderr
    assert "warning" not in imported.stderr  # the same data as A's
    h.imported = h.other_home.meta("1")["training_session"]["session_id"]

    relaunched = h.home.cli("sessions", "relaunch", h.a, "--set", "model_config.epochs=2")
    assert relaunched.returncode == 0, relaunched.stderr[-3000:]
    other = h.other_home.cli("sessions", "relaunch", h.imported, "--dataset", str(h.other_local),
                             "--session-name", "other")
    assert other.returncode == 0, other.stderr[-3000:]
    h.b_stderr, h.d_stderr = relaunched.stderr, other.stderr
    h.b = h.home.meta("1")["training_session"]["session_id"]
    h.d = h.other_home.meta("1")["training_session"]["session_id"]
    return h


# ----- sessions written for the case -------------------------------------------------------------------------

def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


@pytest.fixture
def busy_history(history) -> Home:
    """The shared history plus 22 older sessions written for the case (added once)."""
    store = history.home.store
    if len(store.files_newest_first()) == 2:
        fake_session(store, datetime(2024, 3, 1, 9, 0, 0), model="distilbert-base", dataset="/data/news.csv")
        for day in range(1, 21):
            fake_session(store, datetime(2024, 1, day, 10, 0, 0), best_f1=day / 100)
        fake_session(store, datetime(2024, 2, 1, 9, 0, 0), status="failed", model="roberta-large",
                     dataset="/data/tweets.csv", best_f1=None, error_message="CUDA out of memory")
        fake_session(store, datetime(2024, 2, 2, 9, 0, 0), status="running", model="roberta-large",
                     pid=_dead_pid(), pid_create_time=1.0, host=os.uname().nodename)  # its process is gone
    assert len(store.files_newest_first()) == 25
    return history.home


# ----- list ----------------------------------------------------------------------------------------------------

def test_list_shows_the_20_most_recent_newest_first(busy_history, history):
    home = busy_history
    rows = home.json("sessions", "list")
    assert [r["number"] for r in rows] == list(range(1, 21))
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert [r["session_id"] for r in rows[:2]] == [history.b, history.a]  # B was relaunched after A ran
    assert len(home.json("sessions", "list", "--all")) == 25
    assert [r["number"] for r in home.json("sessions", "list", "--limit", "4")] == [1, 2, 3, 4]
    a_row = next(r for r in rows if r["session_id"] == history.a)
    assert (a_row["mode"], a_row["dataset"], a_row["status"], a_row["name"]) == ("quick", "reviews.csv", "completed",
                                                                                  "baseline")
    assert a_row["model"].endswith("base_model") and isinstance(a_row["best_f1"], float)
    assert a_row["duration_seconds"] > 0

    table = home.cli("sessions", "list")
    assert table.returncode == 0, table.stderr
    header = next(line for line in table.stdout.splitlines() if "Date" in line)
    positions = [header.index(c) for c in ("#", "Date", "Name", "Data", "Model", "Status", "Val F1", "Test F1", "Time")]
    assert positions == sorted(positions)
    assert history.a not in table.stdout  # ids are not columns; dates are
    assert datetime.strptime(rows[0]["timestamp"], "%Y%m%d_%H%M%S").strftime("%Y-%m-%d %H:%M") in table.stdout
    assert "2024-01-01" not in table.stdout  # the 21st+ sessions are not shown by default
    bad = home.cli("sessions", "list", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr


def test_filters_keep_global_row_numbers_and_show_n_shows_that_row(busy_history):
    home = busy_history
    failed = home.json("sessions", "list", "--status", "failed")
    assert len(failed) == 1 and failed[0]["number"] == 5 and failed[0]["model"] == "roberta-large"
    shown = home.json("sessions", "show", "5")
    assert shown["training_session"]["session_id"] == failed[0]["session_id"]
    assert shown["execution_status"]["error_message"] == "CUDA out of memory"

    dead = home.json("sessions", "list", "--status", "interrupted")  # 'running' on file, process gone
    assert [r["number"] for r in dead] == [4]
    assert home.json("sessions", "list", "--status", "running") == []
    roberta = home.json("sessions", "list", "--model", "ROBERTA")
    assert [r["number"] for r in roberta] == [4, 5]
    tweets = home.json("sessions", "list", "--dataset", "tweets")
    assert [r["number"] for r in tweets] == [5]
    old = home.json("sessions", "list", "--model", "bert-base-uncased", "--limit", "3")
    assert [r["number"] for r in old] == [6, 7, 8]
    assert home.json("sessions", "show", "8")["training_session"]["session_id"] == old[2]["session_id"]
    everything = home.json("sessions", "list", "--all", "--model", "bert-base-uncased")
    assert [r["number"] for r in everything] == list(range(6, 26))
    table = home.cli("sessions", "list", "--status", "failed")
    line = next(line for line in table.stdout.splitlines() if "tweets.csv" in line)
    assert line.strip("│┃ ").startswith("5 ")  # the table shows the global number too


def test_show_by_number_id_and_name(history):
    home = history.home
    by_id = home.json("sessions", "show", history.a)
    by_name = home.json("sessions", "show", "baseline")
    number = next(r["number"] for r in home.json("sessions", "list") if r["session_id"] == history.a)
    by_number = home.json("sessions", "show", str(number))
    assert by_id == by_name == by_number
    assert by_id["training_session"]["session_name"] == "baseline"
    assert by_id["execution_status"]["status"] == "completed"
    assert by_id["dataset_config"]["primary_file_relative"] == "data/reviews.csv"
    assert len(by_id["dataset_config"]["fingerprint_sha256"]) == 64
    assert by_id["environment"]["torch"] and by_id["model_config"]["epochs"] == 1
    for section in ("training_session", "dataset_config", "language_config", "text_analysis", "model_config",
                    "execution_status", "output_paths", "environment"):
        assert by_id[section], section
    details = home.cli("sessions", "show", "baseline")
    assert details.returncode == 0 and "completed" in details.stdout and "test macro-F1" in details.stdout
    assert "Per class (test)" in details.stdout and "model_config.learning_rate" not in details.stdout
    everything = home.cli("sessions", "show", "baseline", "--all")
    assert everything.returncode == 0 and "model_config.learning_rate" in everything.stdout
    for name in ("12", "train_20250101_000000"):  # would be read as a number or an id
        refused = home.cli("train", str(home.path / "config.json"), "--session-name", name)
        assert refused.returncode == 2 and "--session-name" in refused.stderr
    missing = home.cli("sessions", "show", "no-such-session")
    assert missing.returncode == 2 and "no session" in missing.stderr and "Traceback" not in missing.stderr
    too_far = home.cli("sessions", "show", "999")
    assert too_far.returncode == 2 and "no session #999" in too_far.stderr


# ----- relaunch ------------------------------------------------------------------------------------------------

def test_relaunch_with_set_is_a_new_session_with_parent(history):
    a, b = history.home.meta(history.a), history.home.meta(history.b)
    assert b["training_session"]["parent_session"] == history.a
    assert b["execution_status"]["status"] == "completed"
    assert b["model_config"]["epochs"] == 2 and a["model_config"]["epochs"] == 1
    for key in ("batch_size", "learning_rate", "seed", "selected_model", "early_stopping"):
        assert b["model_config"][key] == a["model_config"][key], key
    # "auto" numerics are repeated as A ran them, so a relaunch computes the same way
    assert a["model_config"]["precision"] == "auto" and a["environment"]["precision"] in ("fp32", "bf16")
    assert b["model_config"]["precision"] == b["environment"]["precision"] == a["environment"]["precision"]
    assert b["model_config"]["attention"] == b["environment"]["attention"] == a["environment"]["attention"]
    assert b["dataset_config"]["primary_file"] == a["dataset_config"]["primary_file"]
    assert b["execution_status"]["current_step"] == 2 * a["execution_status"]["current_step"]
    assert Path(b["output_paths"]["model_dir"], "model.safetensors").is_file()
    # the data changed since A ran: the relaunch said so, and recorded the new fingerprint
    assert "changed since the session ran" in history.b_stderr and "sha256" in history.b_stderr
    assert b["dataset_config"]["fingerprint_sha256"] == file_sha256(history.reviews)
    assert b["dataset_config"]["fingerprint_sha256"] != a["dataset_config"]["fingerprint_sha256"]


def test_relaunch_with_dataset_uses_the_new_file(history):
    other = history.other_home
    d = other.meta(history.d)
    assert d["training_session"]["parent_session"] == history.imported
    assert d["training_session"]["session_name"] == "other"
    assert d["dataset_config"]["primary_file"] == str(history.other_local)
    assert d["dataset_config"]["fingerprint_sha256"] == file_sha256(history.other_local)
    assert d["execution_status"]["status"] == "completed"
    imported = other.meta(history.imported)["model_config"]
    chosen = [k for k in imported["auto"] if imported[k] == "auto"]  # what the run chose, recorded with reasons
    assert chosen and all(d["model_config"][k] == d["model_config"]["auto_settings"][k]["value"] for k in chosen)
    recorded = {k: d["model_config"][k] for k in ("max_length_used", "auto_settings", "time_budget_seconds",
                                                   "precision", "attention", "long_text_used", "long_text_reason",
                                                   *chosen)}
    assert d["model_config"] == {**imported, **recorded, "num_labels": 2}
    assert "changed since" not in history.d_stderr  # an explicit --dataset is not a surprise


def test_relaunch_when_the_data_moved_says_so_and_accepts_dataset(isolated_home, sample_csv):
    data = write_csv(isolated_home / "old.csv", sample_rows(sample_csv, 40))
    store = SessionStore()
    path = fake_session(store, datetime(2025, 5, 5, 5, 5, 5), dataset=str(data))
    store.update(path, lambda m: m.dataset_config.update(fingerprint_sha256=file_sha256(data)))
    moved = data.rename(isolated_home / "new.csv")
    result = run_main("sessions", "relaunch", "1")
    assert result.returncode == 2
    assert "old.csv" in result.stderr and "not there any more" in result.stderr and "--dataset" in result.stderr
    assert len(store.files_newest_first()) == 1  # nothing created
    missing = run_main("sessions", "relaunch", "1", "--dataset", str(isolated_home / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr
    bad_key = run_main("sessions", "relaunch", "1", "--dataset", str(moved), "--set", "model_config.epoch=2")
    assert bad_key.returncode == 2 and "model_config.epoch" in bad_key.stderr and "epochs" in bad_key.stderr
    assert len(store.files_newest_first()) == 1
    from llm_tool.sessions.operations import relaunch_config

    raw, warnings = relaunch_config(store, path, dataset=moved, sets=["model_config.epochs=2"])  # accepted
    assert raw["dataset_config"]["primary_file"] == str(moved) and raw["model_config"]["epochs"] == 2
    assert warnings == []
    # a changed file (same place) is found but flagged
    moved.rename(data)
    with data.open("a", encoding="utf-8") as handle:
        handle.write("one more,positive,amazon\n")
    raw, warnings = relaunch_config(store, path)
    assert raw["dataset_config"]["primary_file"] == str(data)
    assert len(warnings) == 1 and "changed since the session ran" in warnings[0]


# ----- export / import -----------------------------------------------------------------------------------------

def test_export_makes_paths_portable(history):
    text = history.export_file.read_text(encoding="utf-8")
    data = json.loads(text)
    assert str(history.home.path) not in text  # no path of this home left
    assert data["dataset_config"]["primary_file"] == "data/reviews.csv"
    assert "primary_file_relative" not in data["dataset_config"]
    assert data["model_config"]["selected_model"] == "base_model"
    for key in ("pid", "pid_create_time", "host", "heartbeat", "last_checkpoint", "best_model"):
        assert key not in data["execution_status"], key
    assert data["output_paths"] == {}
    assert data["training_session"]["session_id"] == history.a and data["training_session"]["exported_at"]
    assert data["execution_status"]["best_f1"] == history.home.meta(history.a)["execution_status"]["best_f1"]
    stdout = history.home.cli("sessions", "export", "baseline")
    assert stdout.returncode == 0 and json.loads(stdout.stdout)["model_config"] == data["model_config"]


def test_import_adds_a_session_that_relaunch_runs(history):
    other = history.other_home
    files = other.store.files_newest_first()
    assert len(files) == 2
    imported, ran = other.meta(history.imported), other.meta(history.d)
    assert imported["training_session"]["imported_from"] == history.a
    assert imported["training_session"]["notes"][-1].startswith(f"imported from {history.a}")
    assert imported["execution_status"]["status"] == "pending"
    assert imported["execution_status"]["imported_results"]["status"] == "completed"
    assert imported["dataset_config"]["primary_file"] == str(other.path / "data" / "reviews.csv")
    assert imported["model_config"]["selected_model"] == str(other.path / "base_model")
    a = history.home.meta(history.a)
    assert imported["dataset_config"]["fingerprint_sha256"] == a["dataset_config"]["fingerprint_sha256"]
    assert {k: v for k, v in imported["model_config"].items() if k != "selected_model"} == {
        k: "auto" if k in a["model_config"]["auto"] else v for k, v in a["model_config"].items()  # chosen again
        if k not in ("selected_model", "max_length_used", "num_labels", "auto_settings", "time_budget_seconds",
                     "long_text_used", "long_text_reason")}
    for value in imported["output_paths"].values():
        assert Path(value).is_relative_to(other.path)
    assert ran["training_session"]["parent_session"] == history.imported
    assert ran["execution_status"]["status"] == "completed"
    assert Path(ran["output_paths"]["model_dir"]).is_relative_to(other.path / "models")
    assert Path(ran["output_paths"]["model_dir"], "model.safetensors").is_file()
    listed = other.json("sessions", "list")
    assert [r["status"] for r in listed] == ["completed", "pending"]


def test_import_with_a_different_data_file_warns(isolated_home, history):
    local = shutil.copy(history.other, isolated_home / "mine.csv")  # not the data A was trained on
    result = run_main("sessions", "import", str(history.export_file), "--dataset", str(local))
    assert result.returncode == 0, result.stderr
    assert "not the data" in result.stderr and "sha256" in result.stderr
    missing = run_main("sessions", "import", str(history.export_file))  # data/reviews.csv is not in this home
    assert missing.returncode == 0  # added; relaunch will ask for the file
    relaunch = run_main("sessions", "relaunch", "1")
    assert relaunch.returncode == 2 and "--dataset" in relaunch.stderr
    not_json = isolated_home / "x.json"
    not_json.write_text("{oops")
    bad = run_main("sessions", "import", str(not_json))
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


# ----- compare, note ---------------------------------------------------------------------------------------------

def test_compare_shows_differences(history):
    home = history.home
    data = home.json("sessions", "compare", history.a, history.b, "baseline", "--all")
    assert data["sessions"] == [history.a, history.b, history.a]
    assert data["rows"]["model_config.epochs"] == [1, 2, 1]
    assert data["rows"]["model_config.batch_size"] == [8, 8, 8]
    synthetic = home.json("sessions", "list", "--model", "distilbert")[0]["session_id"]
    table = home.cli("sessions", "compare", history.a, history.b, synthetic)
    assert table.returncode == 0, table.stderr
    for sid in (history.a, history.b, synthetic):
        assert sid.removeprefix("train_") in table.stdout  # columns are headed by the id's date and time
    lines = table.stdout.splitlines()
    epochs = next(line for line in lines if "model.epochs" in line)
    primary = next(line for line in lines if "data.primary_file" in line)
    assert "* model.epochs" in epochs and "* data.primary_file" in primary  # differences are marked (coloured)
    assert "fingerprint_sha256" in table.stdout  # the data's fingerprint is compared too
    assert not any("model.seed" in line for line in lines)  # the same everywhere: only shown with --all
    everything = home.cli("sessions", "compare", history.a, history.b, synthetic, "--all").stdout.splitlines()
    seed = next(line for line in everything if "model.seed" in line)
    assert "*" not in seed
    coloured = home.cli("sessions", "compare", history.a, history.b, "--all", FORCE_COLOR="1", TERM="xterm")
    coloured_lines = coloured.stdout.splitlines()
    epochs_line = next(line for line in coloured_lines if "model.epochs" in line)
    batch_line = next(line for line in coloured_lines if "model.batch_size" in line)
    assert "33m" in epochs_line and "33m" not in batch_line  # differences in yellow, the rest plain


def test_note_is_kept(history):
    home = history.home
    before = home.meta(history.b)
    result = home.cli("sessions", "note", history.b, "good baseline for tweets")
    assert result.returncode == 0, result.stderr
    after = home.meta(history.b)
    assert after["training_session"]["notes"][-1].endswith("good baseline for tweets")
    after["training_session"]["notes"] = before["training_session"]["notes"]
    assert after == before  # nothing else changed


# ----- delete, clean -----------------------------------------------------------------------------------------

def test_delete_asks_and_refuses_without_a_terminal(isolated_home):
    store = SessionStore()
    paths = [fake_session(store, datetime(2025, 1, d, 8, 0, 0)) for d in (1, 2, 3)]
    log = store.log_path(store.read(paths[2]).session_id)
    log.write_text("training log\n")
    refused = run_main("sessions", "delete", "1")  # stdin is not a terminal: nobody to ask
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert all(p.exists() for p in paths) and log.exists()
    done = run_main("sessions", "delete", "1", "--yes")
    assert done.returncode == 0, done.stderr
    assert not paths[2].exists() and not log.exists() and paths[0].exists() and paths[1].exists()
    # a running session is not deleted
    running = store.read(paths[1])
    lock = HeldLock(store.run_lock_path(running.session_id))
    assert lock.acquire()
    try:
        store.update(paths[1], lambda m: setattr(m.execution_status, "status", "running"))
        busy = run_main("sessions", "delete", running.session_id, "--yes")
        assert busy.returncode == 2 and "running" in busy.stderr and paths[1].exists()
    finally:
        lock.release()
    # an unreadable file can be deleted on purpose
    paths[0].write_text("not json")
    listed = json.loads(run_main("sessions", "list", "--json").stdout)
    assert listed[-1]["status"] == "unreadable"
    gone = run_main("sessions", "delete", listed[-1]["session_id"], "--yes")
    assert gone.returncode == 0, gone.stderr
    assert not paths[0].exists()


def test_clean_older_than(isolated_home):
    store = SessionStore()
    old_a = fake_session(store, datetime(2024, 1, 1, 8, 0, 0))
    old_b = fake_session(store, datetime(2024, 1, 2, 8, 0, 0), status="failed")
    old_running = fake_session(store, datetime(2024, 1, 3, 8, 0, 0), status="running", pid=os.getpid(),
                               host=os.uname().nodename)
    recent = fake_session(store, datetime(2025, 1, 1, 8, 0, 0))
    long_ago = time.time() - 90 * 86400
    for path in (old_a, old_b, old_running):
        os.utime(path, (long_ago, long_ago))
    lock = HeldLock(store.run_lock_path(store.read(old_running).session_id))
    assert lock.acquire()
    try:
        asked = run_main("sessions", "clean", "--older-than", "30")
        assert asked.returncode == 2 and "--yes" in asked.stderr
        assert old_a.exists() and old_b.exists()
        none = run_main("sessions", "clean", "--older-than", "120", "--yes")
        assert none.returncode == 0 and "no session" in none.stdout
        done = run_main("sessions", "clean", "--older-than", "30", "--yes")
        assert done.returncode == 0, done.stderr
        assert "deleted 2 sessions" in done.stdout
        assert "is running" in done.stderr
    finally:
        lock.release()
    assert not old_a.exists() and not old_b.exists()
    assert old_running.exists() and recent.exists()
