"""A command group with a default sub-command: `cvkit TASK INPUT ...` runs `cvkit TASK DEFAULT INPUT ...`, while
`cvkit TASK VERB ...` runs the verb (`reid-cluster crops`, `search-expand index`)."""

from __future__ import annotations

from pathlib import Path

import click
from typer.core import TyperGroup


def default_group(default: str) -> type[TyperGroup]:
    """A TyperGroup class that hands a command line not starting with a verb (or --help) to the sub-command
    `default`. A first word that is both a verb and an existing path (a folder named `crops`) is the verb only when
    a non-option word follows it."""

    class DefaultGroup(TyperGroup):
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            if args and args[0] not in ctx.help_option_names and not self._is_verb(args):
                args = [default, *args]
            return super().parse_args(ctx, args)

        def _is_verb(self, args: list[str]) -> bool:
            if args[0] not in self.commands:
                return False
            return not Path(args[0]).exists() or (len(args) > 1 and not args[1].startswith("-"))

    return DefaultGroup
