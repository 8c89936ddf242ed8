"""Which job endings are worth a retry (crashes, kills we did not send) and how long to wait before one."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from llm_tool.errors import ExitCode

# The training engine's exit codes (llm_tool.errors.ExitCode, the one table).
EXIT_COMPLETED, EXIT_FAILED, EXIT_USER_ERROR, EXIT_INTERRUPTED = (ExitCode.OK, ExitCode.FAILED, ExitCode.USER_ERROR,
                                                                  ExitCode.INTERRUPTED)
MAX_BACKOFF = 300.0
# Exit statuses a shell reports for these signals (128 + n): a wrapped job killed by the OOM killer or crashing.
_TRANSIENT_SIGNALS = (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT)


@dataclass(frozen=True)
class Ending:
    """How one attempt ended: the exit code as recorded (128 + n for signal n) and what it means."""

    exit_code: int
    signal_name: str | None
    kind: str  # completed | interrupted | user_error | crashed | killed | other
    retryable: bool
    reason: str


def normalise(returncode: int) -> tuple[int, str | None]:
    """``Popen.returncode`` to (exit code, signal name): -9 becomes (137, 'SIGKILL')."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return 128 - returncode, name
    return returncode, None


def classify(returncode: int, *, stopped_by_us: bool) -> Ending:
    """Exit 1 and signals we did not send are transient; 2 (bad config, data or model) and 130 are not."""
    code, sig = normalise(returncode)
    if code == EXIT_COMPLETED and sig is None:
        return Ending(code, None, "completed", False, "completed")
    if stopped_by_us:
        return Ending(code, sig, "interrupted", False, f"stopped ({sig or f'exit code {code}'})")
    if sig is not None:
        return Ending(code, sig, "killed", True, f"killed by {sig}")
    if code == EXIT_INTERRUPTED:
        return Ending(code, None, "interrupted", False, f"interrupted (exit code {EXIT_INTERRUPTED})")
    if code == EXIT_USER_ERROR:
        return Ending(code, None, "user_error", False, "a configuration, data or model error (exit code 2)")
    if code == EXIT_FAILED:
        return Ending(code, None, "crashed", True, "crashed (exit code 1)")
    if code - 128 in {int(s) for s in _TRANSIENT_SIGNALS}:
        name = signal.Signals(code - 128).name
        return Ending(code, name, "killed", True, f"killed by {name} (exit code {code})")
    return Ending(code, None, "other", False, f"exit code {code}")


def backoff_delay(failed_attempt: int, base: float) -> float:
    """``base``, then doubling per failed attempt, capped at five minutes."""
    return float(min(MAX_BACKOFF, max(0.0, base) * 2.0 ** max(0, failed_attempt - 1)))
