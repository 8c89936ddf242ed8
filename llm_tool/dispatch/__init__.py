"""Run sessions: the launch seam (foreground, tmux, save), the tmux server, job supervisor, listing and stopping."""
