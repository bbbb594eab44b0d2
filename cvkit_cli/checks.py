"""`cvkit checks`: report the environment and exit non-zero when something is broken."""

from __future__ import annotations

import json
import sys

import typer
from rich.table import Table

from ._options import JsonOpt, err_console


def checks_command(json_out: JsonOpt = False) -> None:
    """Check torch, device, OpenCV build, backbone weights and shipped assets."""
    from cvkit.checks import run_checks

    results = run_checks()
    if json_out:
        for r in results:
            sys.stdout.write(json.dumps(r) + "\n")
    else:
        table = Table(title="cvkit checks", title_justify="left")
        for col in ("check", "status", "detail"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(r["check"], "[green]ok[/]" if r["ok"] else "[red]FAIL[/]", r["detail"])
        err_console.print(table)
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach `cvkit checks`."""
    app.command("checks", help="Report torch, device, OpenCV build, backbone weights and asset integrity; "
                               "exits 1 when something is broken.\n\nExample: cvkit checks --json")(checks_command)
