"""The session store: atomic writes, two writers without lost updates, same-second ids, the reference file,
unreadable files kept and shown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from llm_tool.atomic import write_json_atomic
from llm_tool.errors import SessionError
from llm_tool.sessions import SCHEMA_VERSION, SessionMetadata, SessionStore
from tests.helpers import ROOT, read_json, run_main, sample_rows, wait_until, write_csv

REFERENCE = ROOT / "tests" / "data" / "reference_training_metadata.json"
REFERENCE_ID = "train_20251005_234530"


def _sessions_dir(home: Path) -> Path:
    folder = home / "logs" / "training_sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _python(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, stderr=subprocess.PIPE)


# ----- atomic writes --------------------------------------------------------------------------------------------

def test_atomic_write_uses_fsynced_temp_file_in_same_folder_then_replace(tmp_path, monkeypatch):
    target = tmp_path / "meta" / "training_metadata_20250101_000000.json"
    write_json_atomic(target, {"version": 0})
    first_inode = target.stat().st_ino
    calls: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd: int) -> None:  # stdlib spies that call through, to see the order of operations
        calls.append(("fsync", str(Path(f"/proc/self/fd/{fd}").readlink()) if Path("/proc/self/fd").exists() else fd))
        real_fsync(fd)

    def spy_replace(src: str, dst: object) -> None:
        calls.append(("replace", (str(src), str(dst))))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    write_json_atomic(target, {"version": 1, "text": "é" * 1000})
    monkeypatch.undo()

    replaces = [c for c in calls if c[0] == "replace"]
    assert len(replaces) == 1
    src, dst = replaces[0][1]
    assert Path(src).parent == target.parent and Path(src).name.endswith(".tmp")  # temp file in the same folder
    assert dst == str(target)
    index = calls.index(replaces[0])
    assert ("fsync", src) in calls[:index], calls  # the temp file's data is on disk before the rename
    assert read_json(target) == {"version": 1, "text": "é" * 1000}
    assert target.stat().st_ino != first_inode  # replaced, never rewritten in place
    assert _leftovers(target.parent) == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file, not mkstemp's 0600


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "training_metadata_20250101_000000.json"
    write_json_atomic(target, {"ok": True})
    with pytest.raises(UnicodeEncodeError):
        write_json_atomic(target, {"bad": "\ud800"})  # a lone surrogate cannot be encoded: fails mid-write
    assert read_json(target) == {"ok": True}
    assert _leftovers(tmp_path) == []


KILLED_WRITER = """
import sys
from pathlib import Path
from llm_tool.atomic import write_json_atomic
target = Path(sys.argv[1])
i = 0
while True:
    write_json_atomic(target, {"i": i, "payload": ["x" * 100] * 2000})
    i += 1
    if i == 20:
        Path(sys.argv[2]).touch()
"""


def test_writer_killed_mid_write_leaves_valid_file_and_no_listed_temp(isolated_home):
    folder = _sessions_dir(isolated_home)
    target = folder / "training_metadata_20250101_000000.json"
    started = folder.parent / "started"
    proc = _python(KILLED_WRITER, str(target), str(started))
    try:
        wait_until(lambda: started.exists() or proc.poll() is not None, timeout=60, what="20 writes")
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)  # at whatever point of a write it is
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = read_json(target)  # whatever the moment of the kill: the old or the new file, whole
    assert data["i"] >= 3 and len(data["payload"]) == 2000
    store = SessionStore()
    assert store.files_newest_first() == [target]  # a temp file left by the kill is never taken for a session


# ----- two writers ------------------------------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from llm_tool.sessions.store import SessionStore
home, path, name, count, go = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
store = SessionStore(home)
Path(str(go) + "." + name).touch()  # ready
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    def change(meta, i=i):
        extra = meta.execution_status.extra
        extra[name + "_count"] = extra.get(name + "_count", 0) + 1
        extra[name + "_last"] = i
        if name == "a":
            meta.execution_status.current_step = i
        else:
            meta.training_session.notes = ["b wrote %d" % i]
    store.update(path, change)
"""


