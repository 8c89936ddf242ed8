"""The sweep scheduler (`python -m llm_tool.sweeps.scheduler NAME`), run in a pane of the control window.

Every tick it lists the sweep's panes once, settles jobs whose pane has ended (status from their session), and
starts queued jobs, oldest first, while fewer than `max_parallel` run; each gets its own pane (through the
dispatch supervisor) and, with GPUs, its own CUDA_VISIBLE_DEVICES. All of it happens under the state file's
lock, so jobs added or stopped meanwhile are seen on the next tick. It exits once every job is final."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TextIO

from llm_tool import paths
from llm_tool.dispatch.environment import pane_environment, read_env_file, starter_environment, write_env_file
from llm_tool.dispatch.names import sanitize
from llm_tool.dispatch.panes import JobPane
from llm_tool.dispatch.tmux_launch import TMUX_KEY, job_spec
from llm_tool.dispatch.tmux_server import PaneInfo, TmuxServer
from llm_tool.errors import LlmToolError
from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore
from llm_tool.sweeps import benchmark, tmux_ops
from llm_tool.sweeps.queue import all_final, plan_starts, running
from llm_tool.sweeps.ranking import format_plain, ranking, score_text
from llm_tool.sweeps.state import SweepError, SweepJob, SweepState, SweepStore
from llm_tool.sweeps.state_schema import SchedulerInfo, WindowInfo
from llm_tool.sweeps.strategy_record import finalize as finalize_strategies
from llm_tool.sweeps.strategy_record import is_strategies, plain_lines
from llm_tool.sweeps.summaries import finished_status

MODULE = "llm_tool.sweeps.scheduler"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Scheduler:
    def __init__(self, name: str, *, home: Path, socket: str | None = None, poll: float = 0.5,
                 out: TextIO | None = None) -> None:
        self.name = name
        self.sweeps = SweepStore(home)
        self.store = SessionStore(home)
        self.server = TmuxServer(socket)
        self.poll = poll
        self.out = out or sys.stdout
        state = self.sweeps.read(name)
        self.tmux_name = state.tmux_session
        self.env = read_env_file(self.sweeps.env_path(name)) or starter_environment()
        self.stop_reason: str | None = None

    # ----- output and signals -----------------------------------------------------------------------
    def say(self, text: str) -> None:
        try:
            self.out.write(f"[{datetime.now().strftime('%H:%M:%S')}] {text}\n")
            self.out.flush()
        except OSError:
            pass

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_reason = self.stop_reason or f"stopped by {signal.Signals(signum).name}"

    # ----- one job ------------------------------------------------------------------------------------
    def start(self, state: SweepState, job: SweepJob, gpu: str | None,
              panes: dict[str, PaneInfo]) -> str:
        """Open the job's pane running the supervisor (its old pane again when resumed); the job becomes `running`
        (or `failed` if tmux refuses)."""
        session_file = Path(job.session_file)
        env = dict(self.env)
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu
        env_file = self.store.locks_dir / f"{job.session_id}.{os.getpid()}.env.json"
        start_dir = Path(job.start_dir or self.store.home)
        try:
            spec = job_spec(self.store, session_file, resume=job.resume, max_retries=state.max_retries or 0,
                            start_dir=start_dir, env_file=env_file, session_id=job.session_id,
                            job_command=function_command(job))
            write_env_file(env_file, env)
            old = panes.get(job.pane_id or "")
            if old is not None and old.dead and tmux_ops.pane_is_job(old, job.session_file):
                tmux_ops.respawn_job_pane(self.server, old.pane_id, spec.to_argv(), start_dir=start_dir,
                                          environment=pane_environment(env), title=job.title, job_key=job.key)
                pane, created = JobPane(self.tmux_name, old.session_id, old.window_id, old.pane_id, None), False
            else:
                windows_alive = {p.window_id for p in panes.values()}
                known = state.windows.get(job.window)
                window = known.window_id if known is not None else None
                pane, created = tmux_ops.start_job_pane(
                    self.server, self.tmux_name, window if window in windows_alive else None, job.window,
                    spec.to_argv(), start_dir=start_dir, environment=pane_environment(env),
                    session_file=session_file, title=job.title, job_key=job.key)
        except (LlmToolError, OSError) as exc:
            env_file.unlink(missing_ok=True)
            job.status, job.reason = "failed", f"could not start: {exc}"
            job.finished_at, job.finished_ts = now_iso(), time.time()
            return f"{job.key} {job.title}: could not start ({exc})"
        if created:
            state.windows[job.window] = WindowInfo(window_id=pane.window_id, group=job.group)
        panes.setdefault(pane.pane_id, PaneInfo(  # later starts of this tick see the new window
            session_name=self.tmux_name, session_id=pane.session_id, attached=False, created=None,
            window_id=pane.window_id, pane_id=pane.pane_id, pane_pid=None, dead=False, dead_status=None,
            dead_signal=None, session_file=str(session_file)))
        job.status, job.pane_id, job.window_id, job.gpu = "running", pane.pane_id, pane.window_id, gpu
        job.started_at, job.started_ts, job.stop_requested, job.resume = now_iso(), time.time(), False, False
        self._record_tmux(job, pane.session_id, pane.window_id, pane.pane_id, start_dir)
        where = f" on GPU {gpu}" if gpu is not None else ""
        return f"started {job.key} {job.title} in window {job.window} (pane {pane.pane_id}){where}"

    def _record_tmux(self, job: SweepJob, session_id: str, window_id: str, pane_id: str, start_dir: Path) -> None:
        def apply(meta: SessionMetadata) -> None:
            # `sweep_session`, not `session`: `sessions resume --tmux` reuses a recorded `session` name, and a lone
            # resumed job must not take the sweep's name
            meta.extra[TMUX_KEY] = {"socket": self.server.socket, "sweep_session": self.tmux_name,
                                    "session_id": session_id,
                                    "window_id": window_id, "pane_id": pane_id, "start_dir": str(start_dir),
                                    "config_stem": sanitize(f"{self.name}-{job.title}"), "started_at": now_iso(),
                                    "sweep": self.name, "sweep_job": job.key}
        try:
            self.store.update(Path(job.session_file), apply)
        except LlmToolError as exc:
            self.say(f"warning: cannot record the pane of {job.key}: {exc}")

    # ----- the loop -----------------------------------------------------------------------------------
    def tick(self) -> bool:
        """Settle ended jobs, start queued ones; True when every job is final."""
        panes = tmux_ops.sweep_panes(self.server, self.tmux_name)
        messages: list[str] = []
        settled_any = False
        with self.sweeps.locked(self.name) as state:
            if state.state in ("stopping", "stopped"):
                self.stop_reason = self.stop_reason or "the sweep is being stopped"
                return False
            for job in running(state.jobs):
                pane = panes.get(job.pane_id or "")
                if not tmux_ops.pane_is_job(pane, job.session_file):
                    pane = None
                if pane is not None and not pane.dead:
                    continue
                settled = finished_status(self.store, job, pane)
                if settled is None:
                    continue
                status, code, reason = settled
                job.status, job.exit_code, job.reason = status, code, reason
                job.finished_at, job.finished_ts = now_iso(), time.time()
                messages.append(f"{job.key} {job.title}: {status}" + (f" ({reason})" if reason else ""))
                settled_any = True
            for job, gpu in plan_starts(state.jobs, state.max_parallel or 1, state.gpus):
                if self.stop_reason:
                    break
                messages.append(self.start(state, job, gpu, panes))
            now_running = len(running(state.jobs))
            state.max_running_seen = max(state.max_running_seen, now_running)
            done = all_final(state.jobs)
            if done:  # decided under the lock: a later `sweep start` sees `ended` and starts a new scheduler
                state.state = "finished"
                state.finished_at = now_iso()
                state.scheduler.ended = True
        for message in messages:
            self.say(message)
        if settled_any and (state.kind == "tasks" or is_strategies(state)):  # the parents follow their children
            benchmark.finalize(state, self.store)
        return done

    def _sleep(self) -> None:
        end = time.monotonic() + self.poll
        while self.stop_reason is None and time.monotonic() < end:
            time.sleep(min(0.1, self.poll))

    def _register(self) -> int:
        with self.sweeps.locked(self.name) as state:
            state.scheduler = SchedulerInfo(
                extra=state.scheduler.extra, pid=os.getpid(), started_at=now_iso(), ended=False,
                pane_id=os.environ.get("TMUX_PANE") or state.scheduler.pane_id)
            if state.state == "finished":
                state.state = "running"
            return len(state.jobs)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            total = self._register()
            state = self.sweeps.read(self.name)
            gpus = state.gpus
            self.say(f"sweep {self.name}: {total} jobs, at most {state.max_parallel} at once"
                     + (f" on GPUs {', '.join(gpus)}" if gpus else " (CPU)"))
            done = False
            while self.stop_reason is None and not done:
                try:
                    done = self.tick()
                except SweepError as exc:
                    self.say(f"stopping: {exc}")
                    return 1
                except Exception as exc:  # noqa: BLE001 - one bad tick (tmux busy, a file mid-write) is retried
                    if not self.server.has_session(self.tmux_name):
                        return 0
                    self.say(f"warning: {type(exc).__name__}: {exc}")
                if not done:
                    self._sleep()
            if not done:
                self.say(f"scheduler stopped ({self.stop_reason}); queued jobs stay queued")
                return 0
            self._finish()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _finish(self) -> None:
        state = self.sweeps.read(self.name)
        if is_strategies(state):
            record = finalize_strategies(state, self.store)
            self.say(f"sweep {self.name} finished")
            self.out.write("\n".join(plain_lines(record)) + "\n")
            self.say(f"report: llm-tool sweep report {self.name} -o reports/")
            self.out.flush()
            return
        configs = ranking(state, self.store)
        top = benchmark.finalize(state, self.store, configs)
        self.say(f"sweep {self.name} finished")
        self.out.write(format_plain(configs) + "\n")
        if top is not None and state.parent_session is not None:
            self.say(f"best model: {top.model} (macro-F1 {score_text(top)}), recorded on "
                     f"{state.parent_session.session_id}")
        self.say(f"report: llm-tool sweep report {self.name} -o reports/")
        self.out.flush()


def function_command(job: SweepJob) -> list[str] | None:
    """A user function job's command (`pkg.mod:fn` with its JSON config); None: the job trains its session."""
    from llm_tool.dispatch.user_function import function_argv
    from llm_tool.sweeps.spec import FUNCTION_KEY

    ref = job.extra.get(FUNCTION_KEY)
    return function_argv(ref, job.overrides, Path(job.session_file)) if ref else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="sweep name")
    parser.add_argument("--home", type=Path, help="llm-tool home (default: LLM_TOOL_HOME or the current folder)")
    parser.add_argument("--socket", help="tmux socket (default: LLM_TOOL_TMUX_SOCKET or llm-tool)")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between ticks")
    args = parser.parse_args(argv)
    home = args.home.resolve() if args.home else paths.home()
    try:
        return Scheduler(args.name, home=home, socket=args.socket, poll=args.poll).run()
    except LlmToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
