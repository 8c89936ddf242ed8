"""The sbatch script of a session (or of a sweep's job array), written by us with every value shell-quoted."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_tool.config.slurm import SlurmOptions
from llm_tool.python_argv import module_argv

SLURM_ENV = "LLM_TOOL_SLURM"  # set by the script: `llm-tool train --session` runs as a Slurm job (requeues itself)
SIGNAL_LINE = "--signal=B:USR1@90"  # USR1 to the batch shell (our exec'd Python) 90 s before the time limit
Wrapper = Callable[[list[str]], list[str]]  # e.g. torchrun around the training command (added later)


@dataclass(frozen=True)
class ScriptJob:
    """One session the script can run: its file, its log, and whether the first run resumes."""

    session_file: Path
    log_file: Path
    resume: bool = False


def job_command(session_file: Path, *, resume: bool = False, python: str | None = None,
                wrap: Wrapper | None = None) -> list[str]:
    """The command a job runs: the same `llm-tool train --session FILE` entry as tmux, optionally wrapped."""
    argv = module_argv("llm_tool", "train", "--session", str(session_file), python=python)  # -P: see python_argv
    if resume:
        argv.append("--resume")
    return wrap(argv) if wrap is not None else argv


def sbatch_argv(script: Path, *, name: str, output: Path, array: str | None = None) -> list[str]:
    """The sbatch call (no shell): job name, output file and array spec go on the command line, not in the file."""
    argv = ["sbatch", "--parsable", f"--job-name={name}", f"--output={output}"]
    if array is not None:
        argv.append(f"--array={array}")
    return [*argv, str(script)]


def render_script(jobs: Sequence[ScriptJob], options: SlurmOptions, *, home: Path, start_dir: Path,
                  wrap: Wrapper | None = None, python: str | None = None) -> str:
    """A bash batch script: fixed #SBATCH lines, the options, then `exec` of the job's command.

    Array task N runs ``jobs[N]`` (a single session is task 0). The command is exec'd so that Slurm's signals
    (USR1 before the time limit, TERM on preemption) reach the Python process itself.
    """
    lines = ["#!/bin/bash", "# written by llm-tool: one training session per (array) task",
             "#SBATCH --requeue", "#SBATCH --open-mode=append", f"#SBATCH {SIGNAL_LINE}"]
    lines += [f"#SBATCH {line}" for line in options.sbatch_lines()]
    lines += ["set -u",
              f"export LLM_TOOL_HOME={shlex.quote(str(home))}",
              f"export {SLURM_ENV}=1",
              "export LLM_TOOL_SUPERVISED=1  # stdout and stderr are the session log already",
              "export PYTHONUNBUFFERED=1",
              f"cd {shlex.quote(str(start_dir))} || exit 2",
              'case "${SLURM_ARRAY_TASK_ID:-0}" in']
    for index, job in enumerate(jobs):
        command = shlex.join(job_command(job.session_file, resume=job.resume, python=python, wrap=wrap))
        lines.append(f"  {index}) LOG={shlex.quote(str(job.log_file))}; set -- {command} ;;")
    lines += ['  *) echo "llm-tool: no session for array task ${SLURM_ARRAY_TASK_ID:-0}" >&2; exit 2 ;;',
              "esac",
              'exec >>"$LOG" 2>&1',
              'echo "[llm-tool] Slurm job ${SLURM_JOB_ID:-?} on $(hostname) (restart ${SLURM_RESTART_COUNT:-0})"',
              'exec "$@"', ""]
    return "\n".join(lines)
