"""Step 3's question: the data's own split (a split column, sibling files), typed files, or a random one."""

from __future__ import annotations

from pathlib import Path

from llm_tool.wizard.questions import Choice, Question, select, validate_data_path

RANDOM_SPLIT, SIBLING_SPLIT, SEPARATE_FILES = "random", "siblings", "files"
COLUMN_SPLIT = "column:"  # + the column's name
GROUP_SPLIT, TIME_SPLIT = "group:", "time:"  # + the column's name (dataset_config.split_group/time_column)


def split_question(columns: list[tuple[str, dict[str, int]]], siblings: dict[str, Path], default: str,
                   validation_share: float = 0.1, test_share: float = 0.1, *,
                   groups: list[tuple[str, int]] | None = None,
                   dates: list[tuple[str, str, str]] | None = None) -> Question:
    """Step 3's question: an official split (a split column, sibling files, files typed), a leakage-safe one (by
    group or by date), or a random one."""
    choices = []
    for column, sizes in columns:
        choices.append(Choice(f"Use the column '{column}': train {sizes['train']} / validation "
                              f"{sizes['validation']} / test {sizes['test']} rows", COLUMN_SPLIT + column,
                              "the data's own split: test rows are never trained on"))
    if siblings:
        named = ", ".join(f"{p.name} ({split})" for split, p in siblings.items())
        choices.append(Choice(f"Use the files beside it: {named}", SIBLING_SPLIT,
                              "the official files: test rows are never trained on"))
    for column, count in groups or []:
        choices.append(Choice(f"Keep each '{column}' in one split ({count} groups)", GROUP_SPLIT + column,
                              "rows of one document, speaker or user never on two sides: honest test scores"))
    for column, oldest, newest in dates or []:
        choices.append(Choice(f"Split by date '{column}' ({oldest} … {newest}): train on the oldest",
                              TIME_SPLIT + column, "validate and test on the newest rows, as the model will be used"))
    train = round(100 * (1 - validation_share - test_share))
    choices.append(Choice(f"Random stratified split {train}/{round(100 * validation_share)}/"
                          f"{round(100 * test_share)} (seed 42)", RANDOM_SPLIT,
                          "when the data has no official split"))
    choices.append(Choice("Separate validation and/or test files… (type their paths)", SEPARATE_FILES,
                          "rows of those files are never trained on"))
    hint = "found an official split in the data: keep it" if columns or siblings else ""
    return select("split", "Step 3/8 · Train / validation / test split", choices, default, help=hint)


def relaunch_confirm_question() -> Question:
    return select("relaunch_summary", "Relaunch with these settings?", [Choice("Continue", "continue")], "continue")


def split_file_question(split: str, default: str = "") -> Question:
    """The path of a separate validation or test file (empty: none, split it off the training file)."""
    def validate(text: str) -> str | None:
        return None if not text.strip() else validate_data_path(text)

    return Question(f"{split}_file", "path", f"Path of the {split} file (empty: none)", default=default,
                    validate=validate,
                    convert=lambda text: Path(text.strip()).expanduser().resolve() if text.strip() else None,
                    help=f"leave empty to split the {split} rows off the training file")
