"""The studio's questions, validators and guesses, tested as plain data (no terminal)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from llm_tool.config import parse_config
from llm_tool.data.formats import read_table
from llm_tool.wizard import questions as q
from llm_tool.wizard.analyse import analyse, default_model, label_distribution, recommend_models
from llm_tool.wizard.detect import (
    detect_strategy,
    find_data_files,
    guess_label_column,
    guess_text_column,
)
from llm_tool.wizard.draft import Draft
from tests.helpers import write_csv
from tests.wizard_helpers import write_sample

ROOT = Path(__file__).resolve().parents[1]


def test_every_hyperparameter_is_validated_by_model_config() -> None:
    answers: dict[str, object] = {}
    cases = {
        "epochs": ("0", "model_config.epochs must be at least 1 and at most 1000, got 0"),
        "batch_size": ("many", "model_config.batch_size must be a whole number, got 'many'"),
        "learning_rate": ("-1", "model_config.learning_rate must be above 0.0 and below 1.0, got -1.0"),
        "warmup_ratio": ("1.5", "model_config.warmup_ratio must be at least 0.0 and below 1.0, got 1.5"),
        "class_weights": ("heavy", "model_config.class_weights must be 'none', 'balanced' or {label: weight}"),
        "max_length": ("4", "model_config.max_length must be at least 8 and at most 1000000, got 4"),
    }
    for name, (text, message) in cases.items():
        question = q.setting_question(name, answers)
        assert question.kind == "text"
        assert question.check(text) == message
    epochs = q.setting_question("epochs", answers)
    assert epochs.default == "3" and epochs.check("5") is None and epochs.value_of("5") == 5
    assert q.setting_question("learning_rate", answers).value_of("2e-5") == 2e-5
    max_length = q.setting_question("max_length", answers)
    assert max_length.check("") is None and max_length.value_of("auto") is None
    weights = q.setting_question("class_weights", answers)
    assert weights.value_of('{"a": 2}') == {"a": 2} and weights.check('{"a": 2}') is None


def test_bool_and_choice_settings_are_menus() -> None:
    early = q.setting_question("early_stopping", {})
    assert early.kind == "select" and [c.value for c in early.choices] == [True, False] and early.default is True
    precision = q.setting_question("precision", {"precision": "bf16"})
    assert [c.value for c in precision.choices] == ["auto", "fp32", "bf16", "fp16"]
    assert precision.default == "bf16"


def test_settings_asked_per_mode() -> None:
    assert q.settings_to_ask("quick", {}) == ["epochs", "batch_size"]
    custom = q.settings_to_ask("custom", {})
    assert custom == list(q.HYPERPARAMETERS) and "selected_model" not in custom
    assert "early_stopping_patience" not in q.settings_to_ask("custom", {"early_stopping": False})


def test_benchmark_mode_asks_the_quick_settings_and_needs_tmux() -> None:
    assert q.settings_to_ask("benchmark", {}) == ["epochs", "batch_size"]
    modes = q.mode_question("quick", tmux_available=True)
    assert [c.value for c in modes.choices] == ["quick", "custom", "benchmark", "preset:quick", "preset:standard",
                                              "preset:thorough"] and not modes.choices[2].disabled
    without = q.mode_question("benchmark", tmux_available=False)
    assert without.choices[2].disabled == "needs tmux (or a Slurm cluster), neither is here"
    assert "apt-get install tmux" in without.help
    slurm_only = q.mode_question("benchmark", tmux_available=False, slurm_available=True)
    assert not slurm_only.choices[2].disabled and not slurm_only.help  # the benchmark runs as a Slurm job array


def test_benchmark_models_questions(tmp_path: Path) -> None:
    suggestions = [("bert-base-uncased", "English", False), ("all-MiniLM-L6-v2", "small", True)]
    models = q.models_question(suggestions, ["all-MiniLM-L6-v2"])
    assert models.kind == "checkbox" and models.default == ("all-MiniLM-L6-v2",)
    assert [c.value for c in models.choices] == ["bert-base-uncased", "all-MiniLM-L6-v2", q.TYPE_MODEL]
    assert "✓ offline" in models.choices[1].title and "offline" not in models.choices[0].title
    assert "at least 2" in (models.check(["bert-base-uncased"]) or "")
    assert models.check(["bert-base-uncased", "all-MiniLM-L6-v2"]) is None
    assert models.check([q.TYPE_MODEL]) is None  # the typed names are checked next

    assert q.split_model_names(" a  b ") == ["a", "b"]
    assert q.split_model_names(f"{tmp_path}/my model, c,") == [f"{tmp_path}/my model", "c"]
    typed = q.model_names_question(["a"])
    assert typed.check("b") is None and typed.value_of("b c") == ["b", "c"]
    assert typed.check("") == "a benchmark compares at least 2 models: 1 ticked, type 1 more"
    assert typed.check("a") == "a is listed twice: each model once"
    assert "not found" in (typed.check("b ./missing-model") or "")
    assert q.model_names_question(["a", "b"]).check("") is None


def test_data_path_and_model_name_validation(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "d.csv", [{"text": "a", "label": "x"}])
    assert q.validate_data_path(str(data)) is None
    assert "does not exist" in (q.validate_data_path(str(tmp_path / "nope.csv")) or "")
    assert "is a folder" in (q.validate_data_path(str(tmp_path)) or "")
    (tmp_path / "notes.doc").write_text("x")
    assert "unknown data format" in (q.validate_data_path(str(tmp_path / "notes.doc")) or "")
    assert q.validate_model_name("bert-base-uncased") is None
    assert q.validate_model_name(str(tmp_path)) is None
    assert "not found" in (q.validate_model_name("./missing-model") or "")
    assert q.validate_model_name("  ") is not None


def test_where_question_recommends_tmux_for_long_runs_but_starts_nothing_by_default() -> None:
    short = q.where_question(saved=True, estimate_seconds=60, tmux_available=True)
    assert short.default == "save" and "recommended" not in short.choices[1].title  # an extra Enter only saves
    long = q.where_question(saved=True, estimate_seconds=2 * 3600, tmux_available=True)
    assert long.default == "save" and "recommended" in long.choices[1].title
    unsaved = q.where_question(saved=False, estimate_seconds=2 * 3600, tmux_available=True)
    assert unsaved.default == q.AT_BACK  # nothing but a run to pick: the pointer starts on Back
    assert {c.value: c.disabled for c in unsaved.choices} == {
        "foreground": None, "tmux": "needs the saved JSON", "save": "needs the saved JSON"}
    no_tmux = q.where_question(saved=True, estimate_seconds=2 * 3600, tmux_available=False)
    assert no_tmux.default == "save" and no_tmux.choices[1].disabled == "tmux is not installed"
    resume = q.where_question(saved=True, estimate_seconds=None, tmux_available=True, allow_save_only=False)
    assert resume.default == q.AT_BACK


def test_resume_offered_only_when_there_is_something_to_resume() -> None:
    def values(status: str, checkpoint: bool) -> list[str]:
        return [c.value for c in q.session_actions(status, checkpoint)]

    relaunches = ["relaunch", "relaunch_data", "relaunch_settings", "details"]
    assert values("interrupted", True) == ["resume", *relaunches]
    assert values("failed", True) == ["resume", *relaunches]
    assert values("interrupted", False) == relaunches
    assert values("completed", True) == relaunches
    assert values("pending", False) == ["start", *relaunches]
    assert [c.value for c in q.session_actions("completed", True, budget_spent=True)] == ["continue", *relaunches]
    assert [c.value for c in q.session_actions("completed", False, budget_spent=True)] == relaunches


def test_override_options_round_trip() -> None:
    from llm_tool.config import apply_overrides

    sets = [q.override_option("epochs", 4), q.override_option("class_weights", "balanced"),
            q.override_option("max_length", None), q.override_option("selected_model", "/m")]
    raw = apply_overrides({"model_config": {}}, sets)
    assert raw["model_config"] == {"epochs": 4, "class_weights": "balanced", "max_length": None,
                                   "selected_model": "/m"}


def test_find_data_files_skips_the_tools_own_folders(tmp_path: Path) -> None:
    for rel in ("a.csv", "sub/b.jsonl", "sub/deeper/c.parquet", "logs/x.csv", "models/m/y.csv", ".venv/z.csv",
                ".hidden/w.csv", "readme.txt", "cfg.json", "d1/d2/d3/d4/too_deep.csv"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"dataset_config": {}}' if rel == "cfg.json" else "text,label\n")
    model = tmp_path / "my_model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "tokenizer.json").write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in find_data_files(tmp_path, suffixes=q.DATA_SUFFIXES)]
    assert found == ["a.csv", "sub/b.jsonl", "sub/deeper/c.parquet"]


def test_column_guesses_on_the_sample(tmp_path: Path, sample_csv: Path) -> None:
    table = read_table(write_sample(tmp_path, sample_csv))
    assert guess_text_column(table) == "text"
    assert guess_label_column(table, "text") == "label"
    renamed = write_csv(tmp_path / "r.csv", [{"review": r["text"], "origin": r["source"], "y2": r["label"]}
                                             for r in table.rows])
    table = read_table(renamed)
    assert guess_text_column(table) == "review"
    assert guess_label_column(table, "review") == "y2"  # 2 distinct values beats 3


def test_multi_label_detection() -> None:
    assert detect_strategy(["pos", "neg", "pos"])[0] == "single-label"
    assert detect_strategy(["a|b", "b", "a|c", "c"]) == ("multi-label", "labels joined with '|'")
    assert detect_strategy([["a"], ["a", "b"]]) == ("multi-label", "labels are lists")
    assert detect_strategy(['["a", "b"]', '["b"]'])[0] == "multi-label"
    assert detect_strategy(["Hello, world", "Goodbye, moon"])[0] == "single-label"  # commas, no shared parts


def test_analysis_of_the_sample(tmp_path: Path, sample_csv: Path) -> None:
    path = write_sample(tmp_path, sample_csv)
    dataset = {"primary_file": str(path), "text_column": "text", "label_column": "label",
               "strategy": "single-label", "format": "auto"}
    table = read_table(path)
    assert label_distribution(table, dataset) == {"negative": 30, "positive": 30}
    result = analyse(table, dataset)
    assert result["rows"] == 60 and result["classes"] == 2 and result["imbalance_ratio"] == 1.0
    assert result["languages"] == ["EN"] and result["tokenizer"] == "all-MiniLM-L6-v2"
    assert 5 < result["token_stats"]["token_p95"] < 100 and result["long_documents"] is False
    assert result["warnings"] == []
    skewed = write_csv(tmp_path / "skewed.csv", [{"text": f"text number {i}", "label": "a" if i < 40 else "b"}
                                                 for i in range(44)])
    assert any("imbalanced" in w for w in analyse(read_table(skewed), {**dataset, "primary_file": str(skewed)})
               ["warnings"])


def test_model_recommendations() -> None:
    english = recommend_models(["EN"], long_documents=False)
    assert english[0] == ("all-MiniLM-L6-v2", english[0][1], True)  # bundled: marked offline
    assert default_model(english) == "all-MiniLM-L6-v2"
    french = [name for name, _, _ in recommend_models(["FR"], long_documents=False)]
    assert french[0] == "camembert-base" and "xlm-roberta-base" in french
    assert recommend_models(["EN", "DE"], long_documents=False)[0][0] == "xlm-roberta-base"
    assert recommend_models(["EN"], long_documents=True)[0][0] == "allenai/longformer-base-4096"


def test_draft_makes_a_valid_config(tmp_path: Path, sample_csv: Path) -> None:
    path = write_sample(tmp_path, sample_csv)
    draft = Draft(data_path=path, text_column="text", label_column="label", mode="custom",
                  settings={"epochs": 2, "class_weights": "balanced"}, model="all-MiniLM-L6-v2")
    raw = draft.raw_config()
    json.dumps(raw)
    config = parse_config(raw)
    assert config.model.epochs == 2 and config.model.training_mode == "custom"
    assert config.dataset.primary_file == str(path)
    draft.mode, draft.models = "benchmark", ["m1", "m2"]
    assert draft.raw_config()["model_config"] == {"selected_model": "m1", "training_mode": "benchmark",
                                                  "epochs": 2, "class_weights": "balanced"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["llm_tool/wizard", "llm_tool/doctor"])
def test_only_the_seam_imports_questionary_and_core_imports_no_ui(folder: str) -> None:
    for path in sorted((ROOT / folder).glob("*.py")):
        imports = _imports(path)
        prompt_libs = {n for n in imports if n.split(".")[0] in ("questionary", "prompt_toolkit")}
        if path.name != "prompts.py":
            assert not prompt_libs, f"{path.name} imports {prompt_libs}: only wizard/prompts.py may"
        if folder == "llm_tool/doctor" or path.name in ("questions.py", "detect.py", "analyse.py", "draft.py"):
            ui = {n for n in imports if n.split(".")[0] == "rich" or n.startswith(("llm_tool.ui", "llm_tool.cli"))}
            assert not ui, f"{path.name} must stay plain data, imports {ui}"
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, f"{path.name} is over 400 lines"
