"""Which extra ``#SBATCH`` options llm-tool passes on: an allow-list, one option per line, each value checked.

sbatch reads options with getopt_long: an unambiguous prefix of a long option selects it (``--arr`` is
``--array``), and an exact name always wins over longer ones (``--gres`` is ``--gres``, not ``--gres-flags``).
So a line is accepted only when its option is *exactly* the full name of an allowed option: every abbreviation
is refused, whatever sbatch version would expand it. Nothing that sets the job's environment (``--export``:
``BASH_FUNC_cd%%=...`` would replace a command of the batch script), its files, working directory, array,
dependencies, requeue or command gets through; short options (``-a``) neither.
"""

from __future__ import annotations

import re

from llm_tool.errors import ConfigError
from llm_tool.untrusted import quoted

_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,64}(,[A-Za-z0-9_.+-]{1,64}){0,15}$")  # qos, partition, account lists
_INT = re.compile(r"^\d{1,6}$")
_MEM = re.compile(r"^\d{1,9}[KMGT]?$")
_TIME = re.compile(r"^(\d+-)?\d{1,4}(:\d{1,2}){0,2}$")
_HOSTS = re.compile(r"^[A-Za-z0-9_.,\[\]-]{1,200}$")  # node1,gpu[01-04]
_GRES = re.compile(r"^[A-Za-z0-9_.:-]{1,64}(,[A-Za-z0-9_.:-]{1,64}){0,15}$")  # gpu:a100:2,shard:1
_GPUS = re.compile(r"^([A-Za-z0-9_.-]{1,32}:)?\d{1,4}$")  # 2 or a100:2
_CONSTRAINT = re.compile(r"^[A-Za-z0-9_.,&|!*\[\]():-]{1,200}$")  # "a100&ib", "[rack1*2&rack2*4]"
_LICENSES = re.compile(r"^[A-Za-z0-9_.@:,|-]{1,200}$")  # matlab:2,ansys@db
_MAIL_USER = re.compile(r"^[A-Za-z0-9_.+-]{1,64}(@[A-Za-z0-9.-]{1,190})?$")
_MAIL_TYPE = re.compile(r"^(NONE|BEGIN|END|FAIL|REQUEUE|ALL|INVALID_DEPEND|STAGE_OUT|TIME_LIMIT(_50|_80|_90)?"
                        r"|ARRAY_TASKS)(,(BEGIN|END|FAIL|REQUEUE|ALL|INVALID_DEPEND|STAGE_OUT"
                        r"|TIME_LIMIT(_50|_80|_90)?|ARRAY_TASKS)){0,12}$")
_BEGIN = re.compile(r"^[A-Za-z0-9:+/T-]{1,40}$")  # now+1hour, 16:00, 2026-12-05T10:00:00
_COMMENT = re.compile(r"^[A-Za-z0-9_.,:+@/-]{1,100}$")
_NICE = re.compile(r"^-?\d{1,5}$")

FLAG = None  # an option without a value
# option -> (value pattern, or FLAG; whether the value may be left out, an example)
ALLOWED: dict[str, tuple[re.Pattern[str] | None, bool, str]] = {
    "qos": (_NAME, False, "--qos=short"),
    "constraint": (_CONSTRAINT, False, "--constraint=a100"),
    "gres": (_GRES, False, "--gres=gpu:a100:2"),
    "reservation": (_NAME, False, "--reservation=course"),
    "mail-type": (_MAIL_TYPE, False, "--mail-type=END,FAIL"),
    "mail-user": (_MAIL_USER, False, "--mail-user=me@example.org"),
    "nodelist": (_HOSTS, False, "--nodelist=gpu[01-02]"),
    "exclude": (_HOSTS, False, "--exclude=node7"),
    "exclusive": (re.compile(r"^(user|mcs)$"), True, "--exclusive"),
    "licenses": (_LICENSES, False, "--licenses=matlab:1"),
    "hold": (FLAG, False, "--hold"),
    "nice": (_NICE, True, "--nice=10"),
    "comment": (_COMMENT, False, "--comment=ablation-3"),
    "begin": (_BEGIN, False, "--begin=now+1hour"),
    "time-min": (_TIME, False, "--time-min=02:00:00"),
    "wckey": (_NAME, False, "--wckey=project1"),
    "contiguous": (FLAG, False, "--contiguous"),
    "mincpus": (_INT, False, "--mincpus=4"),
    "tmp": (_MEM, False, "--tmp=20G"),
    "mem-per-cpu": (_MEM, False, "--mem-per-cpu=4G"),
    "mem-per-gpu": (_MEM, False, "--mem-per-gpu=40G"),
    "cpus-per-gpu": (_INT, False, "--cpus-per-gpu=8"),
    "gpus-per-node": (_GPUS, False, "--gpus-per-node=a100:2"),
    "gpus-per-task": (_GPUS, False, "--gpus-per-task=1"),
    # the same as --partition/--account/--time/--mem/--gpus/--cpus, checked the same way
    "partition": (_NAME, False, "--partition=gpu"),
    "account": (_NAME, False, "--account=mylab"),
    "time": (_TIME, False, "--time=12:00:00"),
    "mem": (_MEM, False, "--mem=16G"),
    "gpus": (_GPUS, False, "--gpus=2"),
    "cpus-per-task": (_INT, False, "--cpus-per-task=4"),
}
# set by llm-tool itself: the job's log, requeue and signal handling depend on them
RESERVED = ("output", "error", "open-mode", "array", "wrap", "requeue", "no-requeue", "parsable", "chdir",
            "job-name", "signal")
