"""Which precision and attention kernels a run uses, and that a resume keeps the recorded ones."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from llm_tool.sessions.schema import Environment
from llm_tool.training import engine
from llm_tool.training.environment import (
    Device,
    attention_kernels,
    cpu_supports_bf16,
    precision_flags,
    resolve_precision,
)

CPU_BF16 = Device("cpu", cuda=False, bf16=True)
CPU_PLAIN = Device("cpu", cuda=False, bf16=False)
GPU_BF16 = Device("cuda (H100)", cuda=True, bf16=True, gpus=1)
GPU_OLD = Device("cuda (T4)", cuda=True, bf16=False, gpus=1)


@pytest.mark.parametrize(("requested", "device", "expected"), [
    ("auto", CPU_BF16, "bf16"), ("auto", CPU_PLAIN, "fp32"), ("fp32", CPU_BF16, "fp32"),
    ("bf16", CPU_PLAIN, "bf16"), ("fp16", CPU_BF16, "fp32"),
    ("auto", GPU_BF16, "bf16"), ("auto", GPU_OLD, "fp16"), ("fp32", GPU_BF16, "fp32"), ("fp16", GPU_BF16, "fp16"),
])
def test_precision_follows_the_request_and_the_hardware(requested, device, expected):
    assert resolve_precision(requested, device) == expected


def test_flags_and_attention():
    assert precision_flags("bf16", "auto", CPU_BF16) == {"bf16": True, "fp16": False, "tf32": False}
    assert precision_flags("fp16", "auto", GPU_OLD) == {"bf16": False, "fp16": True, "tf32": True}
    assert precision_flags("fp32", "fp32", GPU_BF16)["tf32"] is False
    assert attention_kernels("auto", "bf16", CPU_BF16) == "eager"
    assert attention_kernels("auto", "fp32", CPU_BF16) is None  # the library's choice (sdpa)
    assert attention_kernels("auto", "bf16", GPU_BF16) is None
    assert attention_kernels("sdpa", "bf16", CPU_BF16) == "sdpa"


def test_cpu_flags_are_read_from_cpuinfo():
    try:
        with Path("/proc/cpuinfo").open() as cpuinfo:
            flags = next(line for line in cpuinfo if line.startswith("flags")).split()
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo flags here")
    assert cpu_supports_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)


def _run(precision: str, recorded: Environment) -> SimpleNamespace:
    config = SimpleNamespace(model=SimpleNamespace(precision=precision, attention="auto"))
    return SimpleNamespace(meta=SimpleNamespace(environment=recorded), config=config)


def test_a_resume_keeps_the_recorded_precision_and_attention():
    recorded = Environment(precision="fp32", attention="sdpa")
    kept = engine._numerics(_run("auto", recorded), CPU_BF16, resume=True)
    assert (kept.name, kept.precision, kept.attention) == ("cpu", "fp32", "sdpa")
    fresh = engine._numerics(_run("auto", recorded), CPU_BF16, resume=False)
    assert (fresh.precision, fresh.attention) == ("bf16", "eager")
    # a session from before precision was recorded ran fp32 on a CPU: its resume stays fp32
    old = engine._numerics(_run("auto", Environment()), CPU_BF16, resume=True)
    assert (old.precision, old.attention) == ("fp32", None)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_batched_by_length_predictions_come_back_in_the_input_order(trained, backend):
    """Texts are sorted by length for batching: every row must still get its own prediction."""
    import numpy as np

    from llm_tool.training.inference import Predictor

    texts = ["ok", "This is a much longer review about a phone that broke after two days of use.", "", "Great!",
             "Terrible service and the food was cold, I will never come back here again honestly.", "meh"]
    batched = Predictor(trained.model_dir, batch_size=4, precision="fp32", backend=backend)
    one_by_one = Predictor(trained.model_dir, batch_size=1, precision="fp32", backend=backend)
    expected = np.concatenate([one_by_one.logits([text]) for text in texts])
    assert np.allclose(batched.logits(texts), expected, atol=1e-5)
    assert batched.logits([]).shape == (0, len(batched.labels))
    assert [p.text for p in batched.predict(texts)] == texts


def test_inference_through_torch_uses_the_training_precision_rule(trained):
    from llm_tool.training.inference import Predictor

    def bf16(**options: str) -> bool:
        runner = Predictor(trained.model_dir, backend="torch", **options).runner
        assert runner.name == "torch"
        return bool(runner.bf16)  # type: ignore[union-attr]

    assert bf16(precision="fp32") is False
    assert bf16(precision="bf16") is True
    assert bf16() is cpu_supports_bf16()
