"""Shared presentation: the Rich console, tables, progress, prompts (confirm, choose) and how a launch is shown."""
