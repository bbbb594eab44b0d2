"""Helpers shared by the CLI tests: run the real app in-process."""

from __future__ import annotations

import contextlib
import io
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from cvkit.errors import ModelError
from cvkit_cli._options import run_guarded

ROOT = Path(__file__).resolve().parents[2]


def _in_process(args: tuple[object, ...], stderr: io.StringIO | None, cwd: Path | None) -> tuple[int, str]:
    """Run the real app in this process as the console script would: (exit code, stdout); stderr goes to `stderr`
    when given. torch's thread count and --debug are restored after."""
    from cvkit_cli._options import STATE
    from cvkit_cli.main import app

    argv = [str(a) for a in args]
    out = io.StringIO()
    threads, debug = torch.get_num_threads(), STATE["debug"]
    try:
        with contextlib.redirect_stdout(out), contextlib.chdir(cwd or ROOT), \
                contextlib.redirect_stderr(stderr) if stderr is not None else contextlib.nullcontext():
            code = run_guarded(lambda: app(argv, standalone_mode=False))
    finally:
        torch.set_num_threads(threads)
        STATE["debug"] = debug
    return code, out.getvalue()


def cli(*args: object) -> tuple[int, str]:
    """Run the real app in-process; returns (exit code, stdout) and leaves stderr to pytest's capsys."""
    return _in_process(args, None, None)


def cvkit(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `cvkit ARGS` in-process (exit code, stdout, stderr, like a finished subprocess), without paying the
    import of torch and the app again for every call."""
    err = io.StringIO()
    code, out = _in_process(args, err, cwd)
    return subprocess.CompletedProcess([str(a) for a in args], code, out, err.getvalue())


META = torch.device("meta")


def probe_devices(monkeypatch: pytest.MonkeyPatch, loaders: dict[str, tuple[str, Callable[..., Any]]]) -> dict:
    """`--device X` resolves to the meta device (recorded as got["asked"] = X); each loader `key: (dotted path,
    pick)` is replaced by one that records `pick(*args, **kwargs)` (the device it was given) as got[key] and stops
    the command with exit 5."""
    got: dict = {}

    def select_device(name: str = "auto") -> torch.device:
        got["asked"] = name
        return META

    def stopper(key: str, pick: Callable[..., Any]) -> Callable[..., None]:
        def stop(*args: Any, **kwargs: Any) -> None:
            got[key] = pick(*args, **kwargs)
            raise ModelError("stop here")
        return stop

    monkeypatch.setattr("cvkit.device.select_device", select_device)
    for key, (target, pick) in loaders.items():
        monkeypatch.setattr(target, stopper(key, pick))
    return got
