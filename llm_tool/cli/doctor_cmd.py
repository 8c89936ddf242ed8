"""`llm-tool doctor [--json]`: the environment check, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

STATUS_MARKS = {"ok": "[success]✓ ok[/success]", "warning": "[warning]! warning[/warning]",
                "problem": "[error]✗ problem[/error]"}


def register(commands: Any) -> None:
    doctor = commands.add_parser("doctor", help="check tmux, Python, torch, device, disk, memory and offline models",
                                 description="Check the environment: each line is ok, a warning or a problem "
                                             "with its fix. Exit code 1 when there is a problem.")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.set_defaults(func=run_doctor)


def checks_table(checks: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title="Environment check", title_style="primary")
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", style="bold")
    table.add_column("Detail", overflow="fold")
    table.add_column("Fix", overflow="fold")
    for check in checks:
        table.add_row(STATUS_MARKS[check.status], check.name, check.detail, check.fix or "")
    return table


def show_checks(checks: list[Any]) -> None:
    from llm_tool.doctor.checks import worst
    from llm_tool.ui.console import console, success, warning

    console.print(checks_table(checks))
    status = worst(checks)
    if status == "ok":
        success("everything needed is here")
    elif status == "warning":
        warning("usable, with the warnings above")
    else:
        warning("fix the problems above before training")


def run_doctor(args: argparse.Namespace) -> int:
    from llm_tool.doctor.checks import run_checks, worst

    checks = run_checks()
    if args.json:
        print(json.dumps({"status": worst(checks), "checks": [c.to_dict() for c in checks]}, indent=2))
    else:
        show_checks(checks)
    return 1 if worst(checks) == "problem" else 0
