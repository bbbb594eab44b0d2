"""Run `cvkit ARGS` in this process (no interpreter start per case) with the CLI's own error handling."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    """What one command did: exit code, stdout, stderr (Python-level and fd 2, e.g. OpenCV/FFmpeg)."""

    code: int
    stdout: str
    stderr: str


class _FdCapture:
    """Capture file descriptor 2 (native libraries write there, past sys.stderr) into a temp file."""

    def __enter__(self) -> _FdCapture:
        import tempfile

        self._tmp = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        self.text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()


def invoke(argv: list[str], cwd: Path | None = None) -> Outcome:
    """`cvkit *argv` as the console script runs it (run_guarded around the Typer app), captured."""
    from cvkit_cli._options import STATE, run_guarded
    from cvkit_cli.main import app

    out, err = io.StringIO(), io.StringIO()
    STATE["debug"] = False
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with _FdCapture() as fd, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run_guarded(lambda: app(list(argv), prog_name="cvkit", standalone_mode=False))
            except SystemExit as e:  # what the console script would turn into the exit status
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(old)
    return Outcome(code, out.getvalue(), fd.text + err.getvalue())
