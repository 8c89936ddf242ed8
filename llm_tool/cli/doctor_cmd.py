"""`llm-tool doctor [--json]`: the environment check, as a table or as JSON."""

from __future__ import annotations

import argparse
import json

from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    doctor = commands.add_parser("doctor", help="check tmux, Python, torch, device, disk, memory and offline models",
                                 description="Check the environment: each line is ok, a warning or a problem "
                                             "with its fix. Exit code 1 when there is a problem.")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.set_defaults(func=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from llm_tool.doctor.checks import run_checks, worst
    from llm_tool.ui.doctor_view import show_checks

    checks = run_checks()
    if args.json:
        print(json.dumps({"status": worst(checks), "checks": [c.to_dict() for c in checks]}, indent=2))
    else:
        show_checks(checks)
    return 1 if worst(checks) == "problem" else 0
