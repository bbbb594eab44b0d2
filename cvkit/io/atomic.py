"""Atomic output files: write to a temp file in the target folder, rename when complete.

An interrupted or failed write leaves no partial file, and an output never replaces an input. Output paths are
checked before any work starts (`check_output`): a folder given as a file, a folder that cannot be written, or
an input given as output is an OutputError (exit 4) that names the user's path, never the hidden temp file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import OutputError


def check_not_input(output: Path, inputs: list[Path]) -> None:
    """Refuse an output path that resolves to one of the inputs (never overwrite an input)."""
    out = Path(output).resolve()
    for p in inputs:
        if Path(p).resolve() == out:
            raise OutputError(f"{output}: output path is the same as an input file")


def _writable_folder(folder: Path, named: Path) -> None:
    """The nearest existing ancestor of `folder` must be a folder this process can create files in."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{named}: cannot create it, {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{named}: cannot write there, folder {probe} is not writable")
    try:  # permissions alone miss read-only mounts and pseudo file systems (/proc), also for root
        fd, tmp = tempfile.mkstemp(prefix=".cvkit-probe.", dir=probe)
    except OSError as e:
        raise OutputError(f"{named}: cannot write there, folder {probe} refuses new files "
                          f"({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)


def check_output(target: str | os.PathLike, inputs: list[Path] | tuple = ()) -> None:
    """Before any work: `target` can be written as a file (not a folder, folder writable, not an input)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name")
    _writable_folder(target.parent, target)
    check_not_input(target, list(inputs))


def check_output_dir(folder: str | os.PathLike) -> None:
    """Before any work: `folder` is (or can be created as) a writable folder for batch outputs."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is a file; batch mode needs an output folder")
    _writable_folder(folder, folder)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside `target`; rename it onto `target` only if the block succeeds."""
    target = Path(target)
    if target.is_dir():  # the folder checks ran before the work (check_output); a failure below names target too
        raise OutputError(f"{target}: is a folder; give a file name")
    suffix = target.suffix if suffix is None else suffix
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{suffix}", dir=target.parent)
    except OSError as e:
        raise OutputError(f"{target}: cannot write ({e.strerror or e})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get normal permissions
        try:
            os.replace(tmp_path, target)
        except OSError as e:
            raise OutputError(f"{target}: cannot write ({e.strerror or e})") from None
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
