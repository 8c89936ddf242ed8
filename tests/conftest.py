"""Shared fixtures: an isolated home and tmux socket per test, offline hub, a tiny BERT built from a config, and
one trained session of it shared by the tests that only read a finished training."""

from __future__ import annotations

import ast
import functools
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import (
    build_tiny_model,
    read_json,
    run_main,
    sample_rows,
    session_files,
    write_config,
    write_csv,
)
from tests.slurm_helpers import on_cluster, slurm_cluster  # noqa: F401 - the private Slurm cluster fixtures
from tests.tmux_helpers import private_socket, reap_tmux_server

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_cache: Path) -> Iterator[Path]:
    """A fresh LLM_TOOL_HOME (also the working folder), offline, non-interactive, and a tmux socket of its own:
    a test never reaches the default tmux server, and a server it started is reaped at the end."""
    home = tmp_path / "home"
    home.mkdir()
    socket = private_socket()
    monkeypatch.setenv("LLM_TOOL_HOME", str(home))
    monkeypatch.setenv("LLM_TOOL_CONFIG_DIR", str(tmp_path / "config"))  # the seal key: never the user's ~/.config
    monkeypatch.setenv("LLM_TOOL_CACHE", str(shared_cache))
    monkeypatch.setenv("LLM_TOOL_TMUX_SOCKET", socket)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("LLM_TOOL_NON_INTERACTIVE", "1")
    monkeypatch.setenv("LLM_TOOL_ONNX_BACKGROUND", "0")  # no ONNX export behind a test (test_inference_onnx's own)
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("LLM_TOOL_SUPERVISED", raising=False)
    monkeypatch.chdir(home)
    try:
        yield home
    finally:
        reap_tmux_server(socket)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker's llm-tool cache (ONNX copies of models, content-addressed, so tests can share it); never the
    user's ~/.cache."""
    return tmp_path_factory.mktemp("llm_tool_cache")


@pytest.fixture
def tmux_socket(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's private tmux server (LLM_TOOL_TMUX_SOCKET), with quick retries; skipped without tmux."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    monkeypatch.setenv("LLM_TOOL_RETRY_BACKOFF", "0.2")
    monkeypatch.setenv("LLM_TOOL_STOP_GRACE", "20")
    return os.environ["LLM_TOOL_TMUX_SOCKET"]


@pytest.fixture
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    """The studio may prompt (the prompts read the keys a test feeds them)."""
    monkeypatch.delenv("LLM_TOOL_NON_INTERACTIVE", raising=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT with a word-level vocabulary of the sample data (random weights)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), SAMPLE_CSV)


@dataclass(frozen=True)
class Trained:
    """A completed training session in a home of its own."""

    home: Path
    session_file: Path
    model_dir: Path
    data: Path


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Trained:
    """The tiny model trained once per test session (60 sample rows, 1 epoch, `llm-tool train` in process) and
    shared: tests read it and never change it (copy what you need to change into the test's own home)."""
    home = tmp_path_factory.mktemp("trained") / "home"
    home.mkdir()
    data = write_csv(home / "reviews.csv", sample_rows(SAMPLE_CSV, 60))
    config = write_config(home / "config.json", data, tiny_model, num_threads=1)
    result = run_main("train", str(config), "--session-name", "shared", env={"LLM_TOOL_HOME": str(home)}, cwd=home)
    assert result.returncode == 0, result.stderr[-3000:]
    (session_file,) = session_files(home)
    meta = read_json(session_file)
    assert meta["execution_status"]["status"] == "completed"
    return Trained(home, session_file, Path(meta["output_paths"]["model_dir"]), data)


@pytest.fixture
def sample_csv() -> Path:
    return SAMPLE_CSV


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
    # the ~200 Python processes the suite starts (trainings, supervisors, CLI calls) read llm_tool's bytecode
    # instead of compiling its sources each time when the environment forbids writing it (git ignores __pycache__)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    config.addinivalue_line("markers", "xdist_group(name): run the file's tests on one xdist worker (see below)")


# Files whose tests take longest (measured with --durations on a quiet 2-core machine): handed out first so that
# no long test starts last while the other worker sits idle.
LONGEST_FIRST = (
    "test_slurm.py",  # one group (~150 s on one worker): started first, the other worker takes everything else
    "test_tasks_runs.py",  # one group (~60 s): a module-scoped tasks run, then interrupted/tmux runs
    "test_long_text.py",  # one group: a module-scoped chunked training, then a kill + exact resume
    "test_inference_onnx.py",  # one group (~45 s): one export, then the two background builders
    "test_torchrun.py",
    "test_session_lifecycle.py",  # one group: five trainings stopped side by side
    "test_language_strategies.py",  # one group (~40-70 s): 4 trainings in process, then 4 in a tmux sweep
    "test_notebook.py",
    "test_wizard_benchmark.py",
    "test_tmux_training.py",
    "test_resume.py",  # one group (~35 s): a shared uninterrupted run, three kills and resumes
    "test_benchmark.py",
    "test_sweep_tmux.py",
    "test_attacks_runtime.py",
    "test_learning_curve.py",
    "test_api_sweep.py",
    "test_studio_e2e.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


GROUP_MARK = "xdist_group"  # pytestmark = pytest.mark.xdist_group("name"): the file's tests on one worker


@functools.cache
def _file_group(path: Path) -> str | None:
    """The ``xdist_group`` name a test file gives all its tests (``pytestmark = pytest.mark.xdist_group("x")``),
    read from its source: the scheduler runs in the controller, which collects no items and sees no marks."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            for call in ast.walk(node.value):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == GROUP_MARK and call.args and isinstance(call.args[0], ast.Constant)):
                    return str(call.args[0].value)
    return None


@pytest.hookimpl(optionalhook=True)  # also without xdist (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """With `-n N`: each test is a unit of work of its own, except the tests of a file marked with
    ``xdist_group`` (one unit per group name, so one worker runs them). Works around
    https://github.com/pytest-dev/pytest-xdist/issues/1386: xdist's own `--dist loadgroup` does not group under
    pytest 9 (it rewrites `Item._nodeid`, which pytest 9 no longer reads); remove this hook once it is fixed."""
    from xdist.scheduler import LoadScopeScheduling

    root = config.rootpath

    class MarkedGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = _file_group(root / nodeid.split("::", 1)[0])
            return f"group:{group}" if group else nodeid

    return MarkedGroupScheduling(config, log)
