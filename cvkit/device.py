"""Device and thread selection: `auto` picks CUDA when available, else CPU."""

from __future__ import annotations

import os

import torch

from .errors import ArgumentError


def select_device(name: str = "auto") -> torch.device:
    """Resolve `auto|cpu|cuda[:N]` to a torch device, failing clearly when CUDA is absent."""
    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ArgumentError("--device cuda requested but no CUDA device is available (use --device cpu)")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise ArgumentError(f"unknown device {name!r} (expected auto, cpu or cuda)")


def available_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def set_threads(n: int | None) -> int:
    """Set torch and OpenCV intra-op threads; None or 0 means all available cores."""
    n = available_cores() if not n else n
    if n < 1:
        raise ArgumentError(f"--threads must be >= 1, got {n}")
    torch.set_num_threads(n)
    try:
        import cv2

        cv2.setNumThreads(n)
    except Exception:  # pragma: no cover - cv2 missing is reported by `cvkit checks`
        pass
    return n
