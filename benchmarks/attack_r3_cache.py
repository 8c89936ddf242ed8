"""Issue 21 §4: the inference cache trusts what it finds. A planted ONNX graph (a 4-node graph answering 'positive'
for every text), a planted copy with a matching manifest in a cache others can write or another user owns, special
files in the cache, and a `.failed` marker: `infer --backend onnx` must refuse in one line (exit 2) naming why, and
`infer` (auto) must answer through torch (exit 0) with a warning, never the planted graph.

Each case gets LLM_TOOL_CACHE=cache, relative to the folder the command runs in (the case's own, watched folder),
filled before the command runs; the command writes nothing there (a refused cache is not written to).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from attack_r3_files import WORK, copy_model, plant, r3_case, trained
from attack_run import ROOT, Ctx

_LOCK = threading.Lock()


@functools.cache
def _template_cache() -> Path:
    """A cache holding the trained model's real ONNX copy, built once (`infer --backend onnx`)."""
    cache = WORK / "cache"
    if not list((cache / "onnx").glob("*/model.onnx")):
        shutil.rmtree(cache, ignore_errors=True)
        env = {**os.environ, "LLM_TOOL_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "llm_tool", "infer", "--model-dir", str(trained()), "--text", "hi",
                        "--backend", "onnx"], env=env, check=True, capture_output=True, timeout=600)
    return cache


def _setup(ctx: Ctx) -> tuple[Path, Path, Path]:
    """The case's model folder, its cache (a copy of the template: same key, since the key is the model's content)
    and the copy's folder in it."""
    with _LOCK:
        template = _template_cache()
    model = copy_model(ctx, trained())
    cache = ctx.root / "cache"
    shutil.copytree(template, cache, symlinks=True)
    (copy,) = [p for p in (cache / "onnx").iterdir() if p.is_dir()]
    return model, cache, copy


def _planted_graph(destination: Path) -> None:
    """Cast(input_ids) * 0 -> ReduceSum -> + [-9, 9]: 'positive 1.000' for any text."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["ids", "zero"], ["nothing"]),
             helper.make_node("ReduceSum", ["nothing", "axis"], ["row"], keepdims=1),
             helper.make_node("Add", ["row", "verdict"], ["logits"])]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "length"])
              for n in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])
    constants = [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
                 helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
                 helper.make_tensor("verdict", TensorProto.FLOAT, [1, 2], [-9.0, 9.0])]
    graph = helper.make_graph(nodes, "planted", inputs, [output], constants)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(destination))


def _replace_graph(copy: Path, *, with_manifest: bool) -> None:
    for old in copy.iterdir():
        old.unlink()
    _planted_graph(copy / "model.onnx")
    if with_manifest:
        try:
            from llm_tool.training.onnx_cache import write_manifest
            from llm_tool.training.onnx_copy import RECIPE
        except ImportError:  # an llm-tool from before manifests (for the 'before' counts): nothing to match
            return
        write_manifest(copy, RECIPE)


def _args(model: Path, backend: str) -> list[str]:
    return ["infer", "--model-dir", str(model), "--text", "awful, terrible", "--backend", backend, "--json"]


def _register(name: str, build, backend: str) -> None:  # type: ignore[no-untyped-def]
    def case(ctx: Ctx) -> list[str]:
        model, cache, copy = _setup(ctx)
        build(cache, copy)
        return _args(model, backend)
    case.__name__ = f"case_{name}_{backend}"
    # the command runs in ctx.root: a relative LLM_TOOL_CACHE is the case's own cache folder
    # auto answers through torch: importing it and loading the model takes ~25 s on 2 busy cores, not a hang
    r3_case("4-cache", expect=(2,) if backend == "onnx" else (0,), env={"LLM_TOOL_CACHE": "cache"},
            timeout=20 if backend == "onnx" else 90)(case)


def _others_write(cache: Path, copy: Path) -> None:
    _replace_graph(copy, with_manifest=True)
    cache.chmod(0o777)


def _others_write_copy(cache: Path, copy: Path) -> None:
    _replace_graph(copy, with_manifest=True)
    copy.chmod(0o757)


def _other_owner(cache: Path, copy: Path) -> None:
    _replace_graph(copy, with_manifest=True)
    os.chown(copy, 65534, 65534)
    os.chown(copy / "model.onnx", 65534, 65534)


def _failed_marker(cache: Path, copy: Path) -> None:
    shutil.rmtree(copy)
    copy.with_suffix(".failed").write_text(json.dumps({"reason": "RuntimeError: unsupported operator \x1b[31m"}))


CACHE_ATTACKS = {
    "planted_graph": lambda cache, copy: _replace_graph(copy, with_manifest=False),
    "planted_with_manifest_cache_o+w": _others_write,
    "planted_with_manifest_copy_o+w": _others_write_copy,
    "planted_with_manifest_other_owner": _other_owner,
    "cached_onnx_fifo": lambda cache, copy: plant(copy / "model.onnx", "fifo"),
    "cached_onnx_dev_zero": lambda cache, copy: plant(copy / "model.onnx", "dev-zero"),
    "cached_onnx_sparse": lambda cache, copy: plant(copy / "model.onnx", "sparse"),
    "manifest_fifo": lambda cache, copy: plant(copy / "manifest.json", "fifo"),
    "cache_root_dev_zero": lambda cache, copy: (shutil.rmtree(cache), plant(cache, "dev-zero")),
    "failed_marker": _failed_marker,
}
for _name, _build in CACHE_ATTACKS.items():
    for _backend in ("onnx", "auto"):
        _register(_name, _build, _backend)

