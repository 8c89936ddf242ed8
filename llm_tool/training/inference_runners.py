"""The two ways a Predictor runs a model: ONNX Runtime on a CPU (starts in a fraction of a second), torch elsewhere."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llm_tool.errors import ModelError
from llm_tool.model_folder import TOKENIZER_FILE
from llm_tool.untrusted import shown

log = logging.getLogger(__name__)
BACKENDS = ("auto", "onnx", "torch")
# Under `auto` on a CPU with native bf16, more texts than this go through torch in bf16: it starts ~4 s later than
# ONNX Runtime (importing torch and transformers) but runs ~1.7x faster (benchmarks/bench_infer.py: 617 vs 363
# texts/s), so it wins from about 3,600 texts on.
LARGE_JOB = 4000
BACKGROUND_ENV = "LLM_TOOL_ONNX_BACKGROUND"  # 0: `auto` starts no background ONNX export


class OnnxRunner:
    """The model's ONNX copy under ONNX Runtime (fp32, every core) and its fast tokenizer (``tokenizer.json``),
    without importing torch or transformers."""

    name = "onnx"

    def __init__(self, model_dir: Path, onnx_file: Path, pad_id: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.pad_id = pad_id
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], max_length: int) -> list[list[int]]:
        self.tokenizer.enable_truncation(max_length)
        return [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]

    def encode_full(self, texts: list[str]) -> tuple[list[list[int]], list[list[int]]]:
        """Every token of each text with its special tokens, and which of them are special."""
        self.tokenizer.no_truncation()
        found = self.tokenizer.encode_batch(texts)
        return [e.ids for e in found], [e.special_tokens_mask for e in found]

    def run(self, rows: list[list[int]]) -> Any:
        import numpy as np

        width = max(len(ids) for ids in rows)
        input_ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, :len(ids)] = ids
            mask[i, :len(ids)] = 1
        return self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask})[0]


class TorchRunner:
    """The model through transformers and torch, under bf16 autocast where the CPU or GPU does bf16 natively."""

    name = "torch"

    def __init__(self, model_dir: Path, precision: str) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from llm_tool.training.environment import attention_kernels, detect_device, resolve_precision

        hf_logging.set_verbosity_error()  # no library progress bars or load reports around our own display
        hf_logging.disable_progress_bar()
        device = detect_device()
        self.device_type = "cuda" if device.cuda else "cpu"
        resolved = resolve_precision(precision, device)
        self.bf16 = resolved == "bf16"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(model_dir), use_safetensors=True, attn_implementation=attention_kernels("auto", resolved, device))
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"cannot load the model in {model_dir}: {str(exc).splitlines()[0][:160]}") from None
        self.model.eval()
        if self.device_type == "cuda":
            self.model.to("cuda")

    def encode(self, texts: list[str], max_length: int) -> list[list[int]]:
        return list(self.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"])

    def encode_full(self, texts: list[str]) -> tuple[list[list[int]], list[list[int]]]:
        """Every token of each text with its special tokens, and which of them are special."""
        found = self.tokenizer(texts, truncation=False, return_special_tokens_mask=True)
        return list(found["input_ids"]), list(found["special_tokens_mask"])

    def run(self, rows: list[list[int]]) -> Any:
        import torch

        batch = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt").to(self.model.device)
        with torch.inference_mode(), torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            return self.model(**batch).logits.float().cpu().numpy()


def open_runner(model_dir: Path, backend: str, precision: str, pad_id: int,
                on_status: Callable[[str], None] | None = None,
                expected_texts: int | None = None) -> OnnxRunner | TorchRunner:
    """``onnx``: ONNX Runtime, exporting the copy now if needed. ``torch``: never ONNX Runtime. ``auto``: on a machine
    without a GPU, for up to LARGE_JOB texts (or any number on a CPU without native bf16), the model's ONNX copy
    when it is ready; until then torch in fp32 (the copy's numerics) while a background process makes the copy.
    Otherwise, or for a model that cannot be exported, torch with the training's precision rule."""
    from llm_tool.training import onnx_copy

    if backend not in BACKENDS:
        raise ModelError(f"unknown inference backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if backend == "onnx":
        if on_status is not None and not onnx_copy.has_copy(model_dir):
            on_status("Preparing a fast CPU copy of this model (ONNX, once per model; about 15 s)…")
        onnx_file = onnx_copy.cached_copy(model_dir)  # or a ModelError saying what keeps ONNX off
        runner = _onnx_runner(model_dir, onnx_file, pad_id)
        if runner is None:
            raise ModelError(f"the model in {shown(str(model_dir))} cannot be run by ONNX Runtime: use "
                             "--backend torch")
        return runner
    if backend == "torch" or not _onnx_suits(model_dir, precision, expected_texts):
        return TorchRunner(model_dir, precision)
    try:
        ready = onnx_copy.ready_copy(model_dir)
    except ModelError as exc:  # a cache that is not private, a copy that does not match its manifest
        log.warning("%s; inference runs through torch", exc)
        return TorchRunner(model_dir, precision)
    runner = _onnx_runner(model_dir, ready, pad_id) if ready is not None else None
    if runner is not None:
        return runner
    if ready is not None:  # a copy ONNX Runtime refuses (or a tokenizer.json it cannot read): torch, as if none
        return TorchRunner(model_dir, precision)
    if onnx_copy.unexportable(model_dir):
        return TorchRunner(model_dir, precision)
    if background_copies_allowed():
        onnx_copy.export_in_background(model_dir)
    return TorchRunner(model_dir, "fp32")


def background_copies_allowed() -> bool:
    """``LLM_TOOL_ONNX_BACKGROUND=0`` (or false/no/off): `auto` never starts a background export (a shared login
    node, a batch of short jobs); it still uses a copy that exists, and `--backend onnx` still makes one."""
    return os.environ.get(BACKGROUND_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _onnx_runner(model_dir: Path, onnx_file: Path, pad_id: int) -> OnnxRunner | None:
    try:
        return OnnxRunner(model_dir, onnx_file, pad_id)
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime and tokenizers raise their own kinds
        log.warning("cannot run %s with ONNX Runtime (%s): inference runs through torch", shown(str(model_dir)),
                    shown(str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        return None


def _onnx_suits(model_dir: Path, precision: str, expected_texts: int | None) -> bool:
    from llm_tool.training.environment import Device, cpu_supports_bf16, resolve_precision
    from llm_tool.training.onnx_copy import onnx_runtime_available

    if precision == "bf16":  # asked for by name: only torch does it
        return False
    if gpu_present() or not (model_dir / TOKENIZER_FILE).exists() or not onnx_runtime_available():
        return False
    large = expected_texts is not None and expected_texts > LARGE_JOB
    cpu = Device("cpu", cuda=False, bf16=cpu_supports_bf16())
    return not (large and resolve_precision(precision, cpu) == "bf16")


def gpu_present() -> bool:
    """An NVIDIA driver is loaded and not hidden (CUDA_VISIBLE_DEVICES empty): torch, not ONNX Runtime on the CPU,
    is then the faster way. Read without importing torch."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/proc/driver/nvidia/version").exists()
