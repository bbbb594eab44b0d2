"""Helpers shared by the CLI tests: run the real app in-process."""

from __future__ import annotations

import contextlib
import io

from cvkit_cli._options import run_guarded


def cli(*args: object) -> tuple[int, str]:
    """Run the real app in-process; returns (exit code, stdout)."""
    from cvkit_cli.main import app

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_guarded(lambda: app([str(a) for a in args], standalone_mode=False))
    return code, out.getvalue()
