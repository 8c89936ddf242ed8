"""Shared fixtures: an isolated home per test, offline hub, and a tiny BERT built from a config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import build_tiny_model
from tests.slurm_helpers import on_cluster, slurm_cluster  # noqa: F401 - the private Slurm cluster fixtures

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LLM_TOOL_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("LLM_TOOL_NON_INTERACTIVE", "1")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("LLM_TOOL_SUPERVISED", raising=False)
    monkeypatch.chdir(home)
    return home


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide BERT with a word-level vocabulary of the sample data (random weights)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"), SAMPLE_CSV)


@pytest.fixture
def sample_csv() -> Path:
    return SAMPLE_CSV


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")
