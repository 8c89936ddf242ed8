"""A model folder's ONNX copy for fast CPU inference: exported once from its safetensors, kept in a per-user cache."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from llm_tool.errors import ModelError
from llm_tool.model_folder import CONFIG_FILE, ONNX_FILE, WEIGHTS_FILE
from llm_tool.python_argv import module_argv
from llm_tool.untrusted import shown

log = logging.getLogger(__name__)

CACHE_ENV = "LLM_TOOL_CACHE"
RECIPE = "onnx-2"  # bump when the export below changes: older copies are then rebuilt (2: sha256 manifest)
_HASHED = (CONFIG_FILE, WEIGHTS_FILE)
_LIBRARIES = ("torch", "transformers", "onnxscript")


def cache_root() -> Path:
    """``$LLM_TOOL_CACHE``, else ``$XDG_CACHE_HOME/llm-tool``, else ``~/.cache/llm-tool``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llm-tool"


def onnx_runtime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def copy_folder(model_dir: Path) -> Path:
    return cache_root() / "onnx" / copy_key(model_dir)


def _failed_marker(folder: Path) -> Path:
    """``<key>.failed`` beside the copy's folder: why this model could not be exported (never retried)."""
    return folder.with_suffix(".failed")


def _settled(folder: Path) -> bool:
    """The copy was made, or found impossible: nothing is left to export."""
    return folder.exists() or _failed_marker(folder).exists()


def has_copy(model_dir: Path) -> bool:
    """Whether ``model_dir`` was already exported (or found not exportable): ``cached_copy`` will not export."""
    return _settled(copy_folder(model_dir))


def ready_copy(model_dir: Path) -> Path | None:
    """The ONNX copy of ``model_dir`` when it has been made, else None (nothing is exported). A copy that cannot be
    trusted (the cache not private, a file not matching its manifest) raises CacheRefused saying why."""
    from llm_tool.training.onnx_cache import check_private, verify_copy

    folder = copy_folder(model_dir)
    if not folder.exists() and not folder.is_symlink():
        return None
    for part in (cache_root(), folder.parent):
        check_private(part)
    verify_copy(folder, RECIPE)
    return folder / ONNX_FILE


def unexportable(model_dir: Path) -> bool:
    """An earlier export of this model failed (the reason is in the cache's ``<key>.failed``)."""
    return _failed_marker(copy_folder(model_dir)).exists()


def disabled_reason(model_dir: Path) -> str:
    """Which marker turned ONNX off for this model, and the reason it records (read bounded, shown escaped)."""
    from llm_tool.untrusted import read_json_file

    marker = _failed_marker(copy_folder(model_dir))
    try:
        data = read_json_file(marker, ModelError, what="ONNX failure marker", max_bytes=1 << 16)
        reason = data.get("reason") if isinstance(data, dict) else None
    except ModelError as exc:
        reason = str(exc)
    return (f"ONNX is off for this model: {shown(str(marker))} records that its export failed "
            f"({shown(reason if isinstance(reason, str) else 'no reason recorded')}); delete that file to try again, "
            "or use --backend torch")


