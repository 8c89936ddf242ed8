"""Launch a session's training in its own tmux session, through the supervisor, with the starter's environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from llm_tool.dispatch.environment import pane_environment, write_env_file
from llm_tool.dispatch.names import NAME_PREFIX, auto_name, is_tool_name, sanitize, unique_name, user_name
from llm_tool.dispatch.panes import JobPane, new_job_session
from llm_tool.dispatch.supervisor import DEFAULT_BACKOFF, DEFAULT_GRACE, JobSpec
from llm_tool.dispatch.supervisor_record import supervisor_info
from llm_tool.dispatch.tmux_server import TmuxServer, attach_argv, attach_hint
from llm_tool.errors import SessionError, TmuxError
from llm_tool.sessions.lifecycle import effective_status, now_iso, pid_alive
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.sessions.store import SessionStore

TMUX_KEY = "tmux"  # top-level metadata section: where the session's job runs
BACKOFF_ENV = "LLM_TOOL_RETRY_BACKOFF"  # first retry delay in seconds (doubles each retry)
GRACE_ENV = "LLM_TOOL_STOP_GRACE"  # seconds between SIGTERM and SIGKILL when stopping a job
PLACEHOLDER_SESSION = Path("<new session file>")


@dataclass(frozen=True)
class LaunchPlan:
    """What a launch runs and where (a dry run shows it; a launch carries it out)."""

    name: str
    socket: str
    command: list[str]
    start_dir: Path
    log_file: Path | None

    @property
    def attach_command(self) -> list[str]:
        return attach_argv(self.name, self.socket)

    @property
    def attach_hint(self) -> str:
        return attach_hint(self.name, self.socket)


@dataclass(frozen=True)
class LaunchResult:
    """A started job: its tmux session ``name`` on ``socket``, how to attach, and its pane."""

    name: str
    socket: str
    attach_command: list[str]
    attach_hint: str
    session_path: Path
    session_id: str
    log_file: Path
    start_dir: Path
    command: list[str]
    pane: JobPane = field(repr=False)

    @property
    def pane_id(self) -> str:
        return self.pane.pane_id


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, ""))
    except ValueError:
        return default


def check_limits(max_retries: int, timeout_hours: float | None) -> None:
    if max_retries < 0:
        raise TmuxError("--max-retries must be 0 or more")
    if timeout_hours is not None and timeout_hours <= 0:
        raise TmuxError("--timeout must be a positive number of hours, e.g. --timeout 12")


def job_spec(store: SessionStore, session_path: Path, *, resume: bool = False, max_retries: int = 0,
             timeout_hours: float | None = None, start_dir: Path | None = None, job_command: list[str] | None = None,
             backoff_seconds: float | None = None, grace_seconds: float | None = None,
             env_file: Path | None = None, session_id: str | None = None, nproc: int | None = None) -> JobSpec:
    """The supervisor settings for one job of ``session_path`` (reusable for sweep jobs)."""
    check_limits(max_retries, timeout_hours)
    sid = session_id or store.read(session_path).session_id
    return JobSpec(
        session_file=session_path, home=store.home, command=list(job_command) if job_command else None,
        resume=resume, max_retries=max_retries, timeout_hours=timeout_hours,
        grace_seconds=grace_seconds if grace_seconds is not None else _env_float(GRACE_ENV, DEFAULT_GRACE),
        backoff_seconds=backoff_seconds if backoff_seconds is not None else _env_float(BACKOFF_ENV, DEFAULT_BACKOFF),
        cwd=(start_dir or store.home).resolve(), log_file=store.log_path(sid), env_file=env_file, nproc=nproc,
    )


def session_stem(store: SessionStore, meta: SessionMetadata) -> str:
    """The name stem for a session: the config it came from, else its parent's, its name, its data file."""
    recorded = meta.extra.get(TMUX_KEY)
    if isinstance(recorded, dict) and recorded.get("config_stem"):
        return str(recorded["config_stem"])
    parent = meta.training_session.parent_session
    if parent:
        try:
            return session_stem(store, store.read(store.resolve(parent)))
        except SessionError:
            pass
    name = meta.training_session.session_name
    if name and not name.startswith(NAME_PREFIX):
        return name
    primary = meta.dataset_config.get("primary_file")
    return Path(primary).stem if primary else meta.session_id


def choose_name(server: TmuxServer, name: str | None, stem: str) -> str:
    """A given name must be free; an automatic one gets `-2`, `-3`... (exact lookups, never prefixes)."""
    if name is not None:
        chosen = user_name(name)
        if server.has_session(chosen):
            raise TmuxError(f"a tmux session named {chosen} already exists: choose another --name "
                            f"or stop it with `llm-tool tmux kill {chosen}`")
        return chosen
    return unique_name(auto_name(stem), server.has_session)