def test_two_processes_500_updates_each_lose_nothing_and_readers_always_parse(isolated_home):
    store = SessionStore()
    path = store.create(SessionMetadata(dataset_config={"primary_file": "x.csv"}, model_config={"epochs": 1}))
    go = isolated_home / "go"
    writers = [_python(WRITER, str(isolated_home), str(path), name, "500", str(go)) for name in ("a", "b")]
    reads, bad = 0, []
    try:
        wait_until(lambda: all(Path(f"{go}.{name}").exists() for name in "ab"), timeout=60, what="both writers")
        go.touch()
        deadline = time.monotonic() + 120
        while any(w.poll() is None for w in writers):
            assert time.monotonic() < deadline, "writers did not finish in time"
            text = path.read_text(encoding="utf-8")
            try:
                json.loads(text)
                store.read(path)
            except (ValueError, SessionError) as exc:  # pragma: no cover - the failure being tested
                bad.append(f"{exc}: {text[:80]!r}")
            reads += 1
            time.sleep(0.001)
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
    for w in writers:
        assert w.wait(timeout=10) == 0, w.stderr.read().decode() if w.stderr else ""
    assert bad == []
    assert reads > 10  # the reader really polled while both wrote
    final = read_json(path)
    extra = final["execution_status"]
    assert (extra["a_count"], extra["b_count"]) == (500, 500)  # no lost update
    assert (extra["a_last"], extra["b_last"]) == (499, 499)
    assert final["execution_status"]["current_step"] == 499
    assert final["training_session"]["notes"] == ["b wrote 499"]
    assert final["model_config"] == {"epochs": 1}
    assert _leftovers(path.parent) == []


# ----- ids ---------------------------------------------------------------------------------------------------------

def test_sessions_created_in_the_same_second_get_suffixes(isolated_home):
    store = SessionStore()
    now = datetime(2025, 3, 4, 5, 6, 7)
    paths = [store.create(SessionMetadata(model_config={"n": n}), now=now) for n in range(11)]
    ids = [store.read(p).session_id for p in paths]
    assert ids[:3] == ["train_20250304_050607", "train_20250304_050607_2", "train_20250304_050607_3"]
    assert paths[1].name == "training_metadata_20250304_050607_2.json"
    assert len(set(ids)) == 11
    later = store.create(SessionMetadata(), now=datetime(2025, 3, 4, 5, 6, 8))
    newest = store.files_newest_first()
    assert newest[0] == later
    assert newest[1:] == paths[::-1]  # _11 after _10 after _9 ...: numeric, not alphabetic
    assert store.resolve("2") == paths[-1] and store.resolve("train_20250304_050607_2") == paths[1]


CREATOR = """
import sys, time
from datetime import datetime
from pathlib import Path
from llm_tool.sessions import SessionMetadata, SessionStore
store, go = SessionStore(Path(sys.argv[1])), Path(sys.argv[2])
Path(str(go) + "." + sys.argv[3]).touch()  # ready
while not go.exists():
    time.sleep(0.002)
for n in range(15):
    store.create(SessionMetadata(model_config={"who": sys.argv[3], "n": n}), now=datetime(2025, 3, 4, 5, 6, 7))
"""


