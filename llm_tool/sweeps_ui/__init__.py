"""Sweep user interfaces: the control window (curses) and the Rich tables of sweep commands."""
