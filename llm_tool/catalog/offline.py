"""Which models can be loaded without a connection: bundled aliases, local folders and the Hugging Face cache."""

from __future__ import annotations

from pathlib import Path

from llm_tool.catalog.resolve import PACKAGED_MODELS, available_offline, packaged_model_dir
from llm_tool.model_folder import CONFIG_FILE

BUNDLED_ALIAS = "all-MiniLM-L6-v2"


def in_hub_cache(name: str) -> bool:
    """The model's config.json is in the local Hugging Face cache (so it loads with HF_HUB_OFFLINE=1)."""
    if "/" in name and name.startswith((".", "/", "~")):
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(name, CONFIG_FILE)
    except Exception:  # noqa: BLE001 - an invalid repo id, an unreadable cache: not available
        return False
    return isinstance(found, str)


def usable_offline(name: str) -> bool:
    return available_offline(name) or in_hub_cache(name)


def cached_hub_models(limit: int = 50) -> list[str]:
    """Model repositories in the Hugging Face cache that have a config.json."""
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:  # noqa: BLE001 - no cache folder yet, or huggingface_hub missing
        return []
    names = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model":
            continue
        if any(f.file_name == CONFIG_FILE for rev in repo.revisions for f in rev.files):
            names.append(repo.repo_id)
        if len(names) >= limit:
            break
    return names


def offline_models() -> list[str]:
    """Every model name that loads offline here: the bundled alias (when installed) and cached hub models."""
    names = []
    if packaged_model_dir(BUNDLED_ALIAS) is not None:
        names.append(BUNDLED_ALIAS)
    names += [n for n in cached_hub_models() if n.lower() not in PACKAGED_MODELS]
    return names


def bundled_model_path() -> Path | None:
    return packaged_model_dir(BUNDLED_ALIAS)
