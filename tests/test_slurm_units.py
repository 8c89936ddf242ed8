"""The Slurm backend without a cluster: the batch script's quoting, option validation, one-line errors."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from llm_tool.cli import main
from llm_tool.config.sbatch_options import ALLOWED, SBATCH_LONG
from llm_tool.config.slurm import SlurmOptions, check_extra_line, options_from_section
from llm_tool.dispatch.slurm_script import ScriptJob, job_command, render_script
from llm_tool.errors import ConfigError
from tests.helpers import sample_rows, session_files, write_config, write_csv

HOSTILE = Path("/tmp/it's a $(touch pwned) `x` folder/session.json")


def test_script_quotes_every_value_and_execs_the_same_entry(tmp_path: Path) -> None:
    options = SlurmOptions(partition="gpu", time="1-00:00:00", gpus=2, cpus=4, mem="16G", account="lab",
                           extra_sbatch=("--qos=short",))
    text = render_script([ScriptJob(HOSTILE, tmp_path / "log $(x).log", resume=True)], options, home=tmp_path,
                         start_dir=tmp_path, python="/usr/bin/python3")
    for line in ("#SBATCH --requeue", "#SBATCH --open-mode=append", "#SBATCH --signal=B:USR1@90",
                 "#SBATCH --partition=gpu", "#SBATCH --time=1-00:00:00", "#SBATCH --gpus=2",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --mem=16G", "#SBATCH --account=lab", "#SBATCH --qos=short"):
        assert line in text.splitlines()
    assert shlex.join(job_command(HOSTILE, resume=True, python="/usr/bin/python3")) in text
    assert 'exec "$@"' in text
    script = tmp_path / "job.sh"
    script.write_text(text.replace('exec "$@"', 'printf "%s\\n" "$@"').replace('exec >>"$LOG" 2>&1', ""))
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    expected = ["/usr/bin/python3", "-m", "llm_tool", "train", "--session", str(HOSTILE), "--resume"]
    assert out.splitlines()[1:] == expected
    assert not (tmp_path / "pwned").exists()


def test_job_command_leaves_room_for_a_wrapper() -> None:
    wrapped = job_command(Path("/s.json"), python="py", wrap=lambda argv: ["torchrun", "--nproc-per-node=2", *argv])
    assert wrapped[:2] == ["torchrun", "--nproc-per-node=2"] and wrapped[-2:] == ["--session", "/s.json"]


@pytest.mark.parametrize("section, message", [
    ({"extra_sbatch": ["qos=short"]}, "must be text starting with --"),
    ({"extra_sbatch": ["--qos=short\n#SBATCH --x"]}, "newline"),
    ({"extra_sbatch": ["--output=/etc/x"]}, "set by llm-tool itself"),
    ({"extra_sbatch": ["--export=ALL,BASH_FUNC_cd%%=()"]}, "not an option llm-tool passes"),
    ({"extra_sbatch": ["--export=ALL,LD_PRELOAD=/tmp/x.so"]}, "not an option llm-tool passes"),
    ({"extra_sbatch": ["--arr=0-9"]}, r"abbreviation \(sbatch reads it as --array\)"),
    ({"extra_sbatch": ["--comment=x --array=0-9"]}, "one option per line, no spaces"),
    ({"extra_sbatch": ["--no-req"]}, "abbreviation"),
    ({"extra_sbatch": ["--open=truncate"]}, "abbreviation"),
    ({"extra_sbatch": ["--err=/etc/passwd"]}, "abbreviation"),
    ({"extra_sbatch": ["--qo=short"]}, "abbreviation"),
    ({"extra_sbatch": ["-a"]}, "must be text starting with --"),
    ({"extra_sbatch": ["--chdir=/"]}, "set by llm-tool itself"),
    ({"extra_sbatch": ["--dependency=afterok:1"]}, "not an option"),
    ({"extra_sbatch": ["--get-user-env"]}, "not an option"),
    ({"extra_sbatch": ["--qos=$(touch${IFS}x)"]}, "not a valid value for --qos"),
    ({"extra_sbatch": ["--mail-user=a`id`"]}, "not a valid value"),
    ({"extra_sbatch": ["--hold=1"]}, "takes no value"),
    ({"extra_sbatch": ["--qos"]}, "needs a value"),
    ({"extra_sbatch": "--qos=short"}, "must be a list"),
    ({"partition": "gpu; rm -rf /"}, "slurm partition"),
    ({"time": "forever"}, "slurm time"),
    ({"gpus": 0}, "positive whole number"),
    ({"queue": "x"}, "unknown key"),
])
def test_bad_slurm_config_is_refused(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        options_from_section(section)


def test_bad_slurm_settings_are_one_line_errors(tmp_path, isolated_home, sample_csv, tiny_model, capsys) -> None:
    data = write_csv(tmp_path / "d.csv", sample_rows(sample_csv, 20))
    config = write_config(tmp_path / "c.json", data, tiny_model)
    assert main(["train", str(config), "--partition", "gpu"]) == 2
    assert "add --backend slurm" in capsys.readouterr().err
    assert main(["train", str(config), "--backend", "slurm", "--sbatch=qos=short"]) == 2
    assert "starting with --" in capsys.readouterr().err
    raw = json.loads(config.read_text())
    config.write_text(json.dumps({**raw, "slurm_config": {"extra_sbatch": ["--qos=a\nb"]}}))
    assert main(["train", str(config), "--backend", "slurm"]) == 2
    assert "newline" in capsys.readouterr().err
    assert session_files(isolated_home) == []  # nothing created


def test_slurm_config_section_is_kept_and_merged(tmp_path, isolated_home, sample_csv, tiny_model) -> None:
    from llm_tool.dispatch.slurm import session_options
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session

    data = write_csv(tmp_path / "d.csv", sample_rows(sample_csv, 20))
    raw = json.loads(write_config(tmp_path / "c.json", data, tiny_model).read_text())
    raw["slurm_config"] = {"partition": "cpu", "time": "02:00:00", "extra_sbatch": ["--qos=short"]}
    store = SessionStore()
    path, _ = create_session(store, raw, base_dir=tmp_path)
    chosen = session_options(store.read(path), SlurmOptions(partition="gpu", extra_sbatch=("--nice=10",)))
    assert chosen.sbatch_lines() == ["--partition=gpu", "--time=02:00:00", "--qos=short", "--nice=10"]


@pytest.mark.parametrize("local_rank", [None, "1"])
def test_only_the_launcher_of_a_job_handles_the_slurm_job(monkeypatch, isolated_home, tmp_path, local_rank):
    """Ranks of a torchrun group inherit the job's environment; if they requeued the job too, Slurm would stop the
    group under its launcher and the session's record would race (seen as a lost "requeued" reason)."""
    from llm_tool.dispatch import seam, slurm_job
    from llm_tool.sessions import SessionStore

    store = SessionStore()
    monkeypatch.setenv("LLM_TOOL_SLURM", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    if local_rank:
        monkeypatch.setenv("LOCAL_RANK", local_rank)
    handled: list[str] = []
    monkeypatch.setattr(slurm_job, "run_in_job", lambda *a, **k: handled.append("slurm job") or "job")
    monkeypatch.setattr(seam, "_run_here", lambda *a, **k: handled.append("here") or "here")
    monkeypatch.setattr(store, "read", lambda path: None)
    import llm_tool.dispatch.torchrun as torchrun

    monkeypatch.setattr(torchrun, "default_nproc", lambda meta, resume: 1)
    monkeypatch.setattr(torchrun, "check_world_size", lambda meta, n, resume: None)
    seam.launch(store, tmp_path / "session.json", "foreground")
    assert handled == (["here"] if local_rank else ["slurm job"])


@pytest.mark.parametrize("line", [example for _, _, example in ALLOWED.values()] + ["--exclusive=user", "--nice"])
def test_every_allowed_option_has_a_valid_example(line: str) -> None:
    check_extra_line(line)


def _help_options(tmp_path: Path) -> set[str]:
    if shutil.which("sbatch") is None:
        pytest.skip("sbatch is not installed")
    conf = tmp_path / "slurm.conf"  # sbatch --help wants a configuration, not a controller
    conf.write_text("ClusterName=x\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1\n"
                    "PartitionName=p Nodes=localhost Default=YES\n")
    done = subprocess.run(["sbatch", "--help"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "SLURM_CONF": str(conf)}, check=False)
    return set(re.findall(r"--([a-z][a-z-]*)", done.stdout))


def test_the_option_lists_match_the_installed_sbatch(tmp_path: Path) -> None:
    """The allowed options are real sbatch options, and every long option sbatch lists is known (for the messages
    naming what an abbreviation would expand to)."""
    listed = _help_options(tmp_path)
    assert set(ALLOWED) <= listed
    assert listed <= set(SBATCH_LONG)


def _section(store, path: Path) -> dict:
    return store.read(path).extra["slurm_config"]


def test_only_lines_sealed_on_this_machine_are_used_without_yes(tmp_path, isolated_home, sample_csv,
                                                                tiny_model) -> None:
    from llm_tool.config.slurm_seal import key_path
    from llm_tool.dispatch.slurm import session_options
    from llm_tool.sessions import SessionStore
    from llm_tool.sessions.create import create_session

    data = write_csv(tmp_path / "d.csv", sample_rows(sample_csv, 20))
    raw = json.loads(write_config(tmp_path / "c.json", data, tiny_model).read_text())
    raw["slurm_config"] = {"partition": "cpu", "extra_sbatch": ["--qos=short"]}
    store = SessionStore()
    path, _ = create_session(store, raw, base_dir=tmp_path)
    assert session_options(store.read(path), None).sbatch_lines() == ["--partition=cpu", "--qos=short"]
    assert key_path().stat().st_mode & 0o777 == 0o600 and not paths_within(key_path(), isolated_home)

    def edit(change) -> None:
        data = json.loads(path.read_text())
        change(data["slurm_config"])
        path.write_text(json.dumps(data))

    edit(lambda section: section["extra_sbatch"].append("--hold"))  # hand-edited: the seal no longer matches
    with pytest.raises(ConfigError, match=r"not written by llm-tool for you on this machine.*--yes"):
        session_options(store.read(path), SlurmOptions())
    assert session_options(store.read(path), SlurmOptions(accept_unsealed=True)).extra_sbatch == ("--qos=short",
                                                                                                    "--hold")
    edit(lambda section: section.pop("seal"))
    with pytest.raises(ConfigError, match="--yes"):
        session_options(store.read(path), None)
    key_path().unlink()  # another machine (another key): the seal of the first does not verify
    path2, _ = create_session(store, raw, base_dir=tmp_path)
    sealed = _section(store, path2)
    key_path().unlink()
    with pytest.raises(ConfigError, match="--yes"):
        session_options(store.read(path2), None)
    assert "seal" in sealed
    edit(lambda section: section.update(extra_sbatch=["--export=ALL,X=1"]))
    with pytest.raises(ConfigError, match="--export is not an option"):  # --yes never lifts the allow-list
        session_options(store.read(path), SlurmOptions(accept_unsealed=True))


def test_a_seal_key_others_can_read_is_refused(isolated_home) -> None:
    from llm_tool.config.slurm_seal import is_sealed, key_path, seal

    sealed = seal({"extra_sbatch": ["--qos=a"]})
    assert is_sealed(sealed) and not is_sealed({**sealed, "extra_sbatch": ["--qos=b"]})
    key_path().chmod(0o644)
    with pytest.raises(ConfigError, match="readable or writable by others"):
        is_sealed(sealed)


def paths_within(path: Path, folder: Path) -> bool:
    return folder.resolve() in path.resolve().parents


def test_the_job_never_imports_an_llm_tool_folder_lying_in_its_start_folder(tmp_path: Path) -> None:
    """`python -m` puts the working folder first on sys.path; the job's is the config's folder: -P leaves it out."""
    import sys

    fake = tmp_path / "llm_tool"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(f"open({str(tmp_path / 'PWNED')!r}, 'w')\n")
    argv = job_command(tmp_path / "s.json")
    if sys.version_info < (3, 11):
        pytest.skip("python -P needs 3.11")
    assert argv[1:3] == ["-P", "-m"]
    subprocess.run([*argv[:4], "--version"], cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert not (tmp_path / "PWNED").exists()


def test_a_log_folder_slurm_would_rewrite_is_refused(tmp_path: Path) -> None:
    from llm_tool.dispatch.slurm import _sbatch
    from llm_tool.errors import SlurmError

    with pytest.raises(SlurmError, match="% or"):
        _sbatch(tmp_path / "x.sbatch", "llm-tool-x", tmp_path / "home%u" / "logs" / "x.log")
