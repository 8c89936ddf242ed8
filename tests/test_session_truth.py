"""Issue 20 §4/§5: one typed session read per run, status written only through the transitions, and settings
that tell the truth (`auto` until the run chooses, then the value and its reason)."""

from __future__ import annotations

import ast
import inspect
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from llm_tool.cli import main
from llm_tool.sessions import SessionMetadata
from llm_tool.sessions.store import SessionStore
from tests.helpers import read_json, run_main, sample_rows, session_files, write_csv

PACKAGE = Path(__file__).resolve().parents[1] / "llm_tool"


def _config(home: Path, data: Path, model: Path, **model_config: object) -> Path:
    path = home / "cfg.json"
    path.write_text(json.dumps({"dataset_config": {"primary_file": str(data)},
                                "model_config": {"selected_model": str(model), "early_stopping": False,
                                                 **model_config}}))
    return path


# ----- §5: settings that tell the truth ---------------------------------------------------------------------------

def _show(ref: str, *flags: str) -> str:
    result = run_main("sessions", "show", ref, *flags)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


def _saved(home: Path, data: Path, model: Path, **model_config: object) -> Path:
    """A session saved to run later (the studio's "save", `sessions import`): created, never started."""
    from llm_tool.sessions.create import create_session

    path, _ = create_session(SessionStore(), read_json(_config(home, data, model, **model_config)), base_dir=home)
    return path


def test_a_pending_session_shows_auto_then_the_chosen_value(isolated_home: Path, sample_csv: Path,
                                                            tiny_model: Path) -> None:
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 40))
    path = _saved(isolated_home, data, tiny_model, batch_size=8, early_stopping_patience=1, preset="quick")
    model = read_json(path)["model_config"]
    assert model["learning_rate"] == "auto" and model["epochs"] == "auto"  # never the 5e-5 / 3 that will not run
    assert model["batch_size"] == 8 and model["auto"] == ["learning_rate", "epochs"]
    assert read_json(path)["training_session"]["schema_version"] == 3
    shown = _show("1")
    assert "learning_rate │ auto (chosen when the run starts)" in shown and "batch_size │ 8" in shown
    assert "model_config.learning_rate │ auto" in _show("1", "--all") and "5e-05" not in _show("1", "--all")
    assert main(["sessions", "resume", "1"]) == 0  # a saved session simply starts
    model = read_json(path)["model_config"]
    assert model["learning_rate"] == 1e-4 and model["epochs"] == 2
    assert "small model" in model["auto_settings"]["learning_rate"]["why"]
    shown = _show("1")
    assert "learning_rate │ 0.0001 (auto: small model" in shown and "epochs │ 2 (auto: " in shown
    assert "model_config.learning_rate │ 0.0001" in _show("1", "--all")


def _version2(home: Path, data: Path, model: Path, *, status: str, chosen: dict[str, Any] | None) -> Path:
    """A session file as version 2 wrote it: the field defaults stand where the run chooses (``auto`` lists them);
    once run, the chosen values there too, and in ``auto_settings`` with the reasons."""
    values = {"learning_rate": 5e-5, "epochs": 3, **{k: v["value"] for k, v in (chosen or {}).items()}}
    meta = SessionMetadata(
        dataset_config={"primary_file": str(data), "text_column": "text", "label_column": "label",
                        "strategy": "single-label", "format": "auto"},
        model_config={"selected_model": str(model), "training_mode": "quick", "batch_size": 8,
                      "early_stopping": False, "early_stopping_patience": 2, "seed": 42, "precision": "fp32",
                      "auto": ["learning_rate", "epochs"], **values,
                      **({"auto_settings": chosen} if chosen else {})})
    meta.training_session.schema_version = 2
    meta.execution_status.status = status  # a file as an older version wrote it
    return SessionStore().create(meta, now=datetime(2025, 3, 3, 3, 3, 3))


def test_an_old_pending_session_shows_auto_and_chooses_as_before(isolated_home: Path, sample_csv: Path,
                                                                 tiny_model: Path) -> None:
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 40))
    path = _version2(isolated_home, data, tiny_model, status="pending", chosen=None)
    shown = _show("1")
    assert "learning_rate │ auto (chosen when the run starts)" in shown and "5e-05" not in shown
    assert "model_config.learning_rate │ auto" in _show("1", "--all")
    assert main(["sessions", "resume", "1", "--time-budget", "10m"]) == 0
    model = read_json(path)["model_config"]
    assert model["learning_rate"] == 1e-4 and set(model["auto_settings"]) == {"learning_rate", "epochs"}


