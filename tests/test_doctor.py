"""`llm-tool doctor`: the checks as plain data, the JSON output and the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_tool.doctor.checks import Check, check_disk, check_tmux, run_checks, worst
from tests.helpers import run_main

NAMES = ["python", "torch", "transformers", "tmux", "device", "disk", "memory", "models", "experiment trackers"]


def test_checks_are_plain_records(isolated_home: Path) -> None:
    checks = run_checks(isolated_home)
    assert [c.name for c in checks] == NAMES
    for check in checks:
        assert check.status in ("ok", "warning", "problem")
        assert check.detail
        assert check.status == "ok" or check.fix, f"{check.name}: a warning or problem must say how to fix it"
    by_name = {c.name: c for c in checks}
    assert "all-MiniLM-L6-v2" in by_name["models"].detail  # the bundled model
    assert "cores" in by_name["device"].detail
    assert str(isolated_home) in by_name["disk"].detail
    json.dumps([c.to_dict() for c in checks])


def test_missing_tmux_is_a_warning_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no tmux on the PATH
    check = check_tmux()
    assert check.status == "warning" and "not installed" in check.detail
    assert check.fix and "apt install tmux" in check.fix


def test_disk_check_names_the_home(tmp_path: Path) -> None:
    check = check_disk(tmp_path / "not-created-yet")
    assert check.name == "disk" and "free in" in check.detail


def test_worst_status() -> None:
    assert worst([]) == "ok"
    assert worst([Check("a", "ok", "x"), Check("b", "warning", "y", "z")]) == "warning"
    assert worst([Check("a", "problem", "x", "f"), Check("b", "warning", "y", "z")]) == "problem"


def test_doctor_json_and_table(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main("doctor", "--json")
    data = json.loads(result.stdout)
    assert [c["name"] for c in data["checks"]] == NAMES
    assert set(data["checks"][0]) == {"name", "status", "detail", "fix"}
    assert result.returncode == (1 if data["status"] == "problem" else 0)

    from llm_tool.cli import main

    assert main(["doctor"]) == result.returncode
    out = capsys.readouterr().out
    assert "Environment check" in out and "transformers" in out
