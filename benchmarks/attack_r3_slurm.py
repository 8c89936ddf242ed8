"""Issue 21 §1: a session, config or sweep file must not run commands on the cluster through sbatch options.

Each case submits to a private Slurm cluster (started in SETUP, on free ports, stopped in TEARDOWN after the
queue drained so a payload that got into a job had the time to run). A payload writes
/tmp/llm-tool-attack-pwned/PWNED_<case> when it runs; attack_round3.py counts those files.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attack_run
from attack_run import Ctx

# attack_round3.py runs as __main__: register with that module (`import attack_round3` would load a second copy
# whose CASES/SETUP lists the runner never reads)
_runner: Any = sys.modules.get("__main__")
if not hasattr(_runner, "r3_case"):
    import attack_round3 as _runner
PWNED_DIR: Path = _runner.PWNED_DIR
SETUP, TEARDOWN, r3_case = _runner.SETUP, _runner.TEARDOWN, _runner.r3_case

SECTION = "1-slurm"
STATE: dict[str, Any] = {}


def _setup() -> None:
    from tests.slurm_helpers import start_cluster

    folder = Path(tempfile.mkdtemp(prefix="attack-slurm-"))
    STATE["saved"] = {k: os.environ.get(k) for k in ("SLURM_CONF", "LLM_TOOL_CONFIG_DIR")}
    try:
        STATE["cluster"] = start_cluster(folder / "cluster")
    except RuntimeError as exc:
        raise SystemExit(f"the private Slurm cluster did not start: {str(exc)[:500]}") from None
    os.environ["SLURM_CONF"] = str(STATE["cluster"].conf)
    os.environ["LLM_TOOL_CONFIG_DIR"] = str(folder / "config")  # the seal key of the attack run, not ~/.config
    # a job reads its script and writes its log in the case's folder, which the runner deletes after the case:
    # wait (after the case's process ended) until what the case queued has run, so that a payload gets its chance
    STATE["running"] = attack_run._running

    def drained_then_running(ctx: Ctx) -> int:
        _drain(STATE["cluster"], 45)
        return int(STATE["running"](ctx))
    attack_run._running = drained_then_running


def _teardown() -> None:
    from tests.slurm_helpers import stop_cluster

    cluster = STATE.get("cluster")
    if cluster is None:
        return
    attack_run._running = STATE["running"]
    _drain(cluster, 90)
    stop_cluster(cluster)
    shutil.rmtree(cluster.folder.parent, ignore_errors=True)
    for key, value in STATE["saved"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _drain(cluster: Any, timeout: float) -> None:
    """Wait until no job runs and none waits except held ones (a payload in a job would have run by then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = cluster.run("squeue", "-h", "-r", "-o", "%T %r").stdout.splitlines()
        if all(row.startswith("PENDING JobHeld") for row in rows):
            return
        time.sleep(0.5)


SETUP.append(_setup)
TEARDOWN.append(_teardown)


def _pwned(name: str) -> str:
    return str(PWNED_DIR / f"PWNED_{name}")


def _bash_func(name: str) -> str:
    """An --export line that defines the `cd` the batch script calls as a function (bash imports BASH_FUNC_)."""
    return f'--export=ALL,"BASH_FUNC_cd%%=() {{ /usr/bin/mkdir -p {PWNED_DIR}; /usr/bin/touch {_pwned(name)}; }}"'


def _evil_path(ctx: Ctx, name: str) -> str:
    """A folder with a `hostname` that the batch script's `$(hostname)` runs when PATH starts there."""
    folder = ctx.root / "evilbin"
    folder.mkdir(exist_ok=True)
    tool = folder / "hostname"
    tool.write_text(f"#!/bin/sh\n/usr/bin/mkdir -p {PWNED_DIR}\n/usr/bin/touch {_pwned(name)}\necho node\n")
    tool.chmod(0o755)
    return f"--export=ALL,PATH={folder}:/usr/bin:/bin"


def _pending_session(ctx: Ctx, extra: list[str]) -> str:
    """A pending session made by llm-tool, then hand-edited: its slurm_config gets ``extra`` (no valid seal)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session

    raw = json.loads(ctx.config().read_text())
    path, _ = create_session(SessionStore(ctx.home), raw, base_dir=ctx.root)
    data = json.loads(path.read_text())
    data["slurm_config"] = {"extra_sbatch": extra}
    path.write_text(json.dumps(data))
    return data["training_session"]["session_id"]


def _config_with(ctx: Ctx, extra: list[str]) -> Path:
    path = ctx.config()
    raw = json.loads(path.read_text())
    raw["slurm_config"] = {"extra_sbatch": extra}
    path.write_text(json.dumps(raw))
    return path


@r3_case(SECTION, timeout=60)
def case_resume_edited_session_bash_func(ctx: Ctx) -> list[str]:
    sid = _pending_session(ctx, [_bash_func("bash_func")])
    return ["sessions", "resume", sid, "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_resume_edited_session_bash_func_with_yes(ctx: Ctx) -> list[str]:
    sid = _pending_session(ctx, [_bash_func("bash_func_yes")])
    return ["sessions", "resume", sid, "--backend", "slurm", "--yes"]


@r3_case(SECTION, timeout=60)
def case_resume_edited_session_path(ctx: Ctx) -> list[str]:
    sid = _pending_session(ctx, [_evil_path(ctx, "path")])
    return ["sessions", "resume", sid, "--backend", "slurm", "--yes"]


@r3_case(SECTION, timeout=60)
def case_resume_edited_session_ld_preload(ctx: Ctx) -> list[str]:
    sid = _pending_session(ctx, [f"--export=ALL,LD_PRELOAD={ctx.root}/evil.so"])
    return ["sessions", "resume", sid, "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_resume_edited_session_unsealed_hold(ctx: Ctx) -> list[str]:
    """An allowed line, but written by someone else: not used without --yes."""
    sid = _pending_session(ctx, ["--hold"])
    return ["sessions", "resume", sid, "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_config_bash_func(ctx: Ctx) -> list[str]:
    return ["train", str(_config_with(ctx, [_bash_func("config_bash_func")])), "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_config_two_options_one_line_array(ctx: Ctx) -> list[str]:
    return ["train", str(_config_with(ctx, ["--hold", "--comment=x --array=0-9"])), "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_cli_abbreviated_array(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--backend", "slurm", "--sbatch=--hold", "--sbatch=--arr=0-9"]


@r3_case(SECTION, timeout=60)
def case_cli_abbreviated_no_requeue(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--backend", "slurm", "--sbatch=--hold", "--sbatch=--no-req"]


@r3_case(SECTION, timeout=60)
def case_config_truncate_file_outside(ctx: Ctx) -> list[str]:
    victim = ctx.text("victim.txt", "precious\n")
    return ["train", str(_config_with(ctx, ["--open=truncate", f"--err={victim}"])), "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_cli_short_option(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--backend", "slurm", "--sbatch=--hold", "--sbatch=-a", "--sbatch=0-9"]


@r3_case(SECTION, timeout=60)
def case_sweep_base_bash_func(ctx: Ctx) -> list[str]:
    base = json.loads(_config_with(ctx, [_bash_func("sweep_bash_func")]).read_text())
    sweep = ctx.text("sweep.json", json.dumps({"base": base, "grid": {"model_config.learning_rate": [1e-3, 2e-3]}}))
    return ["sweep", "start", str(sweep), "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_sweep_base_path_file(ctx: Ctx) -> list[str]:
    config = _config_with(ctx, [_evil_path(ctx, "sweep_path")])
    sweep = ctx.text("sweep.json", json.dumps({"base": str(config), "grid": {"model_config.seed": [1, 2]}}))
    return ["sweep", "start", str(sweep), "--backend", "slurm"]


@r3_case(SECTION, timeout=60)
def case_partition_injection(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--backend", "slurm", "--partition", f"debug;touch {_pwned('partition')}"]
