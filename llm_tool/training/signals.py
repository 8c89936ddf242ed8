"""Graceful stop: SIGTERM, SIGINT, SIGHUP (tmux kill) and SIGUSR1 (Slurm's warning) ask for a checkpoint and stop."""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)
PREEMPTED = "preempted or near the time limit (SIGUSR1)"  # `#SBATCH --signal=B:USR1@90` or scancel --signal=USR1
REASONS: dict[int, str] = {signal.SIGUSR1.value: PREEMPTED}


class StopRequested(BaseException):
    """Raised when a stop signal arrives before training has started (nothing to checkpoint yet).

    A BaseException, so that the `except Exception` around model loading cannot turn it into a model error."""


class GracefulStop:
    """Before training: a signal aborts at once. During training: it sets ``reason``; a second one aborts."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.training = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def request(self, reason: str) -> None:
        self.reason = self.reason or reason

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        why = REASONS.get(signum) or f"stopped by {signal.Signals(signum).name}"
        if self.training and signum == signal.SIGUSR1 and self.reason == PREEMPTED:
            return  # the same warning again (a rank can get it from the torchrun launcher, which forwards it, and
            # from Slurm itself, e.g. `scancel --full`): one request; aborting would cut the checkpoint short
        if not self.training or self.reason is not None:
            self.reason = self.reason or why
            raise StopRequested(self.reason)
        self.reason = why