def test_two_processes_creating_in_the_same_second_never_share_a_file(isolated_home):
    go = isolated_home / "go"
    creators = [_python(CREATOR, str(isolated_home), str(go), who) for who in ("a", "b")]
    wait_until(lambda: all(Path(f"{go}.{who}").exists() for who in "ab"), timeout=60, what="both creators")
    go.touch()
    for proc in creators:
        assert proc.wait(timeout=60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    store = SessionStore()
    files = store.files_newest_first()
    assert len(files) == 30
    seen = {(m.model_config["who"], m.model_config["n"]) for m in map(store.read, files)}
    assert len(seen) == 30  # every session kept its own file
    assert all(store.read(p).session_id.startswith("train_20250304_050607") for p in files)


class CountingStore(SessionStore):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def read_raw(self, path: Path) -> dict:
        self.opened.append(path.name)
        return super().read_raw(path)


def test_listing_the_most_recent_opens_only_those_files(isolated_home):
    from llm_tool.sessions.summaries import list_rows

    store = CountingStore()
    paths = [store.create(SessionMetadata(model_config={"n": n}), now=datetime(2025, 1, 1 + n // 24, n % 24))
             for n in range(60)]
    for path in paths[:30]:  # the 30 oldest cannot even be parsed: the listing never gets to them
        path.write_text("{", encoding="utf-8")
    rows = list_rows(store, limit=20)
    assert [r["number"] for r in rows] == list(range(1, 21))
    assert [r["session_id"] for r in rows] == [store.read(p).session_id for p in paths[::-1][:20]]
    assert store.opened[:20] == [p.name for p in paths[::-1][:20]]
    assert len(store.opened) == 40  # 20 for the rows, 20 by the check above: none of the other 40 files
    assert all(r.get("error") is None for r in rows)


# ----- the reference tool's file ------------------------------------------------------------------------------

def _install_reference(home: Path) -> Path:
    target = _sessions_dir(home) / "training_metadata_20251005_234530.json"
    shutil.copy(REFERENCE, target)
    return target


def test_reference_file_is_listed_and_shown(isolated_home):
    _install_reference(isolated_home)
    rows = json.loads(run_main("sessions", "list", "--json").stdout)
    assert len(rows) == 1
    row = rows[0]
    assert (row["number"], row["session_id"], row["status"]) == (1, REFERENCE_ID, "completed")
    assert (row["best_f1"], row["mode"], row["model"], row["dataset"]) == (0.89, "quick", "camembert-base",
                                                                          "annotated_data.csv")
    assert row["duration_seconds"] == pytest.approx(612.67, abs=0.01)

    table = run_main("sessions", "list", env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    for text in ("2025-10-05 23:45", "annotated_data.csv", "camembert-base", "completed", "0.890", "10m12s"):
        assert text in table.stdout

    shown = run_main("sessions", "show", REFERENCE_ID, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["execution_status"]["best_f1"] == 0.89
    assert data["language_config"]["language_model_mapping"] == {}
    details = run_main("sessions", "show", "1", env={"COLUMNS": "200"})
    assert details.returncode == 0, details.stderr
    assert "camembert-base" in details.stdout and "validation macro-F1" in details.stdout and "0.8900" in details.stdout
    everything = run_main("sessions", "show", "1", "--all", env={"COLUMNS": "200"})
    assert "model_config.selected_model" in everything.stdout


def test_update_of_reference_file_keeps_unknown_fields(isolated_home):
    path = _install_reference(isolated_home)
    result = run_main("sessions", "note", "1", "checked by hand")
    assert result.returncode == 0, result.stderr
    data = read_json(path)
    original = read_json(REFERENCE)
    assert data["language_config"]["language_model_mapping"] == {}
    assert data["output_paths"]["results_csv"] == "/path/to/results.csv"
    assert data["text_analysis"]["avg_token_length"] == 350 and data["text_analysis"]["max_token_length"] == 1024
    assert data["dataset_config"] == original["dataset_config"]  # training_files etc. untouched
    assert data["model_config"]["recommended_model"] == "camembert-base"
    for section, values in original.items():  # every field of the reference survives, unchanged
        for key, value in values.items():
            assert data[section][key] == value, f"{section}.{key}"
    assert data["training_session"]["notes"][-1].endswith("checked by hand")
    assert data["training_session"]["schema_version"] == SCHEMA_VERSION


def test_relaunch_reference_offline_fails_with_one_line_and_marks_failed(isolated_home, sample_csv):
    _install_reference(isolated_home)
    data = write_csv(isolated_home / "annotated.csv", sample_rows(sample_csv, 40))
    moved = run_main("sessions", "relaunch", REFERENCE_ID)
    assert moved.returncode == 2
    assert "annotated_data.csv" in moved.stderr and "--dataset" in moved.stderr
    assert len(SessionStore().files_newest_first()) == 1  # nothing created

    result = run_main("sessions", "relaunch", REFERENCE_ID, "--dataset", str(data), env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: cannot load model 'camembert-base'"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    store = SessionStore()
    new = store.read(store.resolve("1"))
    assert new.session_id != REFERENCE_ID
    assert new.training_session.parent_session == REFERENCE_ID
    assert new.status == "failed"
    assert new.execution_status.error_message.startswith("cannot load model 'camembert-base'")
    assert new.model_config["epochs"] == 10 and new.model_config["learning_rate"] == 2e-5
    assert new.dataset_config["primary_file"] == str(data)
    assert read_json(store.resolve("2"))["execution_status"]["status"] == "completed"  # the source is untouched


# ----- unreadable files ---------------------------------------------------------------------------------------

def test_invalid_json_is_listed_as_unreadable_with_reason_and_never_deleted(isolated_home):
    folder = _sessions_dir(isolated_home)
    _install_reference(isolated_home)
    broken = folder / "training_metadata_20260101_120000.json"
    broken.write_text('{"training_session": {"timestamp": ', encoding="utf-8")
    odd = folder / "training_metadata_20250101_120000.json"  # valid JSON, odd types: still listed, no crash
    odd.write_text(json.dumps({"training_session": {"timestamp": 5, "session_name": ["x"], "schema_version": "2",
                                                    "notes": "legacy text"},
                               "dataset_config": {"primary_file": 7}, "model_config": {"selected_model": {"a": 1},
                               "training_mode": "[/bold]"},
                               "execution_status": {"status": "completed", "best_f1": "high",
                                                    "duration_seconds": "long", "started_at": 3}}))

    rows = json.loads(run_main("sessions", "list", "--json").stdout)
    assert [r["number"] for r in rows] == [1, 2, 3]
    assert rows[0]["file"] == broken.name and rows[0]["status"] == "unreadable"
    assert "not valid JSON" in rows[0]["error"] and "line 1" in rows[0]["error"]
    assert rows[1]["session_id"] == REFERENCE_ID and rows[1]["status"] == "completed"
    assert rows[2]["status"] == "completed" and rows[2]["best_f1"] is None

    table = run_main("sessions", "list", env={"COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    assert "unreadable" in table.stdout and broken.name in table.stdout
    assert "not valid JSON" in table.stdout  # the reason is shown, not cut off
    only = json.loads(run_main("sessions", "list", "--status", "unreadable", "--json").stdout)
    assert [r["number"] for r in only] == [1]

    shown = run_main("sessions", "show", "1")
    assert shown.returncode == 2 and "not valid JSON" in shown.stderr and "Traceback" not in shown.stderr
    relaunch = run_main("sessions", "relaunch", "1")
    assert relaunch.returncode == 2 and "not valid JSON" in relaunch.stderr

    noted = run_main("sessions", "note", "3", "odd but readable")
    assert noted.returncode == 0, noted.stderr
    notes = read_json(odd)["training_session"]["notes"]
    assert notes[0] == "legacy text" and notes[1].endswith("odd but readable")

    old = time.time() - 400 * 86400
    for path in (broken, odd):
        os.utime(path, (old, old))
    cleaned = run_main("sessions", "clean", "--older-than", "30", "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    assert broken.exists()  # never dropped by a clean
    assert "kept" in cleaned.stderr and broken.name in cleaned.stderr
    assert not odd.exists()  # a readable old session is cleaned
    assert broken.read_text(encoding="utf-8") == '{"training_session": {"timestamp": '
