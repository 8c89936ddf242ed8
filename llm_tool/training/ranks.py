"""Data-parallel runs under torchrun: this process's rank, who writes, and stop decisions every rank agrees on."""

from __future__ import annotations

import os


def rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def world_size() -> int:
    return max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))


def is_writer() -> bool:
    """Only rank 0 writes the session file, the log, checkpoint markers, the model and the results."""
    return rank() == 0


def agree_to_stop(wanted: bool) -> bool:
    """True on every rank when any rank was asked to stop (each rank gets its own signal, at its own time; ranks
    that stopped at different steps would wait for each other forever)."""
    if world_size() == 1:
        return wanted
    import torch
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        return wanted
    flag = torch.tensor([1 if wanted else 0], dtype=torch.int32)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def wait_for_all() -> None:
    """Return when every rank got here (a no-op for one process): e.g. each rank has written its part of a
    checkpoint (its RNG state) before rank 0 marks the checkpoint complete."""
    if world_size() == 1:
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def peer_lost(exc: BaseException) -> bool:
    """An error that says another process of the group went away (gloo/NCCL), not a fault of this run."""
    if world_size() == 1:
        return False
    import torch.distributed as dist

    errors = tuple(e for e in (getattr(dist, "DistError", None),) if isinstance(e, type))
    text = str(exc).lower()
    return isinstance(exc, errors) or (isinstance(exc, RuntimeError) and any(
        word in text for word in ("connection closed", "connection reset", "gloo", "nccl", "broken pipe")))
