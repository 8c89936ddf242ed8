"""Learning curves: nested stratified fractions, the same test rows for all, a fitted curve, the plot's points equal
the recorded numbers, and bad fractions fail in one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from llm_tool.config import parse_config
from llm_tool.data.prepare import prepare
from tests.helpers import read_json, run_main, sample_rows, write_csv
from tests.sweep_helpers import state_of
from tests.tmux_helpers import make_config, needs_tmux


def _prepared(data: Path, fraction: float):
    cfg = parse_config({"dataset_config": {"primary_file": str(data), "train_fraction": fraction,
                                           "split_seed": 3}}).dataset
    return prepare(cfg, data.parent, seed=99)


def test_fractions_are_nested_stratified_and_keep_validation_and_test(tmp_path, sample_csv):
    data = write_csv(tmp_path / "data.csv", sample_rows(sample_csv, 200))
    runs = {f: _prepared(data, f) for f in (0.1, 0.25, 0.5, 1.0)}
    train = {f: list(zip(r.splits["train"].texts, r.splits["train"].labels, strict=True)) for f, r in runs.items()}
    full = len(train[1.0])
    for small, large in ((0.1, 0.25), (0.25, 0.5), (0.5, 1.0)):
        assert set(train[small]) < set(train[large])  # nested
        assert len(train[small]) == -(-small * full // 1)  # ceil(fraction x rows)
    for f in (0.1, 0.25, 0.5):
        assert runs[f].record["train_fraction_rows"] == {"kept": len(train[f]), "of": full}
        for name in ("validation", "test"):
            assert runs[f].splits[name].texts == runs[1.0].splits[name].texts
    shares = Counter(label for _, label in train[1.0])
    for label, count in Counter(label for _, label in train[0.25]).items():  # stratified: within one row
        assert abs(count - 0.25 * shares[label]) <= 1


def test_fit_extrapolates_a_clean_curve_and_refuses_too_few_rows():
    from llm_tool.results.learning_curve import CurvePoint, fit_curve, power_law

    def points(full: int) -> list[CurvePoint]:
        out = []
        for f in (0.1, 0.25, 0.5, 1.0):
            n = int(full * f)
            truth = float(power_law(n, 0.9, 2.0, 0.5))
            point = CurvePoint(fraction=f, train_rows=n, seed_scores=[truth - 0.005, truth + 0.005])
            point.summarise()
            out.append(point)
        return out

    fit = fit_curve(points(4000))
    assert fit.extrapolated and fit.r2 is not None and fit.r2 > 0.9
    estimate = fit.estimates[1]
    assert estimate["factor"] == 4 and estimate["train_rows"] == 16000
    assert estimate["macro_f1"] == pytest.approx(power_law(16000, 0.9, 2.0, 0.5), abs=0.01)
    assert estimate["low"] <= estimate["macro_f1"] <= estimate["high"]
    small = fit_curve(points(300))
    assert not small.extrapolated and "too few training rows to extrapolate (300" in small.note
    assert all(e["macro_f1"] is None for e in small.estimates)


def test_a_flat_curve_is_called_a_plateau_and_a_noisy_one_is_not():
    from llm_tool.results.learning_curve import CurvePoint, fit_curve

    def points(means: list[float]) -> list[CurvePoint]:
        out = []
        for f, m in zip((0.25, 0.5, 1.0), means, strict=True):
            point = CurvePoint(fraction=f, train_rows=int(2400 * f), seed_scores=[m - 0.004, m + 0.004])
            point.summarise()
            out.append(point)
        return out

    flat = fit_curve(points([0.923, 0.910, 0.915]))  # the bundled sample's measured curve
    assert not flat.extrapolated
    assert "plateau" in flat.note and "within 0.013 from 600 to 2400" in flat.note
    loose = [CurvePoint(fraction=f, train_rows=n, seed_scores=s) for f, n, s in  # the sample, measured quietly
             ((0.25, 600, [0.9233, 0.9133]), (0.5, 1200, [0.9200, 0.9299]), (1.0, 2400, [0.9299, 0.9333]))]
    for point in loose:
        point.summarise()
    fitted = fit_curve(loose)  # R² 0.62, but the ceiling pinned at 1 and the 2x interval 0.00-1.00
    assert fitted.r2 is not None and fitted.r2 > 0.6 and not fitted.extrapolated
    assert "plateau" in fitted.note and all(e["macro_f1"] is None and e["low"] is None for e in fitted.estimates)
    noisy = fit_curve(points([0.80, 0.70, 0.85]))  # no trend a power law fits, and far from flat
    assert not noisy.extrapolated and "plateau" not in noisy.note and "fits the points poorly" in noisy.note


@pytest.mark.parametrize("fractions", ["0", "1.5", "0.5,abc"])
def test_bad_fractions_are_one_line_exit_2(tmp_path, tiny_model, sample_csv, fractions):
    config = make_config(tmp_path / "cfg", "c.json", tiny_model, sample_csv, rows=40)
    proc = run_main("curve", str(config), "--fractions", fractions, "--dry-run")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--fractions" in proc.stderr


def test_a_config_with_train_fraction_zero_is_one_line_exit_2(tmp_path, tiny_model, sample_csv):
    config = make_config(tmp_path / "cfg", "c.json", tiny_model, sample_csv, rows=40)
    raw = json.loads(config.read_text())
    raw["dataset_config"]["train_fraction"] = 0
    config.write_text(json.dumps(raw))
    proc = run_main("train", str(config), "--dry-run")
    assert proc.returncode == 2
    assert "dataset_config.train_fraction must be above 0.0 and at most 1.0, got 0" in proc.stderr


@needs_tmux
def test_curve_runs_as_a_sweep_and_plots_the_recorded_numbers(tmux_socket, isolated_home, tiny_model, sample_csv):
    import matplotlib.image

    config = make_config(isolated_home.parent / "cfg", "curve.json", tiny_model, sample_csv, rows=80, epochs=1)
    proc = run_main("curve", str(config), "--fractions", "0.5,1", "--per-class", "--name", "lc", "--wait",
                    env={"COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "Learning curve lc" in proc.stdout and "too few points to fit a curve" in proc.stdout
    state = state_of(isolated_home, "lc")
    assert state["kind"] == "curve" and state["state"] == "finished"
    children = [read_json(Path(j["session_file"])) for j in sorted(state["jobs"], key=lambda j: j["number"])]
    assert [c["dataset_config"]["train_fraction"] for c in children] == [0.5, 1.0]
    assert len({json.dumps(c["dataset_config"]["split_sizes"]["test"]) for c in children}) == 1
    assert {c["dataset_config"]["split_seed"] for c in children} == {42}
    half, full = (c["dataset_config"]["split_sizes"]["train"] for c in children)
    assert half == -(-full // 2)

    parent = read_json(Path(state["parent_session"]["session_file"]))
    assert parent["training_session"]["workflow"] == "curve"
    assert parent["execution_status"]["status"] == "completed"
    curve = parent["learning_curve"]
    scores = [read_json(isolated_home / "models" / c["training_session"]["session_id"] / "metrics.json")
              ["test"]["macro_f1"] for c in children]
    assert [p["seed_scores"] for p in curve["points"]] == [[s] for s in scores]
    assert [p["train_rows"] for p in curve["points"]] == [half, full]
    assert curve["plotted"]["mean"] == [[half, scores[0]], [full, scores[1]]]  # the plot's points, as drawn
    per_class = [read_json(isolated_home / "models" / c["training_session"]["session_id"] / "metrics.json")
                 ["test"]["per_class"] for c in children]
    for label in per_class[0]:
        assert curve["plotted"][f"class {label}"] == [[half, per_class[0][label]["f1"]],
                                                      [full, per_class[1][label]["f1"]]]
    image = matplotlib.image.imread(curve["plot"])
    assert image.shape[:2] == (450, 700) and image.std() > 0.01

    shown = run_main("sessions", "show", parent["training_session"]["session_id"], env={"COLUMNS": "120"})
    assert shown.returncode == 0, shown.stderr
    assert "Learning curve" in shown.stdout and f"{scores[1]:.3f}" in shown.stdout

    report = run_main("report", parent["training_session"]["session_id"], "-o", str(isolated_home / "out"))
    assert report.returncode == 0, report.stderr
    text = (isolated_home / "out" / "lc.md").read_text(encoding="utf-8")
    assert text.startswith("# Learning curve `lc`") and f"| 100% | {full} | 1 | {scores[1]:.3f} |" in text
    assert (isolated_home / "out" / "lc_learning_curve.png").read_bytes() == Path(curve["plot"]).read_bytes()


@needs_tmux
def test_the_studio_starts_a_curve_from_a_trained_model(tmux_socket, isolated_home, tiny_model, sample_csv,
                                                       monkeypatch, capsys):
    from llm_tool.sweeps import seam
    from tests.wizard_helpers import pick, run_studio

    config = make_config(isolated_home / "cfg", "c.json", tiny_model, sample_csv, rows=40, epochs=1)
    assert run_main("train", str(config)).returncode == 0
    monkeypatch.delenv("LLM_TOOL_NON_INTERACTIVE")  # the studio asks (after training without it)
    # main menu: 4 Test a trained model → session 1 → 4 Learning curve → 1 tmux
    ctx = run_studio(pick(4), pick(1), pick(4), pick(1), pick(6))
    assert ctx.prompter.asked == ["main_menu", "session", "model_action", "curve_place", "main_menu"]
    out = capsys.readouterr().out
    assert "started learning curve curve-" in out
    (name,) = [p.stem for p in (isolated_home / "logs" / "sweeps").glob("curve-*.json")]
    state = seam.kill(name).jobs
    assert len(state) == 4
    parent = read_json(Path(state_of(isolated_home, name)["parent_session"]["session_file"]))
    assert parent["training_session"]["workflow"] == "curve"
    children = [read_json(Path(j.session_file)) for j in state]
    assert [c["dataset_config"].get("train_fraction") for c in children] == [0.1, 0.25, 0.5, 1.0]


def test_a_hostile_curve_record_is_shown_escaped_never_crashing():
    from rich.console import Console

    from llm_tool.ui.curve_view import curve_lines, curve_table

    record = {"points": [{"fraction": "x", "train_rows": "[red]evil[/red]", "seed_scores": "abc", "mean": "1"},
                         "junk", {"fraction": 0.5, "train_rows": 10, "seed_scores": [0.5], "mean": 0.5}],
              "fit": {"a": "x", "note": "[bold]n[/bold]", "estimates": [{"factor": "[b]2", "train_rows": 3,
                                                                           "macro_f1": 0.7}]}}
    console = Console(width=100, record=True)
    console.print(curve_table(record, "t"))
    text = console.export_text()
    assert "[red]evil[/red]" in text and "[b]2x (estimate)" in text and "50%" in text
    assert curve_lines(record) == ["\\[bold]n\\[/bold]"]
