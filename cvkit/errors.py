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
