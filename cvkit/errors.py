"""Errors with the exit codes documented in DESIGN.md section 3, so the CLI maps them 1:1."""

from __future__ import annotations


class CvkitError(Exception):
    """Base class: a user-facing problem with a one-line message and an exit code."""

    exit_code = 1


class InputError(CvkitError):
    """Unreadable or invalid input file (exit 3); the message names the file."""

    exit_code = 3

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ArgumentError(CvkitError):
    """Invalid argument value that the option parser could not check (exit 4)."""

    exit_code = 4


class ModelError(CvkitError):
    """Model or weights unavailable or incompatible (exit 5)."""

    exit_code = 5


class BatchError(CvkitError):
    """A batch finished but some items failed (exit 6); the others are complete."""

    exit_code = 6

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{item}: {why}" for item, why in failures)
        super().__init__(f"{len(failures)} item(s) failed: {lines}")
        self.failures = failures


class Interrupted(BaseException):  # noqa: N818 - a signal, not an error: `except Exception` must not catch it
    """SIGINT, SIGTERM or SIGHUP arrived: unwinds like Ctrl-C (temp files removed), exit 128 + signal number."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(signal.Signals(signum).name)


_PENDING: list[int] = []  # signals whose Interrupted was raised but may have been swallowed (see raise_pending)


def interrupt(signum: int) -> None:
    """The signal handler's action: remember the signal, then raise Interrupted. Raised inside a finalizer or
    `__del__` (a PDF page released by the garbage collector), Python prints and drops it; `raise_pending` at the
    next safe point raises it again."""
    _PENDING.append(signum)
    raise Interrupted(signum)


def raise_pending() -> None:
    """Raise Interrupted for a signal that arrived and was not yet handled (a no-op otherwise)."""
    if _PENDING:
        raise Interrupted(_PENDING[-1])


def clear_pending() -> None:
    """Forget arrived signals: the command that received them has handled them (or is about to start)."""
    _PENDING.clear()


class OutputError(ArgumentError):
    """An output path that cannot be written (a folder, an unwritable folder, an input): exit 4, path named."""
