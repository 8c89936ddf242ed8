"""The environment check as a table with one verdict line (`llm-tool doctor` and the studio's Environment check)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from llm_tool.ui.console import console, safe, success, warning

if TYPE_CHECKING:
    from llm_tool.doctor.checks import Check

STATUS_MARKS = {"ok": "[success]✓ ok[/success]", "warning": "[warning]! warning[/warning]",
                "problem": "[error]✗ problem[/error]"}


def checks_table(checks: list[Check]) -> Table:
    table = Table(title="Environment check", title_style="primary")
    table.add_column("Status", no_wrap=True)
    table.add_column("Check", style="bold")
    table.add_column("Detail", overflow="fold")
    table.add_column("Fix", overflow="fold")
    for check in checks:
        table.add_row(STATUS_MARKS[check.status], safe(check.name), safe(check.detail, 1000),
                      safe(check.fix or "", 1000))
    return table


def show_checks(checks: list[Check]) -> None:
    from llm_tool.doctor.checks import worst

    console.print(checks_table(checks))
    status = worst(checks)
    if status == "ok":
        success("everything needed is here")
    elif status == "warning":
        warning("usable, with the warnings above")
    else:
        warning("fix the problems above before training")