def test_relaunch_repeats_the_values_the_run_chose(isolated_home: Path, sample_csv: Path, tiny_model: Path) -> None:
    """A completed version-2 session chose learning_rate 3e-4 and 1 epoch: its relaunch runs those (the tool
    would choose 1e-4 and more epochs today), `--set ...=auto` lets it choose again."""
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 40))
    chosen = {"learning_rate": {"value": 3e-4, "why": "then"}, "epochs": {"value": 1, "why": "then"}}
    old = _version2(isolated_home, data, tiny_model, status="completed", chosen=chosen)
    from llm_tool.sessions.operations import relaunch_config

    again, _ = relaunch_config(SessionStore(), old, sets=["model_config.learning_rate=auto"])
    assert again["model_config"]["learning_rate"] == "auto" and again["model_config"]["auto"] == ["learning_rate"]
    assert main(["sessions", "relaunch", "1"]) == 0
    new = next(p for p in session_files(isolated_home) if p != old)
    model = read_json(new)["model_config"]
    assert model["learning_rate"] == 3e-4 and model["epochs"] == 1 and model["auto"] == []
    assert "auto_settings" not in model
    sid = read_json(new)["training_session"]["session_id"]
    metrics = read_json(isolated_home / "models" / sid / "metrics.json")
    assert metrics["global_step"] == 4 and metrics["epochs_trained"] == 1  # 32 training rows, batches of 8


# ----- §4: status written only through the transitions -----------------------------------------------------------

STATUS_FIELDS = {"status", "interrupt_reason"}
OTHER_OBJECTS = {"job", "row"}  # a sweep's or tmux job's own status, a leaderboard row: not a session's
ALLOWED = {
    ("sessions/transitions.py", "*"),
    ("cli/sessions_cmd.py", "status"),  # the --json output shows the reconciled status: a copy, never the file
}


def status_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, field) of every assignment to a session's ``status``/``interrupt_reason``: ``x.status = ...`` (also
    in tuples and augmented), ``setattr(x, "status", ...)`` and ``...["execution_status"]["status"] = ...``."""
    found: list[tuple[int, str]] = []

    def check(target: ast.expr) -> None:
        if isinstance(target, ast.Tuple):
            for element in target.elts:
                check(element)
        elif isinstance(target, ast.Attribute) and target.attr in STATUS_FIELDS:
            owner = target.value
            if not (isinstance(owner, ast.Name) and owner.id in OTHER_OBJECTS):
                found.append((target.lineno, target.attr))
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) \
                and target.slice.value in STATUS_FIELDS and "execution_status" in ast.unparse(target.value):
            found.append((target.lineno, str(target.slice.value)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                check(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            check(node.target)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and len(node.args) == 3 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in STATUS_FIELDS:
            found.append((node.lineno, str(node.args[1].value)))
    return sorted(found)


def test_the_scan_finds_status_writes() -> None:
    code = ("meta.execution_status.status = 'failed'\nes.status, es.interrupt_reason = 'interrupted', 'x'\n"
            "setattr(status, 'status', 'running')\ndata['execution_status']['status'] = 'pending'\n"
            "job.status = 'queued'\nrow.status = 'unreadable'\nif status.status == 'running': pass\n")
    assert status_writes(ast.parse(code)) == [(1, "status"), (2, "interrupt_reason"), (2, "status"),
                                             (3, "status"), (4, "status")]


def test_status_is_written_only_through_the_transitions() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        for line, what in status_writes(ast.parse(path.read_text(encoding="utf-8"))):
            if (name, "*") not in ALLOWED and (name, what) not in ALLOWED:
                offenders.append(f"{name}:{line} writes {what}")
    assert offenders == [], "use llm_tool.sessions.transitions: " + "; ".join(offenders)


# ----- §4: the session parsed once per process --------------------------------------------------------------------

@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of a session file outside a locked update (each update re-reads under the lock: that is what
    makes concurrent writers safe), as 'module:function' of the caller."""
    seen: list[str] = []
    original = SessionStore.read

    def counted(self: SessionStore, path: Path) -> Any:
        caller = inspect.stack()[1]
        if caller.function != "update":
            seen.append(f"{Path(caller.filename).name}:{caller.function}")
        return original(self, path)

    monkeypatch.setattr(SessionStore, "read", counted)
    return seen


def test_a_run_reads_its_session_once(isolated_home: Path, sample_csv: Path, tiny_model: Path,
                                      reads: list[str]) -> None:
    """Before: `train CONFIG` read its new session 5 times before the first step (create.py, launch_view.py,
    seam.py twice, engine.py); now the metadata created is passed down (0 reads). A process given an existing
    session (`train --session`, the tmux and Slurm entry; `sessions resume`) reads it once."""
    data = write_csv(isolated_home / "data.csv", sample_rows(sample_csv, 40))
    config = _config(isolated_home, data, tiny_model, epochs=1, batch_size=8, learning_rate=1e-3,
                     early_stopping_patience=1)
    assert main(["train", str(config)]) == 0
    assert reads == []
    saved = _saved(isolated_home, data, tiny_model, epochs=1, batch_size=8, learning_rate=1e-3,
                   early_stopping_patience=1)
    assert main(["train", "--session", str(saved)]) == 0
    assert reads == ["launch_view.py:start"]
    reads.clear()
    again = _saved(isolated_home, data, tiny_model, epochs=1, batch_size=8, learning_rate=1e-3,
                   early_stopping_patience=1)
    assert main(["sessions", "resume", again.name]) == 0
    assert reads == ["operations.py:check_resumable"]
    assert read_json(again)["execution_status"]["status"] == "completed"
