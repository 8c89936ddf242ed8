"""A real private single-node Slurm cluster for the tests (munge + slurmctld + slurmd in a temp folder)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol", "scancel")

CONF = """\
ClusterName=llmtooltest
SlurmctldHost={host}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge},cred_expire=10
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld}
SlurmdPort={slurmd}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
KillWait=30
NodeName={host} CPUs=2 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@dataclass(frozen=True)
class Cluster:
    """A running private cluster: its folder and the slurm.conf every client command must use."""

    folder: Path
    conf: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, env=self.env(), timeout=30, check=False)

    def state(self, job_id: str) -> str:
        """PENDING / RUNNING / ... while the job is in the queue, '' once it left it."""
        return self.run("squeue", "-h", "-j", job_id, "-o", "%T").stdout.strip()

    def idle(self) -> bool:
        """The node runs nothing and has finished cleaning up (no job completing)."""
        return self.run("sinfo", "-h", "-o", "%t").stdout.strip() == "idle"

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace")[-3000:] for p in sorted((self.folder / "log").glob("*.log")))


def _why_not() -> str | None:
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    if missing:
        return f"Slurm/munge not installed ({', '.join(missing)} missing): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "the private Slurm cluster needs root (SlurmUser=root)"
    return None


def _munge_ok(socket_path: Path) -> bool:
    with contextlib.suppress(Exception):
        made = subprocess.run(["munge", "-S", str(socket_path), "-n"], capture_output=True, timeout=10, check=False)
        back = subprocess.run(["unmunge", "-S", str(socket_path)], input=made.stdout, capture_output=True,
                              timeout=10, check=False)
        return made.returncode == 0 and back.returncode == 0
    return False


def _start_munge(folder: Path) -> Path:
    """A munged of the cluster's own (key, socket, pid, log, seed): no machine-wide munge is needed or touched.
    It lives in a folder of its own under /tmp, linked as ``folder/munge``: munged wants every folder above its
    socket searchable by all, which pytest's temp folders are not."""
    own = Path(tempfile.mkdtemp(prefix="llm-tool-munge-"))
    own.chmod(0o711)
    (folder / "munge").symlink_to(own)
    key = own / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    sock = own / "munge.socket"
    subprocess.run(["munged", f"--socket={sock}", f"--key-file={key}", f"--pid-file={own / 'munged.pid'}",
                    f"--log-file={own / 'munged.log'}", f"--seed-file={own / 'munged.seed'}"],
                   capture_output=True, timeout=30, check=False)
    _wait(lambda: _munge_ok(sock), 15, "munge to answer")
    return sock


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def _stop_slurm(folder: Path) -> None:
    """SIGTERM both daemons and wait until they are gone; SIGKILL what is left after 5 s (a slurmd waiting on a
    job step can ignore SIGTERM, and a survivor would hold its ports and state)."""
    pids = []
    for name in ("slurmd.pid", "slurmctld.pid"):
        with contextlib.suppress(Exception):
            pid = int((folder / name).read_text().strip())
            os.kill(pid, signal.SIGTERM)
            pids.append(pid)

    def gone() -> bool:
        return not any(_alive(pid) for pid in pids)
    with contextlib.suppress(RuntimeError):
        _wait(gone, 5, "the Slurm daemons to stop")
    for pid in pids + _stepds_of(folder):  # a job step daemon left behind would live on as an orphan
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _stop(folder: Path) -> None:
    """Stop the cluster's Slurm daemons, then its munged, and remove munged's folder."""
    _stop_slurm(folder)
    munge = folder / "munge"
    with contextlib.suppress(Exception):
        os.kill(int((munge / "munged.pid").read_text().strip()), signal.SIGTERM)
    if munge.is_symlink():
        shutil.rmtree(munge.resolve(), ignore_errors=True)
        munge.unlink()


def _stepds_of(folder: Path) -> list[int]:
    """The slurmstepd processes of this cluster (they work in its folder)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if (proc / "comm").read_text().strip() == "slurmstepd" and \
                    (proc / "cwd").readlink().is_relative_to(folder):
                found.append(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited daemon waiting to be reaped holds no port)."""
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1].startswith("Z")
    except OSError:
        return False


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that nothing listens on now (the kernel's choice for port 0)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def start_cluster(folder: Path) -> Cluster:
    """A private cluster with its state, spool, logs and pid files in ``folder`` and ports of its own, so that
    several can run at once (test workers, worktrees, the attack script). Raises RuntimeError when it cannot start
    (the reason, then the daemons' logs)."""
    reason = _why_not()
    if reason:
        raise RuntimeError(reason)
    for sub in ("state", "spool", "log"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    cluster = Cluster(folder, conf)
    try:
        munge = _start_munge(folder)
        for attempt in range(3):  # a port taken between free_ports() and the daemon's bind: try other ones
            ctld, slurmd = free_ports(2)
            conf.write_text(CONF.format(host=socket.gethostname(), ctld=ctld, slurmd=slurmd, d=folder, munge=munge))
            failed = _start_daemons(cluster)
            if not failed:
                break
            _stop_slurm(folder)
            if attempt == 2:
                raise RuntimeError(failed)
        _wait(lambda: "idle" in cluster.run("sinfo", "-h", "-o", "%t").stdout, 60, "the node to be idle")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        _stop(folder)
        raise RuntimeError(f"{exc}\n{cluster.logs()}") from None
    return cluster


def _start_daemons(cluster: Cluster) -> str | None:
    for daemon in ("slurmctld", "slurmd"):
        started = subprocess.run([daemon, "-f", str(cluster.conf)], capture_output=True, text=True,
                                 env=cluster.env(), timeout=60, check=False)
        if started.returncode != 0:
            return f"{daemon} failed: {started.stderr.strip()}"
    return None


def stop_cluster(cluster: Cluster) -> None:
    cluster.run("scancel", "--full", "-u", "root")
    _stop(cluster.folder)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Start a private cluster once per test session (skips with the reason when it cannot start)."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    try:
        cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    except RuntimeError as exc:
        pytest.skip(f"the private Slurm cluster did not start: {exc}")
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def on_cluster(slurm_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """The cluster for one test: SLURM_CONF set so llm-tool's own sbatch/squeue/scancel calls reach it."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    return slurm_cluster