def export_in_background(model_dir: Path) -> bool:
    """Start making the copy in a detached, low-priority process (``python -m llm_tool.training.onnx_copy``),
    unless it exists, failed before, or another process is making it (``<key>.building`` names a live one).
    True when a process was started. Never raises: without a copy, inference simply stays on torch."""
    import subprocess

    from llm_tool.training.onnx_cache import make_private

    folder = copy_folder(model_dir)
    if _settled(folder):
        return False
    marker = folder.with_suffix(".building")
    try:
        make_private(folder.parent, cache_root())
        if marker.exists() and not _stale(marker):
            return False
        marker.unlink(missing_ok=True)
        handle = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # one builder, whoever wins
    except ModelError as exc:  # the cache is not private: say so, since ONNX then stays off for every model
        log.warning("%s; inference runs through torch", exc)
        return False
    except OSError:
        return False
    with os.fdopen(handle, "w") as out:
        try:
            child = subprocess.Popen(module_argv("llm_tool.training.onnx_copy", str(model_dir)),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            out.close()
            marker.unlink(missing_ok=True)
            return False
        out.write(str(child.pid))
    return True


def _stale(marker: Path, older_than_s: float = 3600.0) -> bool:
    """A ``.building`` marker whose process is gone, or that is older than any export takes."""
    import time

    import psutil

    try:
        pid_text = marker.read_text().strip()
        age = time.time() - marker.stat().st_mtime
    except OSError:
        return True
    if age > older_than_s:
        return True
    if not pid_text:
        return age > 60  # being written by the process that created it
    return not (pid_text.isdigit() and psutil.pid_exists(int(pid_text)))


def copy_key(model_dir: Path) -> str:
    """The content address of a model's ONNX copy: its weights and architecture, the export recipe and the
    versions of the libraries that export it. Another folder with the same files shares the copy."""
    stamp = tuple((str((model_dir / name).resolve()), (model_dir / name).stat().st_size,
                   (model_dir / name).stat().st_mtime_ns) for name in _HASHED)
    return _key(stamp)


@functools.lru_cache(maxsize=8)
def _key(stamp: tuple[tuple[str, int, int], ...]) -> str:
    """Hashes the files named in ``stamp`` once per process (while their size and time stay the same)."""
    from llm_tool.data.hashing import file_sha256

    digest = hashlib.sha256(RECIPE.encode())
    for name in _LIBRARIES:
        digest.update(f"|{name}={_version(name)}".encode())
    for path, _, _ in stamp:
        digest.update(f"|{Path(path).name}={file_sha256(Path(path))}".encode())
    return digest.hexdigest()[:32]


def cached_copy(model_dir: Path) -> Path:
    """The ONNX copy of ``model_dir`` (``.../model.onnx``), exported now when there is none yet. Raises a ModelError
    saying why when there can be none: the cache is not private or not writable, a copy does not match its
    manifest, or the export failed (now or before: the cache's ``<key>.failed`` remembers why)."""
    from llm_tool.training.onnx_cache import CacheRefused, make_private, write_manifest

    found = ready_copy(model_dir)
    if found is not None:
        return found
    folder = copy_folder(model_dir)
    failed = _failed_marker(folder)
    if failed.exists() or failed.is_symlink():
        raise CacheRefused(disabled_reason(model_dir))
    make_private(folder.parent, cache_root())
    try:
        _remove_stale_staging(folder)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise CacheRefused(f"no ONNX copy of {shown(str(model_dir))}: cannot write the cache "
                           f"{shown(str(folder.parent))} ({exc.strerror or exc}); set LLM_TOOL_CACHE to a writable "
                           "folder") from None
    try:
        export(model_dir, staging / ONNX_FILE)
        write_manifest(staging, RECIPE)
    except Exception as exc:  # noqa: BLE001 - any export failure means: run this model through torch
        shutil.rmtree(staging, ignore_errors=True)
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        log.warning("no ONNX copy of %s (inference runs through torch): %s", shown(str(model_dir)), shown(reason))
        failed.write_text(json.dumps({"model_dir": str(model_dir), "reason": reason}))
        raise CacheRefused(disabled_reason(model_dir)) from None
    try:
        staging.rename(folder)  # atomic; another process that got there first wins and ours is dropped
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return folder / ONNX_FILE


def _remove_stale_staging(folder: Path, older_than_s: float = 3600.0) -> None:
    """Half-made copies of ``folder`` left by a process killed while exporting (an export takes seconds)."""
    import time

    for leftover in folder.parent.glob(f".{folder.name}.*"):
        try:
            if time.time() - leftover.stat().st_mtime > older_than_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def export(model_dir: Path, destination: Path) -> None:
    """Export ``model_dir``'s classifier (fp32, the library's attention) to ONNX with a dynamic batch and length:
    inputs ``input_ids`` and ``attention_mask``, output ``logits``."""
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), use_safetensors=True).eval()
    longest = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    example = torch.tensor([[1, 5, 6, 2], [1, 7, 2, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", min=2, max=max(longest, 4))
    axes = {0: batch, 1: length}
    with _quiet_exporter():
        program = torch.onnx.export(_logits_only(model), example, input_names=["input_ids", "attention_mask"],
                                    output_names=["logits"], dynamo=True, opset_version=18, verbose=False,
                                    dynamic_shapes={"input_ids": axes, "attention_mask": axes})
        if program is None:
            raise RuntimeError("the exporter returned no program")
        program.save(str(destination), external_data=True)


def _logits_only(model):  # type: ignore[no-untyped-def]
    """``model`` as a module from (input_ids, attention_mask) to logits, the graph the copy holds."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):  # type: ignore[no-untyped-def]
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly()


def _quiet_exporter():  # type: ignore[no-untyped-def]
    """The exporter prints its progress and warns about axis names: keep that out of the user's terminal."""
    import contextlib
    import io
    import warnings

    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    return stack


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def main(argv: list[str]) -> int:
    """The background builder: ``python -m llm_tool.training.onnx_copy MODEL_DIR``, at low priority."""
    model_dir = Path(argv[0])
    with contextlib.suppress(OSError):
        os.nice(10)
    try:
        cached_copy(model_dir)
    except ModelError:  # the reason is remembered in <key>.failed, or the cache is refused: torch it is
        pass
    finally:
        copy_folder(model_dir).with_suffix(".building").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    import sys

    from llm_tool.process_end import exit_code

    raise SystemExit(exit_code(main(sys.argv[1:])))
