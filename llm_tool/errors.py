"""Errors a user can act on: each carries a one-line message naming the problem and the fix."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit codes of every llm-tool command and training process (the only table of them)."""

    OK = 0
    FAILED = 1  # a bug, a crash or an outside failure: the message (or --debug) says what
    USER_ERROR = 2  # bad input (config, data, model folder, session): one line naming the problem and the fix
    INTERRUPTED = 130  # Ctrl-C or a stop: what was saved is kept; `sessions resume` continues


class LlmToolError(Exception):
    """Base of every error raised on purpose by llm-tool."""

    exit_code: int = ExitCode.FAILED


class UserError(LlmToolError):
    """Bad input from the user: shown as one line, exit code 2, never a traceback."""

    exit_code = ExitCode.USER_ERROR


class ConfigError(UserError):
    """A configuration key or value is wrong."""


class DatasetError(UserError):
    """A data file cannot be read or does not fit the task."""


class ModelError(UserError):
    """A model name or path cannot be loaded."""


class SessionError(UserError):
    """A training session cannot be found, read or acted on."""


class TmuxError(UserError):
    """tmux is missing or refused a command."""


class InteractiveSessionError(UserError):
    """A prompt was needed but nobody is at a terminal."""


class ConfirmationNeeded(SessionError):
    """An action needs the user's yes (e.g. reading a data file an imported session names outside the home)."""

    def __init__(self, message: str, *, question: str) -> None:
        super().__init__(message)
        self.question = question


class UnsafePathError(LlmToolError):
    """The tool refused to delete or write outside a session's own folder (a bug or a hostile file, never done)."""


class DiskFullError(LlmToolError):
    """The disk filled up while training or saving: the message says where; the last complete checkpoint is kept."""


class SlurmError(UserError):
    """Slurm is missing, an sbatch option is invalid, or Slurm refused a command."""


class OutputError(UserError):
    """An output path the tool will not write: a link, an input, a file in logs/ or models/, or one that exists."""