# sbatch 22.05's long options (`sbatch --help` plus the ones it does not list), for the messages only: whether a
# line is used never depends on this list (tests/test_slurm_units.py compares it with the installed sbatch)
SBATCH_LONG = (
    "account", "acctg-freq", "array", "batch", "bb", "bbf", "begin", "chdir", "cluster-constraint", "clusters",
    "comment", "constraint", "container", "contiguous", "core-spec", "cores-per-socket", "cpu-freq",
    "cpus-per-gpu", "cpus-per-task", "deadline", "delay-boot", "dependency", "distribution", "error", "exclude",
    "exclusive", "export", "export-file", "extra-node-info", "get-user-env", "gid", "gpu-bind", "gpu-freq", "gpus",
    "gpus-per-node", "gpus-per-socket", "gpus-per-task", "gres", "gres-flags", "help", "hint", "hold",
    "ignore-pbs", "input", "job-name", "kill-on-invalid-dep", "licenses", "mail-type", "mail-user", "mcs-label",
    "mem", "mem-bind", "mem-per-cpu", "mem-per-gpu", "mincpus", "network", "nice", "no-kill", "no-requeue",
    "nodefile", "nodelist", "nodes", "ntasks", "ntasks-per-core", "ntasks-per-gpu", "ntasks-per-node",
    "ntasks-per-socket", "open-mode", "output", "overcommit", "oversubscribe", "parsable", "partition", "power",
    "priority", "profile", "propagate", "qos", "quiet", "reboot", "requeue", "reservation", "signal",
    "sockets-per-node", "spread-job", "switches", "test-only", "thread-spec", "threads-per-core", "time",
    "time-min", "tmp", "uid", "usage", "use-min-nodes", "verbose", "version", "wait", "wait-all-nodes", "wckey",
    "wrap",
)


def _show(value: str) -> str:
    return quoted(value, 60)


def _refusal(name: str) -> str:
    """Why ``--name`` (not exactly an allowed option) is refused, naming what sbatch would read it as."""
    expands = [o for o in SBATCH_LONG if o.startswith(name)] if name else []
    if name in RESERVED:
        return f"--{name} is set by llm-tool itself; remove it"
    if name not in SBATCH_LONG and expands:
        shown = ", ".join(f"--{o}" for o in expands[:4])
        return f"--{name} is an abbreviation (sbatch reads it as {shown}): write allowed options in full"
    return f"--{name} is not an option llm-tool passes to sbatch (allowed: {', '.join(sorted(ALLOWED))})"


def check_sbatch_line(line: str) -> None:
    """Refuse a line that is not exactly one allowed ``--option[=value]`` with a valid value."""
    shown = _show(line)
    if not line.startswith("--"):
        raise ConfigError(f"extra sbatch line {shown} must be text starting with -- (e.g. \"--qos=short\"); "
                          "short options such as -q are not passed on")
    name, has_value, value = line[2:].partition("=")
    if any(ch.isspace() for ch in name) or (name in ALLOWED and any(ch.isspace() for ch in value)):
        raise ConfigError(f"extra sbatch line {shown}: one option per line, no spaces (e.g. \"--qos=short\")")
    if name not in ALLOWED:
        raise ConfigError(f"extra sbatch line {shown}: {_refusal(name)}")
    pattern, optional, example = ALLOWED[name]
    if pattern is None and has_value:
        raise ConfigError(f"extra sbatch line {shown}: --{name} takes no value (write {example})")
    if pattern is not None and not has_value and not optional:
        raise ConfigError(f"extra sbatch line {shown}: --{name} needs a value after '=' (e.g. {example})")
    if pattern is not None and has_value and not pattern.match(value):
        raise ConfigError(f"extra sbatch line {shown}: not a valid value for --{name} (e.g. {example})")
