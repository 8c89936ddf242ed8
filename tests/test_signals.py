"""Graceful stops: one signal asks for a checkpoint, a second one aborts, a repeated Slurm warning does not."""

from __future__ import annotations

import os
import signal

import pytest

from llm_tool.training.signals import PREEMPTED, GracefulStop, StopRequested


@pytest.fixture
def stop():
    handler = GracefulStop()
    handler.install()
    yield handler
    handler.restore()


def test_before_training_a_signal_aborts_at_once(stop):
    with pytest.raises(StopRequested, match="stopped by SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)


def test_during_training_the_first_signal_asks_and_a_second_aborts(stop):
    stop.training = True
    os.kill(os.getpid(), signal.SIGINT)
    assert stop.reason == "stopped by SIGINT"
    with pytest.raises(StopRequested, match="stopped by SIGINT"):
        os.kill(os.getpid(), signal.SIGTERM)


def test_the_slurm_warning_twice_is_one_request(stop):
    """Slurm signals every process of the job and the torchrun launcher forwards the warning: a rank gets it twice
    and must still finish its checkpoint."""
    stop.training = True
    os.kill(os.getpid(), signal.SIGUSR1)
    os.kill(os.getpid(), signal.SIGUSR1)
    assert stop.reason == PREEMPTED
    with pytest.raises(StopRequested, match="preempted"):  # a user's stop after it still aborts
        os.kill(os.getpid(), signal.SIGTERM)
