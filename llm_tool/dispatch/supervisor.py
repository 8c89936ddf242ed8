"""The job supervisor (`python -m llm_tool.dispatch.supervisor`): log, record attempts, retry crashes, time out.

It runs as a tmux pane's own process. Each attempt runs the job in its own session, writing to the log file
itself (the pane follows the log), so a supervisor killed with -9 never takes the training down; a stop signal
(SIGTERM, SIGINT, SIGHUP from a closed pane) is forwarded as SIGTERM so the trainer checkpoints, then
SIGKILL follows after a grace period. Only crashes (exit 1) and kills we did not send are retried.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from llm_tool.dispatch.child_process import ChildRun, Tee
from llm_tool.dispatch.environment import child_environment, read_env_file
from llm_tool.dispatch.retry_policy import EXIT_INTERRUPTED, Ending, backoff_delay, classify
from llm_tool.dispatch.supervisor_record import SessionRecorder
from llm_tool.python_argv import module_argv
from llm_tool.sessions.store import SessionStore
from llm_tool.training import checkpoints as ckpt

MODULE = "llm_tool.dispatch.supervisor"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
DEFAULT_GRACE = 60.0
DEFAULT_BACKOFF = 10.0


@dataclass
class JobSpec:
    """Everything one supervised job needs; ``command`` None means `llm-tool train --session SESSION_FILE`."""

    session_file: Path | None = None
    home: Path | None = None
    command: list[str] | None = None
    resume: bool = False
    max_retries: int = 0
    timeout_hours: float | None = None
    grace_seconds: float = DEFAULT_GRACE
    backoff_seconds: float = DEFAULT_BACKOFF
    cwd: Path | None = None
    log_file: Path | None = None
    env_file: Path | None = None
    nproc: int | None = None  # torchrun processes of the training (None: the training's own default)

    def to_argv(self, python: str | None = None) -> list[str]:
        """The supervisor's own command line (a list: every value stays one argument, whatever it holds)."""
        argv = module_argv(MODULE, "--max-retries", str(self.max_retries), "--grace", f"{self.grace_seconds:g}",
                           "--backoff", f"{self.backoff_seconds:g}", python=python)
        for flag, value in (("--session", self.session_file), ("--home", self.home), ("--cwd", self.cwd),
                            ("--log", self.log_file), ("--env-file", self.env_file)):
            if value is not None:
                argv += [flag, str(value)]
        if self.timeout_hours is not None:
            argv += ["--timeout-hours", repr(float(self.timeout_hours))]
        if self.nproc is not None:
            argv += ["--nproc", str(int(self.nproc))]
        if self.resume:
            argv.append("--resume")
        if self.command:
            argv += ["--", *self.command]
        return argv


def training_command(session_file: Path, resume: bool, python: str | None = None,
                     nproc: int | None = None) -> list[str]:
    return module_argv("llm_tool", "train", "--session", str(session_file), *(["--resume"] if resume else []),
                       *(["--nproc", str(nproc)] if nproc else []), python=python)


