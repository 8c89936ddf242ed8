"""Runtime attacks as real processes in temp homes: foreign output paths, kill -9 at many moments, a killed
supervisor, full disks, hand-made tmux sessions. Per case: tracebacks, "unexpected" lines, files written or
deleted outside the sessions' own folders, sessions left `running`. Prints a table, writes
benchmarks/results/attack_runtime.json.

    python benchmarks/attack_runtime.py [--only NAME ...] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import build_tiny_model, sample_rows, write_config, write_csv  # noqa: E402

SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
VICTIM = "train_20250101_000000"
PY = sys.executable


class Case:
    """One attack: its own folder (home, outside files, a victim session), the commands run and what they said."""

    def __init__(self, root: Path, name: str, model: Path) -> None:
        self.name, self.model = name, model
        self.dir = root / name
        self.home = self.dir / "home"
        self.outside = self.dir / "outside"
        self.socket = f"llmtool-attack-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "LLM_TOOL_HOME": str(self.home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT),
                    "LLM_TOOL_TMUX_SOCKET": self.socket, "LLM_TOOL_RETRY_BACKOFF": "0.2", "COLUMNS": "200"}
        self.outputs: list[str] = []
        self.checks: list[tuple[str, bool]] = []
        for folder in (self.home, self.outside):
            folder.mkdir(parents=True)
        (self.outside / "precious.txt").write_text("keep me")
        victim = self.home / "models" / VICTIM
        (victim / "checkpoints" / "checkpoint-4").mkdir(parents=True)
        (victim / "model.safetensors").write_bytes(b"weights")
        (victim / "checkpoints" / "checkpoint-4" / "optimizer.pt").write_bytes(b"state")
        sessions = self.home / "logs" / "training_sessions"
        sessions.mkdir(parents=True)
        self.victim_file = sessions / f"training_metadata_{VICTIM[6:]}.json"
        self.victim_file.write_text(json.dumps({"execution_status": {"status": "completed"}, "dataset_config": {},
                                                "model_config": {}}))
        self.before = self.snapshot()

    # ----- set-up -----------------------------------------------------------------------------------------
    def config(self, rows: int = 40, **model_config: Any) -> Path:
        folder = self.dir / "cfg"
        folder.mkdir(exist_ok=True)
        data = write_csv(folder / "data.csv", sample_rows(SAMPLE, rows))
        model_config.setdefault("num_threads", 1)
        return write_config(folder / "cfg.json", data, self.model, **model_config)

    def pending(self, **model_config: Any) -> Path:
        """A pending session created by the tool (`llm-tool sessions relaunch` would do the same)."""
        code = ("import sys; from pathlib import Path; from llm_tool.config import load_config_file;"
                "from llm_tool.sessions import SessionStore; from llm_tool.sessions.create import create_session;"
                "c=Path(sys.argv[1]); print(create_session(SessionStore(), load_config_file(c), base_dir=c.parent)[0])")
        proc = subprocess.run([PY, "-c", code, str(self.config(**model_config))], capture_output=True, text=True,
                              env=self.env, check=True)
        return Path(proc.stdout.strip().splitlines()[-1])

    def edit(self, path: Path, change: Callable[[dict[str, Any]], None]) -> None:
        raw = json.loads(path.read_text())
        change(raw)
        path.write_text(json.dumps(raw))

    # ----- processes --------------------------------------------------------------------------------------
    def cli(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([PY, "-m", "llm_tool", *args], capture_output=True, text=True, env=self.env,
                              timeout=600, check=False, **kwargs)
        self.outputs.append(proc.stdout + proc.stderr)
        return proc

    def start(self, *args: str, module: str = "llm_tool") -> subprocess.Popen[str]:
        return subprocess.Popen([PY, "-m", module, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=self.env)

    def kill(self, proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        self.outputs.append(out or "")

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)

    # ----- state ------------------------------------------------------------------------------------------
    def sessions(self) -> list[Path]:
        return sorted((self.home / "logs" / "training_sessions").glob("training_metadata_*.json"))

    def status(self, path: Path) -> dict[str, Any]:
        return json.loads(path.read_text())["execution_status"]

    def own_ids(self) -> set[str]:
        return {f"train_{p.stem[len('training_metadata_'):]}" for p in self.sessions()} - {VICTIM}

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Every file of the case except the sessions' own folders (models/<own id>) and the session logs."""
        own = {self.home / "models" / sid for sid in getattr(self, "_own", set())}
        skip = (self.home / "logs", self.dir / "cfg", *own)
        out = {}
        for path in self.dir.rglob("*"):
            if any(path == s or path.is_relative_to(s) for s in skip) or not path.is_file():
                continue
            stat = path.lstat()
            out[str(path.relative_to(self.dir))] = (stat.st_size, stat.st_mtime_ns)
        return out

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, bool(ok)))

    def report(self, seconds: float) -> dict[str, Any]:
        self._own = self.own_ids()
        self.before = {k: v for k, v in self.before.items()
                       if not any(k.startswith(f"home/models/{sid}/") for sid in self._own)}
        after = self.snapshot()
        changed = sorted(k for k in set(self.before) | set(after) if self.before.get(k) != after.get(k))
        text = "\n".join(self.outputs)
        running = []
        code = ("import sys; from pathlib import Path; from llm_tool.sessions import SessionStore;"
                "from llm_tool.sessions.lifecycle import effective_status; s=SessionStore();"
                "print(' '.join(m.session_id for m in (s.read(Path(p)) for p in sys.argv[1:]) "
                "if effective_status(s, m) == 'running'))")
        if self.sessions():
            proc = subprocess.run([PY, "-c", code, *map(str, self.sessions())], capture_output=True, text=True,
                                  env=self.env, check=False)
            running = proc.stdout.split()
        return {"case": self.name, "seconds": round(seconds, 1), "tracebacks": text.count("Traceback (most recent"),
                "unexpected": sum(1 for line in text.splitlines() if "error: unexpected" in line),
                "outside_changes": changed, "left_running": running,
                "checks_failed": [what for what, ok in self.checks if not ok], "checks": len(self.checks)}


