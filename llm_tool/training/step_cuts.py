"""Cuts to the work of a training step (the word-embedding matrix frozen, dropout off): chosen once per run,
recorded in the session's environment, kept by a resume (its optimizer state depends on them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from llm_tool.config.schema import ModelConfig
    from llm_tool.sessions.schema import Environment

WORD_EMBEDDINGS = ("train", "frozen")
DROPOUT = ("model", "off")


@dataclass(frozen=True)
class StepCuts:
    word_embeddings: str = "train"  # train | frozen
    dropout: str = "model"  # model | off


def resolve_cuts(cfg: ModelConfig, recorded: Environment | None) -> StepCuts:
    """The cuts a run uses: on a resume the recorded ones (a run recorded before they existed had none); else the
    config's, "auto" meaning none (benchmarks/bench_step_cuts.py measures what each would change)."""
    if recorded is not None:
        return StepCuts(recorded.word_embeddings if recorded.word_embeddings in WORD_EMBEDDINGS else "train",
                        recorded.dropout if recorded.dropout in DROPOUT else "model")
    return StepCuts("frozen" if cfg.word_embeddings == "frozen" else "train",
                    "off" if cfg.dropout == "off" else "model")


def apply_cuts(model: PreTrainedModel, cuts: StepCuts) -> None:
    """Before the optimizer is made: a frozen matrix gets no gradient and no optimizer state."""
    import torch

    if cuts.word_embeddings == "frozen":
        model.get_input_embeddings().weight.requires_grad_(False)
    if cuts.dropout == "off":
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0


def record_cuts(environment: Environment, cuts: StepCuts) -> None:
    environment.word_embeddings, environment.dropout = cuts.word_embeddings, cuts.dropout
