"""Sweeps and benchmarks: many trainings of one base config in one tmux session, queued, ranked and reported."""