def wait(check: Callable[[], Any], timeout: float = 300, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return None


def _safe_status(case: Case, path: Path) -> dict[str, Any]:
    try:
        return case.status(path)
    except (OSError, ValueError):
        return {}


# ----- the cases ------------------------------------------------------------------------------------------
def _foreign_paths(case: Case, target: Path, status: str = "interrupted") -> Path:
    path = case.pending()

    def apply(raw: dict[str, Any]) -> None:
        raw["output_paths"].update(model_dir=str(target), checkpoints_dir=str(target / "checkpoints"),
                                   models_dir=str(target), metrics_file=str(target / "metrics.json"))
        raw["execution_status"]["status"] = status
    case.edit(path, apply)
    return path


def other_session_paths_resume(case: Case) -> None:
    path = _foreign_paths(case, case.home / "models" / VICTIM)
    case.check("resume rc 0", case.cli("sessions", "resume", path.name).returncode == 0)
    case.check("completed", case.status(path)["status"] == "completed")


def outside_paths_resume(case: Case) -> None:
    path = _foreign_paths(case, case.outside)
    case.check("resume rc 0", case.cli("sessions", "resume", path.name).returncode == 0)


def other_session_paths_delete_with_model(case: Case) -> None:
    path = _foreign_paths(case, case.home / "models" / VICTIM, status="completed")
    case.check("delete rc 0", case.cli("sessions", "delete", path.name, "--yes", "--with-model").returncode == 0)


def hostile_paths_clean(case: Case) -> None:
    for target in (case.home / "models" / VICTIM, case.outside, Path("/")):
        _foreign_paths(case, target, status="failed")
    case.check("clean rc 0", case.cli("sessions", "clean", "--older-than", "0", "--yes").returncode == 0)


def symlinked_model_folder_delete(case: Case) -> None:
    path = case.pending()
    sid = f"train_{path.stem[len('training_metadata_'):]}"
    (case.home / "models" / sid).symlink_to(case.home / "models" / VICTIM)
    case.check("delete rc 0", case.cli("sessions", "delete", sid, "--yes", "--with-model").returncode == 0)


def _kill_then_resume(case: Case, moment: Callable[[Path, Path], Any], **model_config: Any) -> None:
    proc = case.start("train", str(case.config(**model_config)))
    path = wait(lambda: next((p for p in case.sessions() if p != case.victim_file), None), timeout=60)
    sid = f"train_{path.stem[len('training_metadata_'):]}"
    reached = wait(lambda: moment(path, case.home / "models" / sid) or proc.poll() is not None)
    case.kill(proc)
    case.check("moment reached before the run ended", reached and proc.returncode == -signal.SIGKILL)
    resumed = case.cli("sessions", "resume", sid)
    status = case.status(path)["status"]
    case.check("resume ends completed", status == "completed" and (resumed.returncode == 0 or
                                                                   "already completed" in resumed.stderr))
    last = case.status(path).get("last_checkpoint")
    case.check("last_checkpoint exists", last is None or Path(last).is_dir())


def kill9_file_written(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: path.exists())


def kill9_marked_running(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: _safe_status(case, path).get("status") == "running")


def kill9_model_loading(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: (model / "checkpoints").exists())


def kill9_after_first_checkpoint(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: (model / "checkpoints" / "checkpoint-1").exists(), save_steps=1)


def kill9_during_final_save(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: (model / "config.json").exists(), save_steps=1)


def kill9_during_cleanup(case: Case) -> None:
    _kill_then_resume(case, lambda path, model: (model / "metrics.json").exists(), save_steps=1)


def crafted_cleanup_state(case: Case) -> None:
    """The exact state of a kill -9 while checkpoints were being removed, before the run was marked completed."""
    config = case.config(save_steps=1)
    case.cli("train", str(config))
    path = next(p for p in case.sessions() if p != case.victim_file)
    model = case.home / "models" / f"train_{path.stem[len('training_metadata_'):]}"
    (model / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (model / "checkpoints" / "checkpoint-2" / "config.json").write_text("{}")
    case.edit(path, lambda raw: raw["execution_status"].update(status="running", pid=999_999, best_f1=None,
                                                               exit_code=None))
    case.check("resume rc 0", case.cli("sessions", "resume", "1").returncode == 0)
    case.check("completed with its F1", case.status(path)["status"] == "completed" and
               case.status(path)["best_f1"] is not None and not (model / "checkpoints").exists())


def refused_resume_unchanged(case: Case) -> None:
    for status in ("interrupted", "failed", "completed"):
        path = case.pending()
        case.edit(path, lambda raw, s=status: raw["execution_status"].update(status=s, current_step=5))
        before = path.read_bytes()
        proc = case.cli("sessions", "resume", path.name)
        case.check(f"{status}: refused with exit 2, file unchanged", proc.returncode == 2 and
                   path.read_bytes() == before)


def supervisor_kill9(case: Case) -> None:
    path = case.pending(rows=160, epochs=2, save_steps=2, save_total_limit=1, keep_checkpoints=True)
    log = path.with_name(f"train_{path.stem[len('training_metadata_'):]}.log")
    sup = case.start("--session", str(path), "--log", str(log), module="llm_tool.dispatch.supervisor")
    wait(lambda: (_safe_status(case, path).get("current_step") or 0) >= 1)
    case.kill(sup)
    status = wait(lambda: (s := _safe_status(case, path)).get("status") not in (None, "running", "pending") and s,
                  timeout=400)
    case.check("training completed without its supervisor", bool(status) and status["status"] == "completed")
    last = (status or {}).get("last_checkpoint")
    case.check("last_checkpoint exists", bool(last) and Path(last).is_dir())


def _disk_full(case: Case, preexec: Callable[[], None] | None) -> None:
    proc = case.cli("train", str(case.config(save_steps=1)), preexec_fn=preexec)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    case.check("one line saying the disk is full", proc.returncode == 1 and len(lines) == 1 and
               lines[0].startswith("error: the disk is full"))
    path = next(p for p in case.sessions() if p != case.victim_file)
    case.check("marked failed", case.status(path)["status"] == "failed")
    last = case.status(path).get("last_checkpoint")
    case.check("last_checkpoint exists", last is None or Path(last).is_dir())


def disk_full_tmpfs(case: Case) -> None:
    disk = case.dir / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1600k", "tmpfs", str(disk)], check=False,
                      capture_output=True).returncode != 0:
        case.check("tmpfs could be mounted (needs root)", False)
        return
    try:
        shutil.copytree(case.home, disk / "home", symlinks=True)
        shutil.rmtree(case.home)
        case.home.symlink_to(disk / "home")
        _disk_full(case, None)
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)
        resumed = case.cli("sessions", "resume", "1")
        case.check("resumed from the kept checkpoint", resumed.returncode == 0 and "resuming from" in resumed.stdout)
    finally:
        shutil.copytree(disk / "home", case.dir / "home.copy", symlinks=True)
        subprocess.run(["umount", "-l", str(disk)], check=False)
        case.home.unlink()
        (case.dir / "home.copy").rename(case.home)


