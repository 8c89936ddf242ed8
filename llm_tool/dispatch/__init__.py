"""Run sessions: the launch seam (foreground, tmux, torchrun, Slurm, save), the job supervisor, listing and stopping."""
