"""Run trainings detached in tmux: the tool's tmux server, the job supervisor, launching, listing and stopping."""
