"""What preparing data gives training: the splits, the label names and the facts the session records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_tool.data.splits import Split


@dataclass
class PreparedData:
    splits: dict[str, Split]
    label_names: list[str]
    multi_label: bool
    record: dict[str, Any] = field(default_factory=dict)  # recorded fields for dataset_config

    def all_texts(self) -> list[str]:
        return [t for s in self.splits.values() for t in s.texts]


def resolve_path(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base_dir / path)
