"""The answers of a new training session so far, and the raw config they make (what `llm-tool train` reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.config.schema import DEFAULT_MODEL
from llm_tool.data.formats import Table
from llm_tool.wizard.detect import dataset_section
from llm_tool.wizard.tasks_step import SEVERAL_COLUMNS


@dataclass
class Draft:
    data_path: Path | None = None
    table: Table | None = None
    text_column: str | None = None
    label_column: str | None = None
    strategy: str = "single-label"
    strategy_column: str | None = None  # the label column the strategy was chosen for
    analysis: dict[str, Any] | None = None
    analysis_key: tuple[Any, ...] | None = None
    mode: str = "quick"
    settings: dict[str, Any] = field(default_factory=dict)
    model: str = DEFAULT_MODEL
    model_chosen: bool = False  # the user picked ``model`` (else the pointer follows the data's languages)
    models: list[str] = field(default_factory=list)  # benchmark mode: the candidates
    plan: Any = None
    plans: list[Any] = field(default_factory=list)  # benchmark mode: one training plan per candidate
    sweep_name: str | None = None  # benchmark mode: the sweep it will start
    save: bool = True
    session_path: Path | None = None
    split: str | None = None  # the split question's answer (None: not asked yet)
    split_column: str | None = None
    split_group_column: str | None = None  # a leakage-safe split by group or by date (data/split_rules.py)
    split_time_column: str | None = None
    validation_file: Path | None = None
    test_file: Path | None = None
    long_text: str | None = None  # model_config.long_text, asked when some texts exceed the model's limit
    tasks: list[str] | None = None  # several annotation dimensions: the tasks ticked (one model each)
    task_columns: list[str] | None = None  # several label columns: the columns ticked (label_column says so)
    compare_languages: bool = False  # benchmark mode: one model for every language vs one per language
    language_column: str | None = None  # the data's column of language codes (None: detected)

    def dataset(self) -> dict[str, Any]:
        assert self.data_path and self.text_column and self.label_column
        section = dataset_section(self.data_path, self.text_column, self.label_column, self.strategy)
        if self.tasks is not None:
            section.update(label_column=None, tasks=list(self.tasks))
            if self.label_column == SEVERAL_COLUMNS:
                section["label_columns"] = list(self.task_columns or [])
            else:
                section["annotation_column"] = self.label_column
        for key in ("split_column", "split_group_column", "split_time_column"):
            if getattr(self, key):
                section[key] = getattr(self, key)
        if self.language_column:
            section["language_column"] = self.language_column
        if self.validation_file:
            section["validation_file"] = str(self.validation_file)
        if self.test_file:
            section["test_file"] = str(self.test_file)
        return section

    def raw_config(self) -> dict[str, Any]:
        """The config dict handed to the core (the same shape as a `llm-tool train` config file). In benchmark
        mode it is the base of every candidate (each job sets its own model); its model is the first one."""
        model = self.models[0] if self.mode == "benchmark" and self.models else self.model
        preset = self.mode.removeprefix("preset:") if self.mode.startswith("preset:") else None
        settings = {"training_mode": "quick", "preset": preset} if preset else {"training_mode": self.mode}
        long_text = {"long_text": self.long_text} if self.long_text else {}
        return {"dataset_config": self.dataset(),
                "model_config": {"selected_model": model, **settings, **self.settings, **long_text}}
