"""The models list of a home: the bundled model, registered local folders, downloads and the Hugging Face cache."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from llm_tool.catalog.known import KNOWN_LANGUAGES
from llm_tool.catalog.registry_file import pretrained_dir, read_registry, write_registry
from llm_tool.errors import ModelError
from llm_tool.model_folder import (
    CONFIG_FILE,
    LOADED_FILES,
    MAX_ENTRIES,
    MODEL_CARD_FILE,
    check_model_folder,
    safetensors_parameters,
)
from llm_tool.untrusted import read_head

WEIGHT_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "vocab*", "merges*", "*.md"]
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


@dataclass
class ModelEntry:
    """One model usable offline: its name, where it is, its languages and parameter count."""

    name: str
    path: str
    source: str  # bundled | folder | download | hub-cache
    languages: list[str] = field(default_factory=list)
    parameters: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_parameters(folder: Path) -> int | None:
    """Parameters in the folder's safetensors files, from their headers alone (no weights are read)."""
    try:
        files = sorted(islice(folder.glob("*.safetensors"), MAX_ENTRIES + 1))
        return sum(safetensors_parameters(file) for file in files) if files else None
    except (ModelError, OSError):  # a listing shows what it can: the folder is refused when it is used
        return None


def card_languages(folder: Path) -> list[str]:
    """The ``language:`` of a model card's front matter (README.md), upper case."""
    try:
        head = read_head(folder / MODEL_CARD_FILE, ModelError, limit=20000, max_bytes=LOADED_FILES[".md"],
                         what="model card")
    except ModelError:  # none, or not a plain file: no languages from it
        return []
    text = head.decode("utf-8", errors="replace")
    match = re.match(r"---\n(.*?)\n---", text, re.DOTALL)
    if not match:
        return []
    found: list[str] = []
    lines = match.group(1).splitlines()
    for number, line in enumerate(lines):
        if line.startswith("language:"):
            inline = line.split(":", 1)[1].strip()
            if inline:
                found = [inline.strip("[]'\" ")] if "," not in inline else \
                    [p.strip("[]'\" ") for p in inline.split(",")]
            else:
                for item in lines[number + 1:]:
                    if not item.startswith(("- ", "  - ")):
                        break
                    found.append(item.split("-", 1)[1].strip().strip("'\""))
    codes = [code.upper() for code in found if code]
    return ["multilingual"] if "MULTILINGUAL" in codes or len(codes) > 5 else codes


def known_languages(name: str) -> list[str]:
    return list(KNOWN_LANGUAGES.get(name.lower(), ()))


def list_models(home: Path | None = None) -> list[ModelEntry]:
    """Every model that loads without a connection here, bundled first."""
    from llm_tool.catalog.offline import BUNDLED_ALIAS, bundled_model_path, cached_hub_models

    entries: list[ModelEntry] = []
    bundled = bundled_model_path()
    if bundled is not None:
        entries.append(ModelEntry(BUNDLED_ALIAS, str(bundled), "bundled", known_languages(BUNDLED_ALIAS),
                                  count_parameters(bundled)))
    for name, entry in sorted(read_registry(home).items()):
        folder = Path(str(entry.get("path", "")))
        if folder.is_dir():
            languages = [str(x) for x in entry.get("languages") or []]
            entries.append(ModelEntry(name, str(folder), str(entry.get("source", "folder")), languages,
                                      count_parameters(folder)))
    names = {e.name.lower() for e in entries}
    for repo in cached_hub_models():
        if repo.lower() not in names:
            entries.append(ModelEntry(repo, "(Hugging Face cache)", "hub-cache", known_languages(repo), None))
    return entries


def add_model(ref: str, *, home: Path | None = None, name: str | None = None,
              languages: list[str] | None = None) -> ModelEntry:
    """Register a local model folder, or download a hub model into ``<home>/pretrained`` (needs a connection)."""
    folder = Path(ref).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        if not (folder / CONFIG_FILE).is_file():
            raise ModelError(f"{folder} has no config.json: give a folder saved with save_pretrained")
        if not any(folder.glob("*.safetensors")):
            raise ModelError(f"{folder} has no .safetensors weights (llm-tool never loads pickles): convert them")
        check_model_folder(folder)
        source, key = "folder", name or folder.name
    else:
        if not NAME_PATTERN.match(ref):
            raise ModelError(f"{ref[:120]!r} is neither a folder nor a Hugging Face id like 'org/name'")
        folder = _download(ref, pretrained_dir(home) / ref.replace("/", "__"))
        source, key = "download", name or ref
    if not NAME_PATTERN.match(key):
        raise ModelError(f"model name {key[:120]!r}: use letters, digits, '.', '_', '-' (and one '/')")
    found = [c.upper() for c in languages or []] or card_languages(folder) or known_languages(key)
    entry = ModelEntry(key, str(folder), source, found, count_parameters(folder))
    models = read_registry(home)
    models[key] = {"path": entry.path, "source": source, "languages": found}
    write_registry(home, models)
    return entry


def _download(repo_id: str, target: Path) -> Path:
    import os

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    how = (f"on a machine with internet run `llm-tool models add {repo_id}`, copy its folder here and register it "
           "with `llm-tool models add FOLDER`")
    if offline:
        raise ModelError(f"cannot download {repo_id}: HF_HUB_OFFLINE is set (no connection); {how}")
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id=repo_id, local_dir=str(target), allow_patterns=WEIGHT_PATTERNS)
    except Exception as exc:  # noqa: BLE001 - no connection, unknown repo, refused: one line
        text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ModelError(f"cannot download {repo_id}: {text}; {how}") from None
    if not any(target.glob("*.safetensors")):
        raise ModelError(f"{repo_id} has no safetensors weights (llm-tool never loads pickles): pick another model")
    return target


def model_languages(name: str, home: Path | None = None) -> list[str]:
    """What a model was trained on, as far as known: its registry entry, its model card, or the known table."""
    try:
        entry = read_registry(home).get(name)
    except ModelError:
        entry = None
    if entry and entry.get("languages"):
        return [str(x) for x in entry["languages"]]
    folder = Path(name).expanduser()
    if folder.is_dir():
        return card_languages(folder)
    return known_languages(name)


def language_warning(name: str, data_languages: dict[str, int], home: Path | None = None) -> str | None:
    """The plain-words mismatch warning for ``name`` on data with these language counts, or None."""
    from llm_tool.catalog.known import language_mismatch

    return language_mismatch(name, model_languages(name, home), data_languages)
