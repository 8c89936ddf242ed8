"""Sweeps and benchmarks: many trainings of one base config in tmux or one Slurm job array, queued, ranked, reported."""
