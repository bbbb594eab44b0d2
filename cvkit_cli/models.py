"""`cvkit models`: shipped and built-in models with their cards' headline numbers."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ._options import JsonOpt, err_console


def models_command(
    task: Annotated[str | None, typer.Argument(help="Only this task (e.g. track).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List models: name, task, whether weights are available, and the card's metrics."""
    from cvkit.models import list_models

    rows = [r for r in list_models() if task is None or r["task"] == task]
    if json_out:
        for r in rows:
            sys.stdout.write(json.dumps(r) + "\n")
        return
    table = Table(title="cvkit models", title_justify="left")
    for col in ("task", "model", "weights", "metrics (card)", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        metrics = "; ".join(f"{m['metric']} {m['value']:.3f} on {m['data']}" for m in r["metrics"])
        table.add_row(r["task"], r["name"], r["weights"], metrics, r["description"])
    err_console.print(table)


def register(app: typer.Typer) -> None:
    """Attach `cvkit models`."""
    app.command("models", help="List shipped and built-in models with their card metrics.\n\n"
                               "Example: cvkit models track --json | jq .name")(models_command)
