"""The Slurm backend on a real private cluster: submit, preempt + requeue + exact resume, sweeps, kill, vanishing."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from llm_tool.cli import main
from tests.helpers import read_json, sample_rows, session_files, start_cli, wait_until, write_config, write_csv
from tests.slurm_helpers import Cluster

# one xdist worker runs this file's tests (one private Slurm cluster per worker, started once)
pytestmark = pytest.mark.xdist_group("slurm")
STEPS_PER_EPOCH = 30  # 300 rows -> 240 train rows / batch 8
MEASURED: dict[str, float] = {}


def _config(tmp_path: Path, sample_csv: Path, tiny_model: Path, name: str, rows: int = 60, **extra: Any) -> Path:
    data = tmp_path / f"reviews{rows}.csv"
    if not data.exists():
        write_csv(data, sample_rows(sample_csv, rows))
    return write_config(tmp_path / f"{name}.json", data, tiny_model, num_threads=1, **extra)


def _submit(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[Path, str]:
    assert main(["train", *argv, "--backend", "slurm", "--cpus", "1"]) == 0
    out = capsys.readouterr().out
    path = session_files(home)[-1]
    job = read_json(path)["execution_status"]["slurm"]["job_id"]
    assert f"submitted Slurm job {job}" in out
    return path, job


def _status(path: Path) -> dict[str, Any]:
    return read_json(path)["execution_status"]


def _listed(capsys: pytest.CaptureFixture[str], job: str) -> dict[str, Any]:
    assert main(["slurm", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return next(r for r in rows if r["job_id"] == job)


def _weights(meta_path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(Path(read_json(meta_path)["output_paths"]["model_dir"]) / "model.safetensors"))


def test_session_goes_pending_running_completed(on_cluster: Cluster, tmp_path, isolated_home, sample_csv,
                                                tiny_model, capsys):
    config = _config(tmp_path, sample_csv, tiny_model, "one")
    path, job = _submit(capsys, isolated_home, str(config), "--sbatch=--hold")  # held: pending until released
    assert _listed(capsys, job)["state"] == "pending"
    assert on_cluster.state(job) == "PENDING"
    assert _status(path)["status"] == "pending"
    assert on_cluster.run("scontrol", "release", job).returncode == 0
    wait_until(lambda: _listed(capsys, job)["state"] == "running" or _status(path)["status"] == "completed",
                timeout=120, what="the job to run")
    wait_until(lambda: _status(path)["status"] == "completed", timeout=300, what="the session to complete")
    wait_until(lambda: not on_cluster.state(job), timeout=60, what="the job to leave the queue")
    row = _listed(capsys, job)
    assert (row["state"], row["restarts"]) == ("completed", 0)
    assert _status(path)["slurm"]["state"] == "COMPLETED"
    log = Path(read_json(path)["output_paths"]["log_file"]).read_text()
    assert f"Slurm job {job} on" in log and "completed: model saved" in log


def test_preemption_checkpoints_requeues_and_resumes_exactly(on_cluster: Cluster, tmp_path, isolated_home,
                                                             sample_csv, tiny_model, capsys):
    settings = {"rows": 300, "epochs": 6, "save_steps": 5, "learning_rate": 3e-3, "keep_checkpoints": False}
    path, job = _submit(capsys, isolated_home, str(_config(tmp_path, sample_csv, tiny_model, "slurm", **settings)))
    # the uninterrupted run to compare with trains meanwhile, here (its own session file)
    baseline = start_cli("train", str(_config(tmp_path, sample_csv, tiny_model, "baseline", **settings)),
                         "--session-name", "baseline", stderr=tmp_path / "baseline.err")
    wait_until(lambda: (_status(path).get("current_step") or 0) >= STEPS_PER_EPOCH + 5, timeout=300, interval=0.05,
                what="training to reach epoch 2")
    signalled = time.monotonic()
    assert on_cluster.run("scancel", "--signal=USR1", "--batch", job).returncode == 0
    wait_until(lambda: _status(path)["status"] == "interrupted", timeout=120, interval=0.05, what="a checkpoint")
    MEASURED["signal_to_checkpoint_s"] = time.monotonic() - signalled
    wait_until(lambda: _status(path)["slurm"]["state"] == "REQUEUED", timeout=60, what="the requeue")
    stopped = _status(path)
    assert "requeued" in stopped["interrupt_reason"] and Path(stopped["last_checkpoint"]).is_dir()
    assert stopped["current_step"] < stopped["total_steps"]
    wait_until(lambda: on_cluster.state(job) == "PENDING", timeout=60, what="the job back in the queue")
    requeued = time.monotonic()
    assert _listed(capsys, job)["state"] == "requeued"
    # Slurm holds a requeued job for cred_expire (120 s by default, 10 s on the test cluster) so that the old
    # run's revoked credential cannot kill the new one ("Job credential revoked"): no nudging, it restarts alone
    def restarted() -> bool:
        return _status(path)["status"] == "running"
    wait_until(restarted, timeout=240, interval=0.5, what="the restart")
    MEASURED["requeue_to_resume_s"] = time.monotonic() - requeued
    wait_until(lambda: _status(path)["status"] == "completed", timeout=600, what="the resumed run to complete")
    # the training records `completed`, then its job wrapper the job's end: wait for that too (it lagged under load)
    wait_until(lambda: _status(path)["slurm"]["state"] == "COMPLETED", timeout=60, what="the job's end recorded")

    assert baseline.wait(timeout=600) == 0, (tmp_path / "baseline.err").read_text()[-2000:]
    (baseline_path,) = [f for f in session_files(isolated_home) if f != path]
    final = _status(path)
    assert final["slurm"]["restarts"] == 1 and final["slurm"]["state"] == "COMPLETED"
    assert len(final["resumed_at"]) == 1  # the second run resumed from the checkpoint, not from scratch
    a, b = _weights(baseline_path), _weights(path)
    assert max(float((a[k].float() - b[k].float()).abs().max()) for k in a) <= 1e-6
    base_metrics, metrics = (json.loads((Path(read_json(p)["output_paths"]["model_dir"]) / "metrics.json").read_text())
                             for p in (baseline_path, path))
    assert metrics["global_step"] == base_metrics["global_step"]
    # the same numbers; evaluations the first attempt made before the preemption carry its number
    earlier = [row.pop("earlier_attempt", None) for row in metrics["history"]]
    assert metrics["history"] == base_metrics["history"] and set(earlier) <= {None, 1}
    log = Path(read_json(path)["output_paths"]["log_file"]).read_text()
    assert "(restart 0)" in log and "(restart 1)" in log  # --open-mode=append: both runs in one log
    print(f"\nmeasured: {MEASURED}")


def test_sweep_runs_as_array_at_most_two_at_once(on_cluster: Cluster, tmp_path, isolated_home, sample_csv,
                                                 tiny_model, capsys):
    config = _config(tmp_path, sample_csv, tiny_model, "base", rows=120)
    sweep = tmp_path / "lr.json"
    sweep.write_text(json.dumps({"base": str(config), "grid": {"model_config.learning_rate": [1e-3, 2e-3, 3e-3]}}))
    assert main(["sweep", "start", str(sweep), "--backend", "slurm", "--max-parallel", "2", "--cpus", "1",
                 "--mem", "2G"]) == 0
    assert "job array" in capsys.readouterr().out
    state = read_json(isolated_home / "logs" / "sweeps" / "lr.json")
    jobs = [j["slurm_job_id"] for j in state["jobs"]]
    array = jobs[0].split("_")[0]
    seen: list[int] = []

    def finished() -> bool:
        listed = on_cluster.run("squeue", "-h", "-r", "-j", array, "-o", "%T").stdout.split()
        seen.append(listed.count("RUNNING"))
        return not listed and all(_status(Path(j["session_file"]))["status"] == "completed" for j in state["jobs"])
    wait_until(finished, timeout=600, interval=0.2, what="the 3 jobs to complete")
    assert max(seen) == 2  # two ran together, never three
    assert main(["sweep", "status", "lr", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["sweep"]["state"] == "finished"
    assert [r["status"] for r in status["jobs"]] == ["completed"] * 3
    assert len([r for r in status["leaderboard"] if r["mean"] is not None]) == 3


def test_kill_is_graceful_then_cancel(on_cluster: Cluster, tmp_path, isolated_home, sample_csv, tiny_model, capsys):
    config = _config(tmp_path, sample_csv, tiny_model, "long", rows=300, epochs=20, save_steps=5)
    path, job = _submit(capsys, isolated_home, str(config))
    wait_until(lambda: (_status(path).get("current_step") or 0) >= 3, timeout=300, what="training to start")
    assert main(["slurm", "kill", job, "--grace", "60"]) == 0
    assert "stopped gracefully" in capsys.readouterr().out
    final = _status(path)
    assert final["status"] == "interrupted" and final["slurm"]["state"] == "CANCELLED"
    assert "requeued" not in final["interrupt_reason"] and Path(final["last_checkpoint"]).is_dir()
    assert not on_cluster.state(job)  # gone, not requeued

    _held, held_job = _submit(capsys, isolated_home, str(config), "--sbatch=--hold")
    assert main(["slurm", "kill", held_job]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert not on_cluster.state(held_job)
    assert _listed(capsys, held_job)["state"] == "cancelled"


def test_job_that_vanishes_is_written_interrupted(on_cluster: Cluster, tmp_path, isolated_home, sample_csv,
                                                  tiny_model, capsys):
    config = _config(tmp_path, sample_csv, tiny_model, "vanish", rows=300, epochs=20)
    path, job = _submit(capsys, isolated_home, str(config))
    wait_until(lambda: (_status(path).get("current_step") or 0) >= 3, timeout=300, what="training to start")
    os.kill(_status(path)["pid"], signal.SIGKILL)  # the trainer dies without a chance to mark itself
    wait_until(lambda: not on_cluster.state(job), timeout=60, what="the job to leave the queue")
    assert _status(path)["status"] == "running"  # what the killed process left behind
    row = _listed(capsys, job)
    assert row["state"] == "interrupted" and "left the queue" in row["reason"]
    assert _status(path)["status"] == "interrupted"  # written, not only shown


def test_a_two_rank_job_is_preempted_requeued_and_finishes(on_cluster: Cluster, tmp_path, isolated_home,
                                                           sample_csv, tiny_model, capsys):
    """torchrun inside the job: USR1 reaches the ranks, they checkpoint at one step, the job requeues itself and
    the second run resumes both ranks from that checkpoint (exactness itself: tests/test_torchrun.py)."""
    config = _config(tmp_path, sample_csv, tiny_model, "ranks", rows=300, epochs=4, save_steps=5,
                     learning_rate=3e-3, early_stopping=False)
    assert main(["train", str(config), "--backend", "slurm", "--cpus", "2", "--nproc", "2"]) == 0
    capsys.readouterr()
    path = session_files(isolated_home)[-1]
    job = _status(path)["slurm"]["job_id"]
    wait_until(lambda: (_status(path).get("current_step") or 0) >= 20, timeout=300, interval=0.05,
               what="both ranks in epoch 2")
    assert on_cluster.run("scancel", "--signal=USR1", "--batch", job).returncode == 0
    wait_until(lambda: _status(path)["slurm"]["state"] == "REQUEUED", timeout=120, what="the requeue")
    stopped = _status(path)
    assert stopped["status"] == "interrupted" and "requeued" in stopped["interrupt_reason"]
    wait_until(lambda: _status(path)["status"] == "completed", timeout=600, what="the resumed job to complete")
    final = read_json(path)
    assert final["environment"]["world_size"] == 2
    assert final["execution_status"]["slurm"]["restarts"] == 1 and len(final["execution_status"]["resumed_at"]) == 1



SBATCH_PARSE_ERRORS = ("unrecognized option", "is ambiguous", "invalid option", "requires an argument",
                       "doesn't allow an argument", 'Try "sbatch --help"')


def _script(tmp_path: Path, *lines: str) -> Path:
    script = tmp_path / "probe.sh"
    script.write_text("#!/bin/bash\n" + "".join(f"#SBATCH {line}\n" for line in lines) + "true\n")
    return script


def test_allowed_lines_are_what_sbatch_reads_and_abbreviations_are_refused(on_cluster: Cluster, tmp_path):
    from llm_tool.config.sbatch_options import ALLOWED
    from llm_tool.config.slurm import check_extra_line
    from llm_tool.errors import ConfigError

    for _, _, example in ALLOWED.values():  # every allowed option parses (resources this node lacks aside)
        done = on_cluster.run("sbatch", "--test-only", str(_script(tmp_path, example)))
        assert not any(e in done.stderr for e in SBATCH_PARSE_ERRORS), (example, done.stderr)
    for line in ("--arr=0-2", "--no-req", "--open=truncate", "--err=/tmp/x", "--qo=short", "--exp=ALL,X=1"):
        with pytest.raises(ConfigError, match="abbreviation"):
            check_extra_line(line)
    # what `--arr` does once it reaches sbatch: one submission became an array of three jobs
    done = on_cluster.run("sbatch", "--parsable", "--hold", "--output=/dev/null", str(_script(tmp_path, "--arr=0-2")))
    job = done.stdout.strip()
    try:
        assert len(on_cluster.run("squeue", "-h", "-r", "-j", job, "-o", "%i").stdout.split()) == 3
    finally:
        on_cluster.run("scancel", job)


def test_allowed_options_reach_the_job(on_cluster: Cluster, tmp_path, isolated_home, sample_csv, tiny_model, capsys):
    config = _config(tmp_path, sample_csv, tiny_model, "opts")
    _, job = _submit(capsys, isolated_home, str(config), "--sbatch=--hold", "--sbatch=--comment=ablation-3",
                     "--sbatch=--nice=7", "--sbatch=--mail-type=END,FAIL")
    try:
        shown = on_cluster.run("scontrol", "show", "job", job).stdout
        assert "Reason=JobHeldUser" in shown and "Comment=ablation-3" in shown and "Nice=7" in shown
        assert "MailType=END,FAIL" in shown
    finally:
        on_cluster.run("scancel", job)


def _edited_pending_session(tmp_path: Path, config: Path, extra: list[str]) -> tuple[Path, str]:
    """A pending session llm-tool wrote, then edited by hand (or received from someone): new extra lines."""
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session

    path, _ = create_session(SessionStore(), json.loads(config.read_text()), base_dir=tmp_path)
    data = read_json(path)
    data["slurm_config"] = {"extra_sbatch": extra}
    path.write_text(json.dumps(data))
    return path, data["training_session"]["session_id"]


def _probe_job_id(cluster: Cluster) -> int:
    """Submit a held job that does nothing, cancel it, and return its id (the cluster's job counter)."""
    proc = cluster.run("sbatch", "--hold", "--parsable", "--job-name=probe", "--output=/dev/null", "--wrap", "true")
    assert proc.returncode == 0, proc.stderr
    job = proc.stdout.strip().split(";")[0]
    cluster.run("scancel", job)
    return int(job)


def test_an_edited_session_cannot_run_a_command_on_the_node(on_cluster: Cluster, tmp_path, isolated_home,
                                                           sample_csv, tiny_model, capsys):
    pwned = tmp_path / "PWNED"
    payload = f'--export=ALL,"BASH_FUNC_cd%%=() {{ /usr/bin/touch {pwned}; }}"'  # replaces the script's `cd`
    path, sid = _edited_pending_session(tmp_path, _config(tmp_path, sample_csv, tiny_model, "edited"), [payload])
    first = _probe_job_id(on_cluster)
    for extra in ([], ["--yes"]):  # --yes lifts the seal check, never the allow-list
        assert main(["sessions", "resume", sid, "--backend", "slurm", *extra]) == 2
        err = capsys.readouterr().err
        assert "--export is not an option llm-tool passes to sbatch" in err and len(err.strip().splitlines()) == 1
    # job ids are handed out in order: the next one right after the first probe means nothing was submitted in
    # between (no waiting for a job that might start: the queue itself says none was made)
    assert _probe_job_id(on_cluster) == first + 1 and not pwned.exists()
    assert _status(path)["status"] == "pending" and "slurm" not in _status(path)

    path, sid = _edited_pending_session(tmp_path, _config(tmp_path, sample_csv, tiny_model, "held"), ["--hold"])
    assert main(["sessions", "resume", sid, "--backend", "slurm"]) == 2  # allowed, but not written here
    assert "not written by llm-tool for you on this machine" in capsys.readouterr().err
    assert main(["sessions", "resume", sid, "--backend", "slurm", "--yes"]) == 0
    job = _status(path)["slurm"]["job_id"]
    try:
        assert "Reason=JobHeldUser" in on_cluster.run("scontrol", "show", "job", job).stdout
    finally:
        on_cluster.run("scancel", job)


def test_a_sweep_files_own_lines_are_sealed_and_used(on_cluster: Cluster, tmp_path, isolated_home, sample_csv,
                                                     tiny_model, capsys):
    raw = json.loads(_config(tmp_path, sample_csv, tiny_model, "sweepbase").read_text())
    raw["slurm_config"] = {"extra_sbatch": ["--hold", "--comment=from-sweep"]}
    sweep = tmp_path / "held.json"
    sweep.write_text(json.dumps({"base": raw, "grid": {"model_config.learning_rate": [1e-3, 2e-3]}}))
    assert main(["sweep", "start", str(sweep), "--backend", "slurm", "--cpus", "1"]) == 0
    capsys.readouterr()
    jobs = [j["slurm_job_id"] for j in read_json(isolated_home / "logs" / "sweeps" / "held.json")["jobs"]]
    array = jobs[0].split("_")[0]
    try:
        shown = on_cluster.run("scontrol", "show", "job", array).stdout
        assert "Reason=JobHeldUser" in shown and "ArrayTaskId=0-1" in shown and "Comment=from-sweep" in shown
    finally:
        on_cluster.run("scancel", array)
