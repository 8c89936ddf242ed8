"""examples/quickstart.ipynb runs: its code cells executed in order (as a kernel would), with the tiny model and a
few rows, in a real tmux server on the test's private socket; it trains, predicts and plots a 4-job sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_CSV
from tests.helpers import sample_rows, write_csv
from tests.tmux_helpers import needs_tmux

NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_notebook_is_clean_and_uses_the_api() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code")  # saved without outputs
    source = "\n".join(code_cells(NOTEBOOK))
    for call in ("llm_tool.train(", ".metrics_table()", ".predict(", "launch_sweep(", ".leaderboard()", ".plot."):
        assert call in source


@needs_tmux
def test_the_quickstart_notebook_runs(tmux_socket: str, isolated_home: Path, tiny_model: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_csv(isolated_home / "reviews.csv", sample_rows(SAMPLE_CSV, 40))
    monkeypatch.setenv("QUICKSTART_MODEL", str(tiny_model))
    monkeypatch.setenv("QUICKSTART_DATA", str(data))
    monkeypatch.setenv("QUICKSTART_EPOCHS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__main__"}
    for number, source in enumerate(code_cells(NOTEBOOK), start=1):
        exec(compile(source, f"{NOTEBOOK.name} cell {number}", "exec"), namespace)  # our own notebook
    session = namespace["session"]
    assert session.status == "completed"  # type: ignore[attr-defined]
    predictions = namespace["predictions"]
    assert len(predictions) == 3 and "predicted_label" in predictions  # type: ignore[arg-type, operator]
    board = namespace["board"]
    assert len(board) == 4 and board["mean"].notna().all()  # type: ignore[arg-type, index]
    ax = namespace["ax"]
    assert len(ax.patches) == 4  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close("all")
