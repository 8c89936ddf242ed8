"""tmux dispatch pieces that need no tmux server: names, argument escaping, retry policy, environment, logs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from llm_tool.dispatch import environment
from llm_tool.dispatch.jobs import tail_lines
from llm_tool.dispatch.names import auto_name, is_tool_name, sanitize, unique_name, user_name
from llm_tool.dispatch.retry_policy import backoff_delay, classify, normalise
from llm_tool.dispatch.supervisor import JobSpec, parse_args
from llm_tool.dispatch.tmux_server import attach_argv, attach_hint, escape_arg, escape_format
from llm_tool.errors import TmuxError
from llm_tool.python_argv import module_argv

SUPERVISOR = module_argv("llm_tool.dispatch.supervisor")


def test_names_are_clean_prefixed_and_unique() -> None:
    assert sanitize("cfg.v2:final run") == "cfg_v2_final_run"
    assert sanitize("..;$") == "run"
    assert auto_name("c;f$g.v2", datetime(2026, 3, 4, 5, 6)) == "llmtool-c_f_g_v2-0304_0506"
    assert user_name("my run.1") == "llmtool-my_run_1"
    assert user_name("llmtool-x") == "llmtool-x"
    with pytest.raises(TmuxError):
        user_name("  ")
    taken = {"llmtool-a", "llmtool-a-2"}
    assert unique_name("llmtool-a", taken.__contains__) == "llmtool-a-3"
    assert unique_name("llmtool-b", taken.__contains__) == "llmtool-b"
    assert is_tool_name("llmtool-a") and not is_tool_name("llmtool") and not is_tool_name("scratch")


def test_tmux_arguments_are_escaped_and_attach_is_exact() -> None:
    assert escape_arg("dir;") == "dir\\;"
    assert escape_arg("a;b") == "a;b"
    assert escape_arg("x\\;") == "x\\\\;"  # tmux turns `\;` back into `;`, so the backslash survives
    assert escape_format("/tmp/#{x}") == "/tmp/##{x}"
    assert attach_argv("llmtool-a", "sock") == ["tmux", "-L", "sock", "attach-session", "-t", "=llmtool-a"]
    assert attach_argv("llmtool-a", "sock", switch=True)[3] == "switch-client"
    assert attach_hint("llmtool-a", "my sock") == "tmux -L 'my sock' attach -t '=llmtool-a'"


@pytest.mark.parametrize(("returncode", "by_us", "kind", "retry"), [
    (0, False, "completed", False),
    (1, False, "crashed", True),
    (2, False, "user_error", False),
    (130, False, "interrupted", False),
    (-signal.SIGKILL, False, "killed", True),
    (137, False, "killed", True),
    (-signal.SIGTERM, True, "interrupted", False),
    (1, True, "interrupted", False),
    (3, False, "other", False),
])
def test_only_transient_endings_are_retried(returncode: int, by_us: bool, kind: str, retry: bool) -> None:
    ending = classify(returncode, stopped_by_us=by_us)
    assert (ending.kind, ending.retryable) == (kind, retry)


def test_exit_codes_and_backoff() -> None:
    assert normalise(-9) == (137, "SIGKILL")
    assert normalise(2) == (2, None)
    assert [backoff_delay(n, 5) for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff_delay(20, 5) == 300


def test_pane_environment_keeps_secrets_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"PATH": "/bin", "HF_HOME": "/hf", "HF_TOKEN": "secret", "CUDA_VISIBLE_DEVICES": "1", "TMUX": "x,1,0",
           "RANDOM_THING": "1", "LLM_TOOL_HOME": "/h", "WANDB_API_KEY": "k"}
    pane = environment.pane_environment(env)
    assert pane == {"PATH": "/bin", "HF_HOME": "/hf", "CUDA_VISIBLE_DEVICES": "1", "LLM_TOOL_HOME": "/h"}
    path = environment.write_env_file(tmp_path / "e.json", env)
    assert path.stat().st_mode & 0o777 == 0o600
    saved = environment.read_env_file(path)
    assert not path.exists()
    assert saved is not None and saved["HF_TOKEN"] == "secret" and "TMUX" not in saved
    monkeypatch.setenv("TMUX", "/tmp/ours,1,0")
    child = environment.child_environment(saved, home=tmp_path)
    assert child["TMUX"] == "/tmp/ours,1,0" and child["LLM_TOOL_SUPERVISED"] == "1"
    assert child["LLM_TOOL_HOME"] == str(tmp_path) and child["RANDOM_THING"] == "1"


def test_supervisor_command_line_round_trips(tmp_path: Path) -> None:
    spec = JobSpec(session_file=tmp_path / "a b;" / "s.json", home=tmp_path, command=["echo", "--", "$x;"],
                   resume=True, max_retries=3, timeout_hours=0.5, grace_seconds=7, backoff_seconds=1.5,
                   cwd=tmp_path / "c'd", log_file=tmp_path / "l.log")
    argv = spec.to_argv()
    assert argv[:len(SUPERVISOR)] == SUPERVISOR  # python -P -m ...: the folder is not on sys.path
    parsed = parse_args(argv[len(SUPERVISOR):])
    assert parsed == spec


def test_tail_lines_drops_escapes_and_redraws(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"first\r\n\x1b[32mgreen\x1b[0m\nbar 10%\rbar 50%\rbar 90%\n\n  \n")
    assert tail_lines(log, 5) == ["first", "green", "bar 90%"]
    assert tail_lines(tmp_path / "missing.log") == []


def test_tmux_cli_imports_nothing_heavy() -> None:
    code = ("import sys; from llm_tool.cli import build_parser; build_parser(); "
            "import llm_tool.dispatch.jobs, llm_tool.dispatch.tmux_launch, llm_tool.dispatch.stop; "
            "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'datasets', 'sklearn', 'rich', "
            "'questionary') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
