"""Length-grouped batches whose order depends only on (seed, epoch), so a mid-epoch resume replays them exactly."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import Sampler
from transformers import Trainer
from transformers.trainer_pt_utils import get_length_grouped_indices


class EpochSeededLengthSampler(Sampler[int]):
    """transformers' LengthGroupedSampler draws from the global RNG, which a resume restores only after the
    epoch's order was drawn; seeding per epoch makes the resumed epoch identical to the uninterrupted one."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int, current_epoch: Callable[[], float]) -> None:
        self.lengths, self.batch_size, self.seed = list(lengths), batch_size, seed
        self.current_epoch = current_epoch  # read at each __iter__: set_epoch does not reach a sampler
        # that accelerate's skip_first_batches wrapped on resume, but the restored TrainerState knows the epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        epoch = math.floor(self.current_epoch() + 1e-9)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))


class SessionTrainer(Trainer):
    """The stock Trainer with an epoch-seeded length-grouped sampler; ``sequential_eval``: evaluation in dataset
    order (chunks: each prediction's row is known, so windows fold into their texts)."""

    sequential_eval = False

    def _get_eval_sampler(self, eval_dataset: Any) -> Any:
        if self.sequential_eval and self.args.world_size <= 1:
            from torch.utils.data import SequentialSampler

            return SequentialSampler(eval_dataset)
        if self.sequential_eval:  # distributed: accelerate shards in order and gathers back in order
            return None
        return super()._get_eval_sampler(eval_dataset)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset: Any = train_dataset if train_dataset is not None else self.train_dataset
        if self.args.train_sampling_strategy == "group_by_length":
            # the "length" column may already be gone (unused by the model): input_ids give the same lengths
            names = dataset.column_names
            lengths = dataset["length"] if "length" in names else [len(ids) for ids in dataset["input_ids"]]
            size = self.args.train_batch_size * self.args.gradient_accumulation_steps
            return EpochSeededLengthSampler(lengths, size, self.args.seed,
                                            lambda: float(self.state.epoch or 0.0))
        return super()._get_train_sampler(train_dataset)
