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
    long: Annotated[bool, typer.Option("--long", "-l", help="Also show descriptions and all card metrics.")] = False,
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
    cols = ("task", "model", "weights", "metrics (card)" if long else "headline (card)") + \
        (("description",) if long else ())
    for col in cols:
        table.add_column(col, overflow="fold")
    for r in rows:
        shown = r["metrics"] if long else [r["headline"]] if r["headline"] else []
        metrics = "; ".join(f"{m['metric']} {_fmt(m['value'])} ({m['data'] if long else _short(m['data'])})"
                            for m in shown)
        weights = r["weights"] if long else r["weights"].split(":")[0]
        name = r["name"] + (" (default)" if r["default"] else "")
        table.add_row(r["task"], name, weights, metrics, *((r["description"],) if long else ()))
    err_console.print(table)


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def register(app: typer.Typer) -> None:
    """Attach `cvkit models`."""
    app.command("models", help="List shipped and built-in models with their card metrics.\n\n"
                               "Example: cvkit models track --json | jq .name")(models_command)


def _short(data: str) -> str:
    """The first two words of a metric's data description (which data the number is on, at a glance)."""
    words = str(data).split("(")[0].replace("`", "").replace(",", " ").split()
    return " ".join(words[:2])
