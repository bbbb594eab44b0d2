"""Flow files: Middlebury `.flo` (magic 202021.25, width, height, interleaved float32 u, v) and NumPy `.npy`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path

FLO_MAGIC = 202021.25


def write_flow(path: str | Path, flow: np.ndarray) -> None:
    """Write an (H, W, 2) float flow (u = x displacement, v = y) atomically as .flo or .npy (by suffix)."""
    path = Path(path)
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, flow)
        else:
            with open(tmp, "wb") as f:
                np.array([FLO_MAGIC], np.float32).tofile(f)
                np.array([flow.shape[1], flow.shape[0]], np.int32).tofile(f)
                np.ascontiguousarray(flow).tofile(f)


def read_flow(path: str | Path) -> np.ndarray:
    """Read a .flo or .npy flow -> (H, W, 2) float32; InputError on a malformed file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
        if arr.ndim != 3 or arr.shape[2] != 2:
            raise InputError(path, f"expected an (H, W, 2) array, got {arr.shape}")
        return arr.astype(np.float32)
    with open(path, "rb") as f:
        magic = np.fromfile(f, np.float32, 1)
        if magic.size != 1 or magic[0] != np.float32(FLO_MAGIC):
            raise InputError(path, "not a Middlebury .flo file (bad magic number)")
        wh = np.fromfile(f, np.int32, 2)
        if wh.size != 2 or wh.min() <= 0:
            raise InputError(path, "bad .flo header")
        data = np.fromfile(f, np.float32, int(wh[0]) * int(wh[1]) * 2)
    if data.size != wh[0] * wh[1] * 2:
        raise InputError(path, "truncated .flo file")
    return data.reshape(int(wh[1]), int(wh[0]), 2)
