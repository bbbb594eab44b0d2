"""Atomic output files: write to a temp file in the target folder, rename when complete.

An interrupted or failed write leaves no partial file, and an output never replaces an input.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ArgumentError


def check_not_input(output: Path, inputs: list[Path]) -> None:
    """Refuse an output path that resolves to one of the inputs (never overwrite an input)."""
    out = Path(output).resolve()
    for p in inputs:
        if Path(p).resolve() == out:
            raise ArgumentError(f"{output}: output path is the same as an input file")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside `target`; rename it onto `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get normal permissions
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_text_atomic(target: str | os.PathLike, text: str,
                      check: Callable[[Path], None] | None = None) -> None:
    """Write a whole text file atomically (UTF-8); `check(tmp)` may re-read it and raise before the rename."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        if check is not None:
            check(tmp)