def disk_full_fsize(case: Case) -> None:
    _disk_full(case, lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000)))


def data_error_not_retried(case: Case) -> None:
    path = case.pending()
    (case.dir / "cfg" / "data.csv").write_text("text,label\n")
    case.outputs.append(subprocess.run([PY, "-m", "llm_tool.dispatch.supervisor", "--session", str(path),
                                        "--max-retries", "3", "--backoff", "0.05"], capture_output=True, text=True,
                                       env=case.env, check=False).stdout)
    status = case.status(path)
    case.check("one attempt, exit 2", len(status["supervisor"]["attempts"]) == 1 and status["exit_code"] == 2)


def _handmade_tmux(case: Case) -> list[str]:
    names = ["llmtool-foo", "llmtool-bert-1122_2019"]
    for name in names:
        case.tmux("new-session", "-d", "-s", name, "sleep", "300")
    return names


def tmux_kill_all_spares_handmade(case: Case) -> None:
    names = _handmade_tmux(case)
    config = case.config(rows=160, epochs=3)
    started = case.cli("tmux", "start", "--config", str(config), "--name", "real", "--auto-confirm")
    case.check("started", started.returncode == 0)
    case.cli("tmux", "kill", "--all", "--grace", "30")
    left = case.tmux("list-sessions", "-F", "#{session_name}").stdout.split()
    case.check("hand-made sessions kept, ours removed", sorted(left) == sorted(names))


