"""Live dashboard of the trainings running in tmux: progress, metrics, log tails and machine load."""
