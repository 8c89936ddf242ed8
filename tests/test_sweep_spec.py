"""Sweep files: grid cross products, job lists, a base given as a path, and one-line errors before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_tool.errors import ConfigError, DatasetError
from llm_tool.sweeps.spec import benchmark_spec, load_sweep_file, parse_sweep
from tests.sweep_helpers import write_sweep

LR, BS = "model_config.learning_rate", "model_config.batch_size"


@pytest.fixture
def base(tmp_path: Path) -> dict:
    (tmp_path / "data.csv").write_text("text,label\na,x\nb,y\n", encoding="utf-8")
    return {"dataset_config": {"primary_file": "data.csv"}, "model_config": {"epochs": 1}}


def parse(data: dict, folder: Path, **kw: object) -> object:
    return parse_sweep(data, base_dir=folder, source="s.json", **kw)


def test_grid_is_the_cross_product_in_order(tmp_path: Path, base: dict) -> None:
    spec = parse({"base": base, "grid": {LR: [2e-5, 5e-5], BS: [16, 32]}}, tmp_path)
    assert [j.overrides for j in spec.jobs] == [{LR: 2e-5, BS: 16}, {LR: 2e-5, BS: 32}, {LR: 5e-5, BS: 16},
                                               {LR: 5e-5, BS: 32}]
    assert spec.jobs[3].raw["model_config"] == {"epochs": 1, "learning_rate": 5e-5, "batch_size": 32}
    assert base["model_config"] == {"epochs": 1}  # the base itself is never changed
    assert (spec.group_by, spec.max_panes_per_window, spec.kind) == ("model_config.selected_model", 4, "sweep")


def test_jobs_list_nested_sections_options_and_sets(tmp_path: Path, base: dict) -> None:
    spec = parse({"base": base, "jobs": [{LR: 1e-4}, {"model_config": {"batch_size": 8}}], "group_by": "none",
                  "max_panes_per_window": 2, "max_parallel": 3, "name": "mine"}, tmp_path,
                 sets=["model_config.seed=7"])
    assert [j.overrides for j in spec.jobs] == [{LR: 1e-4}, {BS: 8}]
    assert all(j.raw["model_config"]["seed"] == 7 for j in spec.jobs)
    assert (spec.group_by, spec.max_panes_per_window, spec.max_parallel, spec.name) == (None, 2, 3, "mine")


def test_base_may_be_a_config_path(tmp_path: Path, base: dict) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "data.csv").write_text("text,label\na,x\n", encoding="utf-8")
    (tmp_path / "cfg" / "base.json").write_text(json.dumps(base), encoding="utf-8")
    sweep = write_sweep(tmp_path / "sweep.json", "cfg/base.json", grid={LR: [1e-5]})
    spec = load_sweep_file(sweep)
    assert spec.base_dir == (tmp_path / "cfg").resolve()  # relative data paths are the config's
    assert spec.source == "sweep.json" and len(spec.jobs) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"grid": {LR: [1]}}, "has no 'base'"),
    ({"base": "BASE", "grid": {LR: [1]}, "jobs": [{LR: 1}]}, "exactly one of 'grid'"),
    ({"base": "BASE"}, "exactly one of 'grid'"),
    ({"base": "BASE", "gird": {LR: [1]}}, "unknown key 'gird' (did you mean 'grid'?)"),
    ({"base": "BASE", "grid": {LR: 1e-5}}, "must be a non-empty list"),
    ({"base": "BASE", "grid": {LR: []}}, "must be a non-empty list"),
    ({"base": "BASE", "grid": {"learning_rate": [1]}}, "is not a dotted setting"),
    ({"base": "BASE", "grid": {"training.lr": [1]}}, "must start with dataset_config or model_config"),
    ({"base": "BASE", "jobs": []}, "'jobs' must be a non-empty list"),
    ({"base": "BASE", "jobs": [{LR: 1e-5}, {LR: 1e-5}]}, "job 2 (model_config.learning_rate=1e-05) repeats job 1"),
    ({"base": "BASE", "grid": {"model_config.epochs": [1, 0]}},
     "s.json: job 2 (model_config.epochs=0): model_config.epochs must be at least 1"),
    ({"base": "BASE", "grid": {"model_config.lerning_rate": [1]}}, "did you mean 'learning_rate'"),
    ({"base": "BASE", "grid": {LR: [1]}, "max_panes_per_window": 0}, "'max_panes_per_window' must be"),
    ({"base": 3, "grid": {LR: [1]}}, "'base' must be a config object or the path"),
    ({"base": "missing.json", "grid": {LR: [1]}}, "config file not found"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path: Path, base: dict, data: dict, message: str) -> None:
    if data.get("base") == "BASE":
        data = {**data, "base": base}
    with pytest.raises(ConfigError) as info:
        parse(data, tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_data_file_is_found_before_anything_starts(tmp_path: Path, base: dict) -> None:
    data = {"base": base, "jobs": [{LR: 1e-5}, {"dataset_config.primary_file": "gone.csv"}]}
    with pytest.raises(DatasetError, match=r"job 2 .*gone.csv does not exist"):
        parse(data, tmp_path)


def test_benchmark_spec_same_base_one_job_per_model(tmp_path: Path, base: dict) -> None:
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(base), encoding="utf-8")
    spec = benchmark_spec(config, ["org/a", "b"], ["model_config.seed=3"])
    assert spec.kind == "benchmark" and spec.models == ["org/a", "b"]
    assert [j.raw["model_config"]["selected_model"] for j in spec.jobs] == ["org/a", "b"]
    assert {json.dumps(j.raw["dataset_config"]) for j in spec.jobs} == {json.dumps(base["dataset_config"])}
    assert all(j.raw["model_config"]["seed"] == 3 and j.raw["model_config"]["training_mode"] == "benchmark"
               for j in spec.jobs)
    with pytest.raises(ConfigError, match="more than once"):
        benchmark_spec(config, ["a", "a"])
    with pytest.raises(ConfigError, match="give the candidate models"):
        benchmark_spec(config, [" "])


def test_seeds_repeat_each_configuration_on_a_fixed_split(tmp_path: Path, base: dict) -> None:
    spec = parse({"base": base, "grid": {LR: [2e-5, 5e-5]}, "seeds": 2}, tmp_path)
    seed = "model_config.seed"
    assert [j.overrides for j in spec.jobs] == [{LR: 2e-5, seed: 42}, {LR: 2e-5, seed: 43}, {LR: 5e-5, seed: 42},
                                               {LR: 5e-5, seed: 43}]
    assert {j.raw["dataset_config"]["split_seed"] for j in spec.jobs} == {42}  # only initialisation/order vary
    assert len(parse({"base": base, "grid": {LR: [1e-5]}, "seeds": 3}, tmp_path, seeds=1).jobs) == 1  # --seeds wins
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(base), encoding="utf-8")
    bench = benchmark_spec(config, ["org/a", "b"], ["model_config.seed=7"], seeds=2)
    assert [(j.raw["model_config"]["selected_model"], j.raw["model_config"]["seed"],
             j.raw["dataset_config"]["split_seed"]) for j in bench.jobs] == [("org/a", 7, 7), ("org/a", 8, 7),
                                                                             ("b", 7, 7), ("b", 8, 7)]
    with pytest.raises(ConfigError, match="use one or the other"):
        parse({"base": base, "grid": {seed: [1, 2]}, "seeds": 2}, tmp_path)
    with pytest.raises(ConfigError, match="seeds must be a whole number from 1 to 50"):
        parse({"base": base, "grid": {LR: [1e-5]}, "seeds": 0}, tmp_path)


def test_split_seed_fixes_the_split_whatever_the_model_seed(tmp_path: Path) -> None:
    from llm_tool.config.schema import DatasetConfig
    from llm_tool.data.prepare import prepare

    rows = "".join(f"text number {i},{'ab'[i % 2]}\n" for i in range(60))
    (tmp_path / "d.csv").write_text("text,label\n" + rows, encoding="utf-8")
    fixed = DatasetConfig(primary_file="d.csv", split_seed=5)
    tests = [prepare(fixed, tmp_path, seed=s).splits["test"].texts for s in (1, 2)]
    assert tests[0] == tests[1] == prepare(DatasetConfig(primary_file="d.csv"), tmp_path, seed=5).splits["test"].texts
    assert prepare(DatasetConfig(primary_file="d.csv"), tmp_path, seed=1).splits["test"].texts != \
        prepare(DatasetConfig(primary_file="d.csv"), tmp_path, seed=2).splits["test"].texts


def test_seed_titles_keep_the_model_name(tmp_path: Path, base: dict, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    from llm_tool.cli import main

    monkeypatch.setenv("LLM_TOOL_HOME", str(tmp_path))
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(base), encoding="utf-8")
    assert main(["benchmark", str(config), "--models", "org/alpha", "org/beta", "--seeds", "2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for title in ("alpha_seed42", "alpha_seed43", "beta_seed42", "beta_seed43"):
        assert title in out, out
    assert main(["benchmark", str(config), "--models", "org/alpha", "--seeds", "99", "--dry-run"]) == 2
    assert "seeds must be a whole number from 1 to 50" in capsys.readouterr().err