def tmux_handmade_by_name(case: Case) -> None:
    names = _handmade_tmux(case)
    for name in names:
        case.check(f"kill {name} refused", case.cli("tmux", "kill", name).returncode == 2)
    listed = json.loads(case.cli("tmux", "list", "--json").stdout or "[]")
    case.check("list shows none of them", listed == [])
    case.check("kept", len(case.tmux("list-sessions").stdout.splitlines()) == len(names))


CASES = [other_session_paths_resume, outside_paths_resume, other_session_paths_delete_with_model, hostile_paths_clean,
         symlinked_model_folder_delete, kill9_file_written, kill9_marked_running, kill9_model_loading,
         kill9_after_first_checkpoint, kill9_during_final_save, kill9_during_cleanup, crafted_cleanup_state,
         refused_resume_unchanged, supervisor_kill9, disk_full_tmpfs, disk_full_fsize, data_error_not_retried,
         tmux_kill_all_spares_handmade, tmux_handmade_by_name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="case names to run")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="llmtool-attacks-"))
    model = build_tiny_model(root / "tiny_model", SAMPLE)
    results = []
    for func in CASES:
        if args.only and func.__name__ not in args.only:
            continue
        case = Case(root, func.__name__, model)
        started = time.monotonic()
        try:
            func(case)
        except Exception as exc:  # noqa: BLE001 - a broken case is reported, the others still run
            case.check(f"case raised {type(exc).__name__}: {exc}", False)
        finally:
            case.tmux("kill-server")
        results.append(case.report(time.monotonic() - started))
        row = results[-1]
        print(f"{row['case']:<40} {row['seconds']:>6}s  tb={row['tracebacks']} unexpected={row['unexpected']} "
              f"outside={len(row['outside_changes'])} running={len(row['left_running'])} "
              f"checks={row['checks'] - len(row['checks_failed'])}/{row['checks']}", flush=True)
    totals = {key: sum(len(r[key]) if isinstance(r[key], list) else r[key] for r in results)
              for key in ("tracebacks", "unexpected", "outside_changes", "left_running", "checks_failed")}
    print(f"{len(results)} cases: {json.dumps(totals)}")
    out = ROOT / "benchmarks" / "results" / "attack_runtime.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cases": results, "totals": totals}, indent=2))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not any(totals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