def plan_launch(store: SessionStore, *, config_stem: str, name: str | None = None, start_dir: Path | None = None,
                max_retries: int = 0, timeout_hours: float | None = None, server: TmuxServer | None = None,
                session_path: Path | None = None) -> LaunchPlan:
    """What ``launch_in_tmux`` would run (no session is created when ``session_path`` is None)."""
    check_limits(max_retries, timeout_hours)
    server = server or TmuxServer()
    chosen = choose_name(server, name, config_stem)
    spec = JobSpec(session_file=session_path or PLACEHOLDER_SESSION, home=store.home, max_retries=max_retries,
                   timeout_hours=timeout_hours, cwd=(start_dir or store.home).resolve(),
                   grace_seconds=_env_float(GRACE_ENV, DEFAULT_GRACE),
                   backoff_seconds=_env_float(BACKOFF_ENV, DEFAULT_BACKOFF))
    log = store.log_path(store.read(session_path).session_id) if session_path else None
    return LaunchPlan(chosen, server.socket, spec.to_argv(), spec.cwd or store.home, log)


def ensure_not_running(store: SessionStore, meta: SessionMetadata) -> None:
    if effective_status(store, meta) == "running":
        raise SessionError(f"{meta.session_id} is already running (pid {meta.execution_status.pid})")
    info = supervisor_info(meta)
    if info.get("state") in ("starting", "running", "retrying") and pid_alive(info.get("pid"),
                                                                            info.get("pid_create_time")):
        raise SessionError(f"{meta.session_id} is already supervised (pid {info.get('pid')}): "
                           "see `llm-tool tmux list`")


def reclaim_previous_name(server: TmuxServer, meta: SessionMetadata, session_path: Path) -> str | None:
    """The tmux name this session ran under before, when free again: its finished session is removed first.

    Only a session of ours whose every pane ran this very session file and has exited is removed.
    """
    info = meta.extra.get(TMUX_KEY)
    if not isinstance(info, dict) or info.get("socket") != server.socket:
        return None
    old = info.get("session")
    if not isinstance(old, str) or not is_tool_name(old):
        return None
    if server.has_session(old) and old not in server.owned_session_names():
        return None  # a session of the same name that the tool did not create: never removed
    panes = [p for p in server.list_panes() if p.session_name == old]
    if panes and all(p.dead and p.session_file == str(session_path) for p in panes):
        server.kill_session(old)
    return None if server.has_session(old) else old


def launch_in_tmux(store: SessionStore, session_path: Path, *, resume: bool = False, name: str | None = None,
                   max_retries: int = 0, timeout_hours: float | None = None, start_dir: Path | None = None,
                   config_stem: str | None = None, job_command: list[str] | None = None,
                   backoff_seconds: float | None = None, grace_seconds: float | None = None,
                   server: TmuxServer | None = None, nproc: int | None = None) -> LaunchResult:
    """Run the session's training (or ``job_command``) detached in a new tmux session; returns at once.

    Raises TmuxError (tmux missing or refusing) and SessionError (already running). Never prompts.
    """
    server = server or TmuxServer()
    session_path = session_path.resolve()
    meta = store.read(session_path)
    ensure_not_running(store, meta)
    start = (start_dir or store.home).resolve()
    if not start.is_dir():
        raise TmuxError(f"the start folder {start} does not exist")
    stem = sanitize(config_stem or session_stem(store, meta))
    previous = None if name is not None else reclaim_previous_name(server, meta, session_path)
    chosen = previous or choose_name(server, name, stem)
    env_file = store.locks_dir / f"{meta.session_id}.{os.getpid()}.env.json"
    spec = job_spec(store, session_path, resume=resume, max_retries=max_retries, timeout_hours=timeout_hours,
                    start_dir=start, job_command=job_command, backoff_seconds=backoff_seconds,
                    grace_seconds=grace_seconds, env_file=env_file, session_id=meta.session_id, nproc=nproc)
    argv = spec.to_argv()
    write_env_file(env_file)
    try:
        pane = new_job_session(server, chosen, argv, start_dir=start, environment=pane_environment(),
                               session_file=session_path)
    except BaseException:
        env_file.unlink(missing_ok=True)
        raise

    def record(m: SessionMetadata) -> None:
        m.extra[TMUX_KEY] = {"socket": server.socket, "session": chosen, "session_id": pane.session_id,
                             "window_id": pane.window_id, "pane_id": pane.pane_id, "config_stem": stem,
                             "start_dir": str(start), "started_at": now_iso()}
        if not m.training_session.session_name:
            m.training_session.session_name = chosen
    store.update(session_path, record)
    assert spec.log_file is not None
    return LaunchResult(name=chosen, socket=server.socket, attach_command=attach_argv(chosen, server.socket),
                        attach_hint=attach_hint(chosen, server.socket), session_path=session_path,
                        session_id=meta.session_id, log_file=spec.log_file, start_dir=start, command=argv, pane=pane)
