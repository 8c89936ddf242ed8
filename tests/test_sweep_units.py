"""Pure sweep logic: abbreviations and titles, window layout, the queue and GPUs, control-window keys."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from llm_tool.sweeps.layout import assign_windows, plan_windows
from llm_tool.sweeps.naming import (
    abbreviate_key,
    format_number,
    generic_abbreviation,
    group_label,
    job_titles,
    short_model_name,
    sweep_name,
)
from llm_tool.sweeps.queue import default_max_parallel, detect_gpus, max_concurrency, pick_gpu, plan_starts
from llm_tool.sweeps.state import SweepJob, SweepState
from llm_tool.sweeps_ui.control import render_lines
from llm_tool.sweeps_ui.keys import KEY_DOWN, KEY_ENTER, KEY_UP, ListState, handle_key

LR, BS, MODEL = "model_config.learning_rate", "model_config.batch_size", "model_config.selected_model"


def cfg(**model: object) -> dict:
    return {"dataset_config": {"primary_file": "d.csv"}, "model_config": model}


# ----- abbreviation ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "short"), [
    (LR, "lr"), (BS, "bs"), ("model_config.epochs", "ep"), ("model_config.warmup_ratio", "wu"),
    ("model_config.label_smoothing_factor", "lsf"), ("model_config.dropout", "drop"),
    ("model_config.hiddenDropoutProb", "hdp"), ("model_config.max_length", "len"),
])
def test_abbreviate_key(key: str, short: str) -> None:
    assert abbreviate_key(key) == short


@pytest.mark.parametrize(("value", "text"), [(2e-5, "2e-5"), (5e-05, "5e-5"), (3.5e-5, "3.5e-5"), (0.001, "1e-3"),
                                             (0.1, "0.1"), (3.0, "3"), (16, "16"), (True, "1")])
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_generic_abbreviation_keeps_token_boundaries() -> None:
    assert generic_abbreviation("modelling_rate") == "mr"  # `model` inside a word is not the model key
    assert generic_abbreviation("num_layers_2") == "nl2"


def test_grid_titles_name_only_what_differs() -> None:
    configs = [cfg(learning_rate=lr, batch_size=bs, epochs=3) for lr in (2e-5, 5e-5) for bs in (16, 32)]
    assert job_titles(configs, [LR, BS, "model_config.epochs"]) == [
        "lr2e-5_bs16", "lr2e-5_bs32", "lr5e-5_bs16", "lr5e-5_bs32"]


def test_model_titles_and_group_key() -> None:
    configs = [cfg(selected_model="sentence-transformers/all-MiniLM-L6-v2", learning_rate=1e-4),
               cfg(selected_model="/data/models/bert-base/", learning_rate=1e-4)]
    assert job_titles(configs, [MODEL, LR]) == ["all-MiniLM-L6-v2", "bert-base"]
    # the group key is shown by the window, unless nothing else differs
    configs = [cfg(selected_model=m, learning_rate=lr) for m in ("a/x", "b/y") for lr in (1e-5, 2e-5)]
    assert job_titles(configs, [MODEL, LR], skip=[MODEL]) == ["lr1e-5", "lr2e-5", "lr1e-5-2", "lr2e-5-2"]
    assert group_label(MODEL, configs[0]) == "x" and group_label(LR, configs[0]) == "lr1e-5"
    assert group_label("model_config.warmup_ratio", cfg(warmup_ratio=0.05)) == "wu0_05"  # no `.` in window names
    assert short_model_name("org/name") == "name" and sweep_name("my grid.v2!") == "my_grid_v2"


def test_titles_avoid_taken_ones_and_colliding_abbreviations() -> None:
    assert job_titles([cfg(learning_rate=1e-4)], [LR], taken=["lr1e-4"]) == ["lr1e-4-2"]
    configs = [cfg(label_size=1, layer_scale=2), cfg(label_size=3, layer_scale=4)]  # both would be `ls`
    keys = ["model_config.label_size", "model_config.layer_scale"]
    assert job_titles(configs, keys) == ["label_size1_layer_scale2", "label_size3_layer_scale4"]
    assert job_titles([cfg(), cfg()], []) == ["job1", "job2"]


# ----- layout --------------------------------------------------------------------------------------------
def test_windows_fill_then_overflow_to_group_n() -> None:
    assert assign_windows(["bert"] * 5 + ["roberta"], [], 2) == ["bert", "bert", "bert-2", "bert-2", "bert-3",
                                                                 "roberta"]
    existing = [SweepJob(window="bert", group="bert")] * 3  # an appended job fills the last window with room
    assert assign_windows(["bert", "bert"], existing, 4) == ["bert", "bert-2"]
    assert assign_windows(["control"], [], 4) == ["control-2"]  # window 0's name stays reserved


def test_plan_windows_in_start_order_after_control() -> None:
    jobs = [SweepJob(key=f"j{n}", number=n, window=w, group=w.split("-")[0])
            for n, w in enumerate(["a", "b", "a", "a-2"], start=1)]
    plans = plan_windows(jobs)
    assert [(p.index, p.name, p.jobs) for p in plans] == [(1, "a", ["j1", "j3"]), (2, "b", ["j2"]),
                                                         (3, "a-2", ["j4"])]


# ----- queue ---------------------------------------------------------------------------------------------
def test_plan_starts_fills_free_slots_oldest_first() -> None:
    jobs = [SweepJob(key="a", number=1, status="running", gpu=None),
            SweepJob(key="c", number=3, status="queued"), SweepJob(key="b", number=2, status="queued"),
            SweepJob(key="d", number=4, status="completed")]
    assert [j.key for j, _ in plan_starts(jobs, 2)] == ["b"]
    assert [j.key for j, _ in plan_starts(jobs, 3)] == ["b", "c"]
    assert plan_starts(jobs, 1) == []


def test_each_job_gets_the_least_busy_gpu() -> None:
    jobs = [SweepJob(key="a", number=1, status="running", gpu="0")] + [
        SweepJob(key=k, number=n, status="queued") for n, k in ((2, "b"), (3, "c"), (4, "d"))]
    assert [gpu for _, gpu in plan_starts(jobs, 4, ["0", "1"])] == ["1", "0", "1"]
    assert pick_gpu([], []) is None and pick_gpu(["0", "1"], ["0", "1", "1"]) == "0"


def test_detect_gpus() -> None:
    def smi(_argv: list[str], **_kw: object) -> SimpleNamespace:
        return SimpleNamespace(returncode=0, stdout="GPU 0: NVIDIA H100 (UUID: GPU-1)\nGPU 1: NVIDIA H100 (UUID: x)\n")

    def missing(_argv: list[str], **_kw: object) -> None:
        raise FileNotFoundError("nvidia-smi")

    def hangs(_argv: list[str], **_kw: object) -> None:
        raise subprocess.TimeoutExpired("nvidia-smi", 10)

    assert detect_gpus({}, smi) == ["0", "1"]
    assert detect_gpus({}, missing) == [] and detect_gpus({}, hangs) == []
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}, missing) == ["2", "3"]
    assert detect_gpus({"CUDA_VISIBLE_DEVICES": ""}, smi) == []
    assert default_max_parallel([]) == 1 and default_max_parallel(["0", "1"]) == 2


def test_max_concurrency() -> None:
    assert max_concurrency([(0, 10), (0, 5), (5, 12), (10, 20)]) == 2  # an end and a start at 5 do not overlap
    assert max_concurrency([(0, 10), (1, 9), (2, None)]) == 3


# ----- control-window keys ---------------------------------------------------------------------------------
def rows(*keys: str) -> list[dict]:
    return [{"key": k, "title": f"t{k}", "window": "w1" if k < "c" else "w2", "status": "running"} for k in keys]


def test_keys_move_and_act_on_the_selected_job_by_key() -> None:
    state = ListState()
    state.set_rows(rows("a", "b", "c"))
    assert state.selected == "a"
    assert handle_key(state, KEY_UP).kind == "move" and state.selected == "a"  # stays at the top
    handle_key(state, KEY_DOWN)
    assert handle_key(state, ord("k")).job == "b"
    state.set_rows(rows("c", "b", "a"))  # a refresh reorders rows: the selection follows the job, not the row
    assert handle_key(state, KEY_ENTER).job == "b" and handle_key(state, 10).kind == "jump_pane"
    action = handle_key(state, ord("K"))
    assert (action.kind, action.window) == ("kill_window", "w1")
    handle_key(state, KEY_DOWN)
    handle_key(state, KEY_DOWN)
    assert state.selected == "a"
    state.set_rows(rows("c"))  # the selected job went away: the first one is selected
    assert state.selected == "c"
    assert handle_key(state, ord("3")).index == 3 and handle_key(state, ord("0")).kind == "jump_window"
    assert [handle_key(state, k).kind for k in (ord("r"), ord("q"), ord("x"))] == ["refresh", "leave", "none"]
    empty = ListState()
    assert handle_key(empty, ord("k")).kind == "none" and handle_key(empty, KEY_DOWN).kind == "move"


def test_render_marks_the_selected_row() -> None:
    state = ListState()
    state.set_rows([{**r, "number": n, "pane_id": f"%{n}"} for n, r in enumerate(rows("a", "b"), start=1)])
    handle_key(state, KEY_DOWN)
    lines = render_lines("demo", SweepState(name="demo", state="running", max_parallel=2), state)
    marked = [line for line in lines if line.startswith("> ")]
    assert len(marked) == 1 and "tb" in marked[0] and "%2" in marked[0]
    assert "2 running" in lines[0]
