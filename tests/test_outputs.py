"""Every file written for a user goes through llm_tool.outputs: never through a link, never onto an input or into
logs/ and models/, an existing file only with --force, atomically; CSV cells made spreadsheet-safe on request."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from llm_tool import outputs
from llm_tool.errors import OutputError
from llm_tool.sessions import SessionStore
from tests.helpers import run_main


@pytest.fixture
def victim(isolated_home: Path, trained) -> Path:
    """A real session file of this home (a copy of the trained one): what a planted link points at."""
    folder = isolated_home / "logs" / "training_sessions"
    folder.mkdir(parents=True)
    return Path(shutil.copy2(trained.session_file, folder / trained.session_file.name))


def _intact(session: Path, before: bytes) -> None:
    assert session.read_bytes() == before
    assert SessionStore().read(session).session_id


def _one_line_error(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    for word in words:
        assert word in " ".join(result.stderr.split()), result.stderr


def _texts(folder: Path, rows: list[str]) -> Path:
    path = folder / "texts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text"], *[[r] for r in rows]])
    return path


def test_infer_output_link_to_a_session_file_is_refused_and_the_session_stays(trained, victim, isolated_home):
    before = victim.read_bytes()
    link = isolated_home / "out.csv"
    link.symlink_to(victim)
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(_texts(isolated_home, ["a"])),
                      "--output", str(link), "--force")
    _one_line_error(result, "symbolic link")
    _intact(victim, before)
    assert link.is_symlink()


def test_infer_output_equal_to_input_is_refused_even_with_force(trained, isolated_home):
    source = _texts(isolated_home, ["great phone", "bad"])
    before = source.read_bytes()
    for extra in ([], ["--force"]):
        result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source),
                          "--output", str(isolated_home / "." / "texts.csv"), *extra)
        _one_line_error(result, "input")
        assert source.read_bytes() == before


def test_infer_existing_output_needs_force_then_is_replaced(trained, isolated_home):
    source = _texts(isolated_home, ["great phone"])
    out = isolated_home / "pred.csv"
    out.write_text("keep me\n")
    out.chmod(0o640)
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source), "--output", str(out))
    _one_line_error(result, "--force")
    assert out.read_text() == "keep me\n"
    result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source), "--output", str(out),
                      "--force")
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("text,predicted_label")
    assert out.stat().st_mode & 0o777 == 0o640
    assert not [p for p in isolated_home.iterdir() if p.name.endswith(".tmp")]


def test_infer_output_inside_logs_or_models_is_refused(trained, victim, isolated_home):
    source = _texts(isolated_home, ["great phone"])
    for target in (victim.parent / "p.csv", isolated_home / "models" / "new" / "p.csv"):
        result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source),
                          "--output", str(target))
        _one_line_error(result, "choose another place")
        assert not target.exists()
    assert not (isolated_home / "models").exists()


def test_report_into_a_folder_with_a_report_html_link_writes_nothing(trained, isolated_home, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    folder = isolated_home / "rep"
    folder.mkdir()
    (folder / "report.html").symlink_to(outside)
    result = run_main("report", str(trained.model_dir), "-o", str(folder), "--force")
    _one_line_error(result, "symbolic link")
    assert outside.read_text() == "keep me"
    assert [p.name for p in folder.iterdir()] == ["report.html"]  # no figure written before the refusal


def test_report_again_needs_force_and_its_folder_cannot_be_a_session_folder(trained, victim, isolated_home):
    folder = isolated_home / "rep"
    assert run_main("report", str(trained.model_dir), "-o", str(folder)).returncode == 0
    assert (folder / "report.html").is_file() and list(folder.glob("*.png"))
    _one_line_error(run_main("report", str(trained.model_dir), "-o", str(folder)), "--force")
    assert run_main("report", str(trained.model_dir), "-o", str(folder), "--force").returncode == 0
    linked = isolated_home / "sessions_link"
    linked.symlink_to(victim.parent)  # a link to logs/training_sessions: the real place is what counts
    before = victim.read_bytes()
    _one_line_error(run_main("report", str(trained.model_dir), "-o", str(linked)), "choose another place")
    assert sorted(p.name for p in victim.parent.iterdir()) == [victim.name]
    _intact(victim, before)


def test_export_through_a_link_onto_the_session_is_refused(victim, isolated_home):
    before = victim.read_bytes()
    link = isolated_home / "shared.json"
    link.symlink_to(victim)
    _one_line_error(run_main("sessions", "export", "1", "-o", str(link), "--force"), "symbolic link")
    _intact(victim, before)
    out = isolated_home / "x.json"
    assert run_main("sessions", "export", "1", "-o", str(out)).returncode == 0
    _one_line_error(run_main("sessions", "export", "1", "-o", str(out)), "--force")
    assert run_main("sessions", "export", "1", "-o", str(out), "--force").returncode == 0


def test_safe_csv_prefixes_formula_cells_only_when_asked(trained, isolated_home):
    hostile = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\tx", "plain"]
    source = _texts(isolated_home, hostile)
    for flag, expected in ((["--safe-csv"], ["'" + h for h in hostile[:5]] + ["plain"]), ([], hostile)):
        out = isolated_home / f"p{len(flag)}.csv"
        result = run_main("infer", "--model-dir", str(trained.model_dir), "--input", str(source), "--output",
                          str(out), *flag)
        assert result.returncode == 0, result.stderr
        with out.open(newline="", encoding="utf-8") as handle:
            assert [row["text"] for row in csv.DictReader(handle)] == expected


# ----- the writer itself -----------------------------------------------------------------------------------------
def test_writer_creates_missing_folders_and_leaves_no_temp_file_on_failure(isolated_home, tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    outputs.write_text(target, "x")
    assert target.read_text() == "x"
    with pytest.raises(ZeroDivisionError), outputs.open_text(tmp_path / "a" / "c.txt") as handle:
        handle.write("partial")
        raise ZeroDivisionError
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]


def test_writer_refuses_a_fifo_a_folder_and_a_file_as_parent(isolated_home, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "fifo", tmp_path / "dir", tmp_path / "file" / "out.csv"):
        with pytest.raises(OutputError):
            outputs.write_text(target, "y", outputs.Rules(force=True))
    assert (tmp_path / "file").read_text() == "x"


def test_the_tool_may_write_in_the_folder_it_owns(isolated_home):
    own = isolated_home / "models" / "train_20250101_000000" / "report"
    outputs.write_files(own, {"report.html": b"<p>"}, outputs.Rules(owned=own))
    with pytest.raises(OutputError):
        outputs.write_files(own.parent, {"x.html": b"<p>"}, outputs.Rules(owned=own))


def test_spreadsheet_safe():
    assert [outputs.spreadsheet_safe(v) for v in ("=1", "\r", "a=1", "", -1.5, None)] == \
        ["'=1", "'\r", "a=1", "", -1.5, None]


def test_sweep_report_replaces_its_files_only_with_force_and_never_through_a_link(isolated_home, tmp_path):
    from llm_tool.sweeps.report import write_report
    from tests.sweep_helpers import fake_finished_session, fake_state

    data = isolated_home / "data.csv"
    data.write_text("text,label\ngood,positive\nbad,negative\n", encoding="utf-8")
    store = SessionStore(isolated_home)
    path, sid = fake_finished_session(store, data, model="org/m", macro_f1=0.7)
    state = fake_state(isolated_home, "s", [(path, sid, "m")])
    from llm_tool.sweeps.ranking import ranking

    out = tmp_path / "rep"
    write_report(state, ranking(state, store), out)
    with pytest.raises(OutputError, match="--force"):
        write_report(state, ranking(state, store), out)
    write_report(state, ranking(state, store), out, force=True)
    (tmp_path / "precious.txt").write_text("keep me")
    (out / "s.md").unlink()
    (out / "s.md").symlink_to(tmp_path / "precious.txt")
    with pytest.raises(OutputError, match="symbolic link"):
        write_report(state, ranking(state, store), out, force=True)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
