"""Attacks on the session folder: one bad file is one unreadable row; nothing hangs, nothing stays running."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta, timezone

import pytest

from llm_tool.sessions import SessionStore
from llm_tool.sessions.lifecycle import effective_status
from tests.attack_helpers import SESSIONS, cli, one_error, session_files, write_session

GOOD = {"training_session": {"session_name": "good"}, "dataset_config": {"primary_file": "/d.csv"},
        "model_config": {"selected_model": "m"}, "execution_status": {"status": "completed"}}


def _bad_files(home):
    folder = home / SESSIONS
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "training_metadata_20250101_000001.json")
    write_session(home, "20250101_000002", None, raw='{"a":' * 100_000 + "1" + "}" * 100_000)
    write_session(home, "20250101_000003", None, raw="[" * 200 + "]" * 200)
    write_session(home, "20250101_000004", None, raw='{"x": "' + "a" * (6 * 2**20) + '"}')
    (folder / "training_metadata_20250101_000005.json").symlink_to(home / "nowhere.json")
    write_session(home, "20250101_000006", None, raw=b"\xff\xfe{}".decode("latin-1"))
    write_session(home, "20250101_000007", None, raw='{"execution_status": ' + "9" * 10_000 + "}")
    (folder / "training_metadata_20250101_000008.json").mkdir()
    write_session(home, "20250101_000009", GOOD)


def test_bad_files_are_unreadable_rows_and_the_rest_lists(capsys, isolated_home):
    _bad_files(isolated_home)
    rc, out, err = cli(capsys, "sessions", "list", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert len(rows) == 9
    assert rows[0]["status"] == "completed"
    assert [r["status"] for r in rows[1:]] == ["unreadable"] * 8
    rc, out, err = cli(capsys, "sessions", "list")
    assert rc == 0 and "Traceback" not in err
    for number in range(2, 10):
        one_error(cli(capsys, "sessions", "show", str(number)))
    rc, out, err = cli(capsys, "sessions", "clean", "--older-than", "0", "--yes")
    assert rc == 0 and "Traceback" not in err


@pytest.mark.parametrize("content", ['{"a":' * 100_000 + "1" + "}" * 100_000, "[" * 300 + "]" * 300])
def test_import_refuses_deep_files(capsys, tmp_path, isolated_home, content):
    path = tmp_path / "shared.json"
    path.write_text(content)
    one_error(cli(capsys, "sessions", "import", str(path)), "nests deeper")
    assert session_files(isolated_home) == []


def test_import_refuses_a_huge_file(capsys, tmp_path, isolated_home):
    path = tmp_path / "shared.json"
    with path.open("w") as handle:
        handle.write('{"dataset_config": {"primary_file": "d.csv"}, "pad": "')
        handle.write("a" * (20 * 2**20))
        handle.write('"}')
    one_error(cli(capsys, "sessions", "import", str(path)), "MiB")
    assert session_files(isolated_home) == []


def test_import_refuses_a_fifo(capsys, tmp_path):
    fifo = tmp_path / "shared.json"
    os.mkfifo(fifo)
    one_error(cli(capsys, "sessions", "import", str(fifo)), "not a regular file")


def test_dangling_symlink_can_be_shown_and_deleted(capsys, isolated_home):
    folder = isolated_home / SESSIONS
    folder.mkdir(parents=True)
    target = isolated_home / "elsewhere.json"
    link = folder / "training_metadata_20250101_000005.json"
    link.symlink_to(target)
    one_error(cli(capsys, "sessions", "show", "1"), "link to a missing file")
    rc, _out, err = cli(capsys, "sessions", "delete", "train_20250101_000005", "--yes")
    assert rc == 0, err
    assert not os.path.lexists(link)


def test_symlink_delete_removes_the_link_not_its_target(capsys, isolated_home):
    target = isolated_home / "precious.json"
    target.write_text(json.dumps(GOOD))
    folder = isolated_home / SESSIONS
    folder.mkdir(parents=True)
    (folder / "training_metadata_20250101_000005.json").symlink_to(target)
    rc, _, err = cli(capsys, "sessions", "delete", "1", "--yes")
    assert rc == 0, err
    assert target.read_text() == json.dumps(GOOD)


@pytest.mark.parametrize("status", [
    {"pid": 1},  # init: alive, never ours
    {"pid": os.getpid(), "host": socket.gethostname()},  # alive, this host, no run lock
    {"pid": 1, "pid_create_time": 0.0},
    {"pid": "1"}, {"pid": 2**80}, {"pid": -5},
    {"host": "far.invalid", "heartbeat": (datetime.now(timezone.utc) + timedelta(days=3650)).isoformat()},
    {"host": "far.invalid", "heartbeat": "not a date"},
])
def test_hand_written_running_session_is_not_running(capsys, isolated_home, status):
    write_session(isolated_home, "20250101_000001",
                  {**GOOD, "execution_status": {"status": "running", **status}})
    store = SessionStore()
    meta = store.read(session_files(isolated_home)[0])
    assert effective_status(store, meta) == "interrupted"
    _rc, out, _ = cli(capsys, "sessions", "list", "--json")
    assert json.loads(out)[0]["status"] == "interrupted"


def test_sessions_folder_that_is_a_file(capsys, isolated_home):
    (isolated_home / "logs").mkdir()
    (isolated_home / "logs" / "training_sessions").write_text("not a folder")
    one_error(cli(capsys, "sessions", "list"), "sessions folder")
