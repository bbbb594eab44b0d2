"""Readers of user-provided descriptor files: `.npy` (N x D, ids from `NAME.ids.txt` or `NAME.txt` beside it),
`.npz` {X, ids}, `.fvecs` (TEXMEX/faiss), `.h5` (/X, /ids; needs h5py) and revisitop `.mat` (X, D x N)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.arrays import read_matrix

SUFFIXES = (".npy", ".npz", ".fvecs", ".h5", ".hdf5", ".mat")


def is_descriptor_file(path: Path) -> bool:
    """True for a file name this module reads."""
    return Path(path).suffix.lower() in SUFFIXES


def _sidecar_ids(path: Path, n: int) -> list[str]:
    for cand in (path.with_suffix(".ids.txt"), path.with_suffix(".txt")):
        if cand.is_file():
            ids = [s for s in cand.read_text().splitlines() if s.strip()]
            if len(ids) != n:
                raise InputError(cand, f"{len(ids)} ids for {n} descriptors in {path.name}")
            return ids
    return [f"{path.stem}:{i}" for i in range(n)]


def read_fvecs(path: Path) -> np.ndarray:
    """TEXMEX .fvecs: per vector an int32 dimension then that many float32."""
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise InputError(path, "empty .fvecs file")
    d = int(raw[0])
    if d <= 0 or raw.size % (d + 1):
        raise InputError(path, "not a .fvecs file (record sizes do not add up)")
    rows = raw.reshape(-1, d + 1)
    if np.any(rows[:, 0] != d):
        raise InputError(path, "not a .fvecs file (mixed dimensions)")
    return rows[:, 1:].view(np.float32).copy()


def read_descriptors(path: str | Path, key: str = "X") -> tuple[np.ndarray, list[str]]:
    """(descriptors (N, D) float32, ids) from a descriptor file; InputError names the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "descriptor file not found")
    suf = path.suffix.lower()
    ids: list[str] | None = None

    def read() -> np.ndarray:
        nonlocal ids
        if suf == ".npy":
            return np.load(path, allow_pickle=False)
        if suf == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if key not in z.files:
                    raise InputError(path, f"no array {key!r} (has {', '.join(z.files)})")
                ids = [str(s) for s in z["ids"]] if "ids" in z.files else None
                return z[key]
        if suf == ".fvecs":
            return read_fvecs(path)
        if suf in (".h5", ".hdf5"):
            try:
                import h5py
            except ImportError:
                raise InputError(path, "reading .h5 needs the h5py package (pip install h5py)") from None
            with h5py.File(path, "r") as f:
                ids = [s.decode() if isinstance(s, bytes) else str(s) for s in f["ids"]] if "ids" in f else None
                return np.asarray(f[key])
        if suf == ".mat":
            from scipy.io import loadmat

            return np.asarray(loadmat(path)[key]).T  # revisitop stores D x N
        raise InputError(path, f"unknown descriptor format {suf} (use {', '.join(SUFFIXES)})")

    x = read_matrix(path, read, "descriptors", "items")
    if ids is None:
        ids = _sidecar_ids(path, len(x))
    if len(ids) != len(x):
        raise InputError(path, f"{len(ids)} ids for {len(x)} descriptors")
    return x, ids