class Supervisor:
    def __init__(self, spec: JobSpec) -> None:
        self.spec = spec
        self.tee = Tee(spec.log_file)
        store = None
        self.home = spec.home
        if spec.session_file is not None:
            self.home = spec.home or spec.session_file.resolve().parents[2]  # <home>/logs/training_sessions/x.json
            store = SessionStore(self.home)
        self.recorder = SessionRecorder(store, spec.session_file, lambda m: self.tee.note(f"warning: {m}"))
        self.deadline = time.monotonic() + spec.timeout_hours * 3600 if spec.timeout_hours else None
        self.stop_reason: str | None = None
        self.timed_out = False
        self.killed = False
        self.stop_sent_at: float | None = None
        self.child: ChildRun | None = None

    # ----- signals, timeout, escalation -------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_reason = self.stop_reason or f"stopped by {signal.Signals(signum).name}"

    def _timeout_reason(self) -> str:
        return f"timeout after {self.spec.timeout_hours:g} h"

    def _check_deadline(self) -> None:
        if self.deadline is not None and self.stop_reason is None and time.monotonic() >= self.deadline:
            self.timed_out = True
            self.stop_reason = self._timeout_reason()

    def _tick(self) -> None:
        """Called while the job runs: forward a stop as SIGTERM once, SIGKILL the group after the grace period."""
        self._check_deadline()
        if self.stop_reason is None or self.child is None or not self.child.alive():
            return
        now = time.monotonic()
        if self.stop_sent_at is None:
            self.stop_sent_at = now
            self.tee.note(f"{self.stop_reason}: asking the job to stop (SIGTERM: a training checkpoints and stops), "
                          f"waiting up to {self.spec.grace_seconds:g} s")
            self.child.signal(signal.SIGTERM)
        elif not self.killed and now - self.stop_sent_at >= self.spec.grace_seconds:
            self.killed = True
            self.tee.note(f"the job did not stop within {self.spec.grace_seconds:g} s: SIGKILL")
            self.child.signal(signal.SIGKILL)

    def _wait_before_retry(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; False when a stop or the timeout came first."""
        end = time.monotonic() + delay
        while time.monotonic() < end:
            self._check_deadline()
            if self.stop_reason is not None:
                return False
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        return True

    # ----- commands and checkpoints -----------------------------------------------------------------
    def _command(self, resume: bool) -> list[str]:
        if self.spec.command:
            return list(self.spec.command)
        assert self.spec.session_file is not None
        return training_command(self.spec.session_file, resume, nproc=self.spec.nproc)

    def _resume_point(self) -> Path | None:
        """The last complete checkpoint; without one, incomplete ones are set aside and the job restarts."""
        meta, store = self.recorder.read(), self.recorder.store
        if meta is None or store is None:
            return None
        found, skipped = ckpt.last_complete(store.output_dirs(meta)[1])
        if found is None and skipped:
            ckpt.set_aside(skipped, meta.session_id, store.home)
        return found

    # ----- the loop ---------------------------------------------------------------------------------
    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            return self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.tee.close()

    def _run(self) -> int:
        spec = self.spec
        env = child_environment(read_env_file(spec.env_file) if spec.env_file else None, home=self.home)
        self.recorder.started(max_retries=spec.max_retries, timeout_hours=spec.timeout_hours,
                              log_file=spec.log_file, command=self._command(spec.resume))
        resume = spec.resume
        resumed_from = self._resume_point() if resume and not spec.command else None
        attempt = 0
        while True:
            self._check_deadline()
            if self.stop_reason is not None:  # asked to stop before this attempt could start
                return self._finish("interrupted", EXIT_INTERRUPTED, self._stop_text(None))
            attempt += 1
            ending = self._attempt(attempt, self._command(resume), env, resumed_from)
            if ending.kind == "completed":
                return self._finish("completed", ending.exit_code, "completed")
            if self.stop_reason is not None or ending.kind == "interrupted":
                return self._finish("interrupted", ending.exit_code, self._stop_text(ending))
            if not (ending.retryable and attempt <= spec.max_retries):
                tries = f"; gave up after {attempt} attempts" if attempt > 1 else ""
                return self._finish("failed", ending.exit_code, f"{ending.reason}{tries}")
            delay = backoff_delay(attempt, spec.backoff_seconds)
            self.recorder.retrying(attempt + 1, delay, ending.reason)
            self.tee.note(f"{ending.reason}: retry {attempt} of {spec.max_retries} in {delay:g} s")
            if not self._wait_before_retry(delay):
                return self._finish("interrupted", EXIT_INTERRUPTED, f"{self.stop_reason} while waiting to retry")
            if not spec.command and self.recorder.completed():
                return self._finish("completed", 0, "completed")  # e.g. killed while tidying up after the save
            resumed_from = None if spec.command else self._resume_point()
            resume = resumed_from is not None or (not spec.command and self.recorder.final_model_saved())

    def _attempt(self, attempt: int, argv: list[str], env: dict[str, str], resumed_from: Path | None) -> Ending:
        total = self.spec.max_retries + 1
        self.child = ChildRun(argv, cwd=self.spec.cwd, env=env)
        self.stop_sent_at, self.killed = None, False
        try:
            pid = self.child.start(self.tee.log)
        except OSError as exc:
            self.tee.note(f"cannot start {argv[0]}: {exc}")
            return Ending(127, None, "other", False, f"cannot start {argv[0]}: {exc}")
        self.recorder.attempt_started(attempt, pid, resumed_from)
        where = f" from {resumed_from.name}" if resumed_from else ""
        self.tee.note(f"attempt {attempt}/{total}{where}: {shlex.join(argv)} (pid {pid})")
        returncode = self.child.pump(self.tee, self._tick)
        ending = classify(returncode, stopped_by_us=self.stop_reason is not None)
        self.recorder.attempt_ended(attempt, ending)
        self.tee.note(f"attempt {attempt}/{total} ended: {ending.reason}")
        return ending

    def _stop_text(self, ending: Ending | None) -> str:
        if self.timed_out:
            killed = f"; killed after a {self.spec.grace_seconds:g} s grace period" if self.killed else ""
            return f"{self._timeout_reason()}{killed}"
        return self.stop_reason or (ending.reason if ending else "stopped")

    def _finish(self, final: str, exit_code: int, reason: str) -> int:
        self.recorder.finished(final, exit_code=exit_code, reason=reason, override_reason=self.timed_out)
        self.tee.note(f"finished: {final} (exit code {exit_code}){'' if final == 'completed' else ': ' + reason}")
        return exit_code


def parse_args(argv: Sequence[str] | None = None) -> JobSpec:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--session", type=Path, help="session metadata file (records attempts and status)")
    parser.add_argument("--home", type=Path, help="llm-tool home of the session (default: from its path)")
    parser.add_argument("--resume", action="store_true", help="the first attempt resumes from the last checkpoint")
    parser.add_argument("--max-retries", type=int, default=0)
    parser.add_argument("--timeout-hours", type=float)
    parser.add_argument("--grace", type=float, default=DEFAULT_GRACE, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--backoff", type=float, default=DEFAULT_BACKOFF, help="first retry delay (doubles)")
    parser.add_argument("--cwd", type=Path, help="the job's working directory")
    parser.add_argument("--log", type=Path, help="log file (appended)")
    parser.add_argument("--env-file", type=Path, help="the job's environment, read once and deleted")
    parser.add_argument("--nproc", type=int, help="torchrun processes of the training")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND...: supervise this instead of training")
    args = parser.parse_args(argv)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if args.session is None and not command:
        parser.error("give --session FILE, or -- COMMAND")
    if args.max_retries < 0 or (args.timeout_hours is not None and args.timeout_hours <= 0):
        parser.error("--max-retries must be >= 0 and --timeout-hours > 0")
    return JobSpec(session_file=args.session.resolve() if args.session else None,
                   home=args.home.resolve() if args.home else None, command=command or None, resume=args.resume,
                   max_retries=args.max_retries, timeout_hours=args.timeout_hours, grace_seconds=args.grace,
                   backoff_seconds=args.backoff, cwd=args.cwd, log_file=args.log, env_file=args.env_file,
                   nproc=args.nproc)


def main(argv: Sequence[str] | None = None) -> int:
    return Supervisor(parse_args(argv)).run()


if __name__ == "__main__":
    raise SystemExit(main())
