"""Run a user's own training function `pkg.mod:fn` with a JSON config, as a supervised job (a sweep pane).

`python -m llm_tool.dispatch.user_function --function pkg.mod:fn --config '{"lr": 0.1}' --session FILE` imports
the module (installed, on PYTHONPATH, or in the job's folder: that folder is searched last, so it never shadows an
installed package), calls ``fn(config)`` with the parsed JSON (a dict), and records what the function returns when
it is a JSON mapping (``execution_status.result``). The supervisor around it logs the output, retries and records
the status, as for a training. The function is named by text and the config is JSON: nothing is ever unpickled.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_tool.errors import ConfigError, ExitCode
from llm_tool.python_argv import module_argv
from llm_tool.untrusted import quoted

MODULE = "llm_tool.dispatch.user_function"
FUNCTION_RE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
MAX_CONFIG_BYTES = 64 * 1024
MAX_RESULT_BYTES = 64 * 1024
RESULT_KEY = "result"


def check_function(ref: Any) -> str:
    """``pkg.mod:fn`` (an importable module and a function name in it), else a ConfigError naming the form."""
    if not isinstance(ref, str) or len(ref) > 200 or not FUNCTION_RE.match(ref):
        raise ConfigError(f"function {quoted(str(ref))} must read 'package.module:function' (an importable module "
                          "and a function in it)")
    return ref


def config_text(config: Any) -> str:
    """The config as compact JSON (a mapping of JSON values, at most 64 KiB), else a ConfigError."""
    if not isinstance(config, dict):
        raise ConfigError(f"a function job's config must be a JSON object (a dict), got {type(config).__name__}")
    try:
        text = json.dumps(config, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"a function job's config must hold only JSON values: {exc}") from None
    if len(text.encode()) > MAX_CONFIG_BYTES:
        raise ConfigError(f"a function job's config is larger than {MAX_CONFIG_BYTES // 1024} KiB: pass a file path")
    return text


def function_argv(ref: str, config: dict[str, Any], session_file: Path) -> list[str]:
    """The job's command line (checked again when it runs)."""
    return module_argv(MODULE, "--function", check_function(ref), "--config", config_text(config),
                       "--session", str(session_file))


def load_function(ref: str, search_last: Path) -> Any:
    import importlib

    module_name, _, name = check_function(ref).partition(":")
    if str(search_last) not in sys.path:
        sys.path.append(str(search_last))
    module = importlib.import_module(module_name)
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(f"{ref}: {module_name} has no function {name}")
    return function


def record_result(session_file: Path, result: Any) -> None:
    """A returned JSON mapping (e.g. the final metrics), kept in the session; anything else is ignored."""
    if not isinstance(result, dict):
        return
    try:
        text = json.dumps(result, allow_nan=False, default=str)
    except (TypeError, ValueError):
        return
    if len(text.encode()) > MAX_RESULT_BYTES:
        return
    from llm_tool.sessions.store import SessionStore

    store = SessionStore()  # the supervisor's LLM_TOOL_HOME: the session's own home
    store.update(session_file, lambda meta: meta.execution_status.extra.update({RESULT_KEY: json.loads(text)}))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.splitlines()[0])
    parser.add_argument("--function", required=True, help="package.module:function")
    parser.add_argument("--config", required=True, help="the function's config, a JSON object")
    parser.add_argument("--session", type=Path, help="the job's session file (its result is recorded there)")
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config)
        config_text(config)
        function = load_function(args.function, Path.cwd())
    except (ConfigError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return int(ExitCode.USER_ERROR)
    print(f"running {args.function}({config_text(config)})", flush=True)
    try:
        result = function(config)
    except Exception:  # noqa: BLE001 - the user's code: its traceback goes to the job's log
        traceback.print_exc()
        return int(ExitCode.FAILED)
    if args.session is not None:
        record_result(args.session, result)
    print(f"{args.function} returned {json.dumps(result, default=str)[:500]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
