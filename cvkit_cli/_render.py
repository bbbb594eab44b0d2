"""Shared CLI rendering: JSON on stdout, log lines and rich tables on stderr (one look for every task)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.table import Table

from ._options import err_console


def print_json(*records: Any) -> None:
    """One JSON object per line on stdout (JSON Lines; a single record is one line)."""
    sys.stdout.write("".join(json.dumps(r) + "\n" for r in records))


def stderr_log(quiet: bool, **print_kwargs: Any) -> Callable[..., None] | None:
    """A `log(message)` printing on the stderr console (with these rich print options), or None with --quiet."""
    return None if quiet else functools.partial(err_console.print, **print_kwargs)


def cell(value: Any, digits: int = 4) -> str:
    """A table cell: floats with `digits` decimals, anything else as str."""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, left_title: bool = True
                ) -> None:
    """A rich table on stderr: the first column (names) left-aligned, the others (numbers) right-aligned."""
    table = Table(title=title, title_justify="left" if left_title else "center")
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i else "left")
    for row in rows:
        table.add_row(*row)
    err_console.print(table)


def print_metrics(title: str, metrics: Iterable[tuple[str, Any]], *, digits: int = 4,
                  header: tuple[str, str] = ("metric", "value"), left_title: bool = True) -> None:
    """The metric -> value table of an evaluation on stderr (floats with `digits` decimals)."""
    print_table(title, header, ((name, cell(value, digits)) for name, value in metrics), left_title=left_title)


def print_grid(title: str, first: str, rows: dict[str, dict], columns: Sequence[str], *, digits: int = 3,
               left_title: bool = True) -> None:
    """A table of name -> {column: value} on stderr: a row per name (column `first`), a column per key (floats with
    `digits` decimals, missing values empty)."""
    print_table(title, [first, *columns], ([name, *(cell(r.get(c, ""), digits) for c in columns)]
                                           for name, r in rows.items()), left_title=left_title)
